"""The permission table (contracts/permissions.py) is what every endpoint enforces: each route
is either public or requires a permission from the table, and every role × endpoint pair is
allowed or refused exactly as the table says."""
import re
import time

import jwt
import pytest

from contracts.permissions import PERMISSIONS, ROLES, Actor, roles_holding
from contracts.rpc import Forbidden
from gateway.app import create_app
from gateway.rpc import ServiceUnavailable

SECRET = "permission-table-test-" + "x" * 32
FRAMEWORK_ENDPOINTS = {"static", "api-docs.openapi_json"}


class NoServices:
    """Stands in for the RPC pool: a request that got past the permission check ends here."""

    def call(self, *args, **kwargs):
        raise ServiceUnavailable("no services in this test", retry_after=1)

    call_many = call


@pytest.fixture(scope="module")
def app():
    app = create_app({"JWT_SECRET": SECRET, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
    app.extensions["rpc"] = NoServices()
    return app


def token(roles, unit_id="doi-tham-muu"):
    now = int(time.time())
    return jwt.encode({"iss": "binhyen", "sub": "officer-1", "username": "officer.1", "roles": roles,
                       "unit_id": unit_id, "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x1", rule.rule)
            yield rule.endpoint, method, path, view


def test_every_endpoint_is_public_or_requires_a_permission_from_the_table(app):
    unruled = []
    for endpoint, method, path, view in routes(app):
        permission = getattr(view, "required_permission", None)
        if getattr(view, "public", False):
            assert permission is None, f"{endpoint} is both public and protected"
        elif permission not in PERMISSIONS:
            unruled.append(f"{method} {path} ({endpoint})")
    assert not unruled, "endpoints with no rule (add @require(permission) or @public):\n" + "\n".join(unruled)


def test_each_role_is_allowed_or_refused_as_the_table_says(app):
    client = app.test_client()
    checked, wrong = 0, []
    for endpoint, method, path, view in routes(app):
        permission = getattr(view, "required_permission", None)
        if permission is None or path.startswith("/console"):
            continue  # public; the console answers with pages (tested with the console)
        for role in ROLES:
            response = client.open(path, method=method, headers={"Authorization": f"Bearer {token([role])}"})
            allowed = role in roles_holding(permission)
            if allowed and response.status_code in (401, 403):
                wrong.append(f"{role} refused {method} {path}: {response.status_code}")
            if not allowed and response.status_code != 403:
                wrong.append(f"{role} not refused {method} {path}: {response.status_code}")
            if not allowed:
                assert response.get_json()["errors"]["permission"] == [permission]
            checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked >= 6 * 40  # every role against every protected endpoint


def test_without_a_token_every_protected_endpoint_answers_401(app):
    client = app.test_client()
    for endpoint, method, path, view in routes(app):
        if getattr(view, "required_permission", None) and not path.startswith("/console"):
            response = client.open(path, method=method)
            assert response.status_code == 401, f"{method} {path}"


def test_refusal_names_the_permission_the_roles_that_hold_it_and_what_the_officer_has():
    with pytest.raises(Forbidden) as refused:
        Actor.of({"id": "o", "roles": ["editor"], "unit_id": "u"}).require("posts.moderate")
    assert "moderator" in refused.value.detail and "editor" in refused.value.detail
    assert refused.value.detail.startswith("Cần quyền")


def test_admin_holds_every_permission_and_an_unknown_role_holds_none():
    admin = Actor.of({"roles": ["admin"]})
    assert all(admin.may(name) for name in PERMISSIONS)
    stranger = Actor.of({"roles": ["superuser"]})
    assert not any(stranger.may(name) for name in PERMISSIONS)


def test_an_officer_without_a_unit_is_in_scope_for_nothing_unless_admin():
    from services.groups.domain import scope_of
    units = [{"id": "city", "parent_id": None}, {"id": "ward", "parent_id": "city"}]
    assert scope_of({"roles": ["unit_operator"], "unit_id": None}, units) == set()
    assert scope_of({"roles": ["unit_operator"], "unit_id": "city"}, units) == {"city", "ward"}
    assert scope_of({"roles": ["admin"], "unit_id": None}, units) is None
    with pytest.raises(Forbidden):
        Actor.of({"roles": ["triage_officer"]}).scope_root()

