"""Schemathesis against /api/v1/openapi.json, in process (WSGI, no network), with the real
services behind the gateway (RabbitMQ vhost + SecantusDB of this module).

Every operation is fuzzed twice, with an admin token and without one, with a bounded number
of examples (positive and negative data), and every response must:
- not be a 5xx (`not_a_server_error`);
- have a documented status code (`status_code_conformance`) and content type
  (`content_type_conformance`: errors are application/problem+json);
- match its documented schema (`response_schema_conformance`).

Half the cases with path parameters name resources that exist (demo data plus a post, a tip,
a media file and a subscription made here), so the fuzz reaches past 404.

A failure prints the request that reproduces it (as a curl command) with the response.
Tune with FUZZ_MAX_EXAMPLES (default 10) and FUZZ_SEED; FUZZ_COVERAGE=1 adds schemathesis'
coverage phase (every boundary case, a few minutes); FUZZ_REPORT=1 with -s prints the
statuses each operation answered.
"""
import collections
import io
import itertools
import os
import warnings

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from gateway.app import create_app
from tests.conftest import JWT_SECRET, login
from tests.support import environment

pytestmark = pytest.mark.integration

DEMO_PASSWORD = "demo-password-123"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
SEED = int(os.environ.get("FUZZ_SEED", "20240607"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ENV = {
    # The webhooks are configured, so the fuzzer reaches their signature checks (not the 404 of a webhook that is off).
    "ZALO_APP_ID": "4321987650", "ZALO_OA_SECRET_KEY": "zalo-oa-secret-for-fuzz",
    "FACEBOOK_APP_SECRET": "facebook-app-secret-for-fuzz", "FACEBOOK_VERIFY_TOKEN": "fb-verify-for-fuzz",
}


@pytest.fixture(scope="module")
def stack(module_stack):
    with environment(ENV):
        try:
            module_stack.start("groups", "posts", "tips", "notify")
        except Exception as exc:  # noqa: BLE001  (notify is being wired: fuzz the rest rather than nothing)
            warnings.warn(f"notify did not start ({exc!r}): fuzzing without it")
            module_stack.start("groups", "posts", "tips")
        module_stack.rpc.groups.load_demo_data("city", DEMO_PASSWORD, "http://127.0.0.1:8900")
        module_stack.app = module_stack.client.application
        # The per-address rate limit would turn most public-tip cases into 429 before the service sees them.
        module_stack.app.extensions["public_limits"].enabled = False
        module_stack.admin = login(module_stack.client, "admin", "admin-password-for-tests")
        module_stack.known = known_resources(module_stack.client, module_stack.admin)
        GATEWAY.target = module_stack.app
        yield module_stack
        GATEWAY.target = None


class Gateway:
    """The WSGI app schemathesis calls: the module stack's gateway once `stack` has started it.

    The schema is loaded at import (so every operation is a test of its own) from a gateway
    that only serves the OpenAPI document; it does not depend on the broker.
    """

    def __init__(self):
        self.spec_only = create_app({"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                                     "JWT_SECRET": JWT_SECRET})
        self.target = None

    def __call__(self, environ, start_response):
        return (self.target or self.spec_only)(environ, start_response)


GATEWAY = Gateway()
CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    "phases": {"examples": {"enabled": True}, "fuzzing": {"enabled": True},
               # The coverage phase ignores max-examples (it makes every boundary case): too slow for
               # every run; FUZZ_COVERAGE=1 turns it on for a deep one.
               "coverage": {"enabled": bool(os.environ.get("FUZZ_COVERAGE"))}, "stateful": {"enabled": False}},
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none", "no-shrink": True},
})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", GATEWAY, config=CONFIG)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def known_resources(client, admin):
    """Ids of things that exist, by path parameter name: half the cases aim at them (`aim`)."""
    def ok(response, status=200):
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        return response.get_json()

    known = {"unit_id": "catp"}
    channels = ok(client.get("/api/v1/channels?limit=1&unit_id=ca-ninh-khanh", headers=admin))
    known["channel_id"] = channels["items"][0]["id"]
    known["faq_id"] = ok(client.get("/api/v1/faq?limit=1", headers=admin))["items"][0]["id"]
    known["post_id"] = ok(client.post("/api/v1/posts", headers=admin, json={
        "kind": "news", "title": "Cảnh báo lừa đảo qua điện thoại", "body": "Người dân cảnh giác.",
        "unit": "catp", "audience": {"units": ["ca-ninh-khanh"]}}), 201)["id"]
    receipt = ok(client.post("/api/v1/public/tips",
                             json={"text": "Có người lạ đột nhập nhà trọ ở phường Ninh Khánh"}), 202)
    known["code"], known["secret"] = receipt["tip_code"], receipt["secret"]
    tips = ok(client.get(f"/api/v1/tips?text={receipt['tip_code']}", headers=admin))["items"]
    if tips:
        known["tip_id"] = tips[0]["id"]
    known["media_id"] = ok(client.post("/api/v1/media", headers=admin, content_type="multipart/form-data",
                                       data={"file": (io.BytesIO(PNG), "a.png", "image/png")}), 201)["media_id"]
    known["subscription_id"] = ok(client.post("/api/v1/subscriptions", headers=admin, json={
        "unit_id": "ca-ninh-khanh", "event_pattern": "tips.*", "target_channel_id": known["channel_id"]}), 201)["id"]
    for name, url in (("delivery_id", "/api/v1/deliveries?limit=1"), ("task_id", "/api/v1/relay-tasks?limit=1")):
        response = client.get(url, headers=admin)
        if response.status_code == 200 and response.get_json()["items"]:
            known[name] = response.get_json()["items"][0]["id"]
    return known


_aimed = itertools.count()


def aim(case, known):
    """Every other case with path parameters names resources that exist, so the fuzz gets past 404."""
    if not case.path_parameters or next(_aimed) % 2:
        return
    for name in list(case.path_parameters):
        if name in known:
            case.path_parameters[name] = known[name]
    if "code" in case.path_parameters:
        case.headers = {**(case.headers or {}), "X-Tip-Secret": known["secret"]}


STATUSES = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def status_table():
    """FUZZ_REPORT=1 (with -s): which statuses each operation answered, to see how deep the fuzz went."""
    yield
    if os.environ.get("FUZZ_REPORT"):
        for (who, label), statuses in sorted(_by_operation().items()):
            print(f"{who:5} {label:55} {dict(sorted(statuses.items()))}")


def _by_operation():
    table = collections.defaultdict(collections.Counter)
    for (who, label, status), count in STATUSES.items():
        table[(who, label)][status] += count
    return table


@schema.parametrize()
def test_authenticated(case, stack):
    """As the admin (who may call everything): the deepest reach into the services."""
    aim(case, stack.known)
    response = case.call_and_validate(headers=dict(stack.admin), checks=CHECKS)
    STATUSES[("admin", case.operation.label, response.status_code)] += 1


@schema.parametrize()
def test_unauthenticated(case, stack):
    """Without a token (or with whatever the generator puts in Authorization)."""
    aim(case, stack.known)
    response = case.call_and_validate(checks=CHECKS)
    STATUSES[("anon", case.operation.label, response.status_code)] += 1
