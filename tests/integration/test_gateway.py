"""The gateway platform: login, OpenAPI, problem+json errors, readiness, outages."""
import json
import time

import jwt
import pytest
from openapi_spec_validator import validate

from tests.conftest import JWT_SECRET

pytestmark = pytest.mark.integration


def is_problem(response, status):
    assert response.status_code == status, response.data[:500]
    assert response.content_type == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and "type" in body and "detail" in body
    return body


def test_openapi_document_is_valid_openapi_3(gateway):
    response = gateway.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in spec["paths"]


def test_admin_logs_in_and_token_carries_roles(admin_credentials, run_services, gateway):
    run_services("groups")
    response = gateway.post("/api/v1/auth/token", json=admin_credentials)
    assert response.status_code == 200, response.data
    body = response.get_json()
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"])
    assert claims["roles"] == ["admin"] and body["token_type"] == "Bearer"
    me = gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == "admin"
    assert "password" not in response.get_data(as_text=True)


def test_wrong_password_is_401_and_says_nothing_more(admin_credentials, run_services, gateway):
    run_services("groups")
    wrong = gateway.post("/api/v1/auth/token", json={"username": "admin", "password": "nope-nope"})
    unknown = gateway.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope-nope"})
    assert is_problem(wrong, 401)["detail"] == is_problem(unknown, 401)["detail"]


@pytest.mark.parametrize("body, content_type, status", [
    ('{"username": 5, "password": []}', "application/json", 422),           # wrong types
    ('{"username": "admin"}', "application/json", 422),                     # missing field
    ('{"username": "a", "password": "b", "role": "admin"}', "application/json", 422),  # unknown field
    ('{"username": {"$ne": null}, "password": "x"}', "application/json", 422),         # operator injection
    ('{"username": "admin", "password": {"$gt": ""}}', "application/json", 422),
    ('{"username": "admin", "password": ', "application/json", 400),         # broken JSON
    ("\xff\xfe not utf-8", "application/json", 400),
    ("[" * 5000 + "]" * 5000, "application/json", 400),                      # deep nesting
    ("x" * (2 * 1024 * 1024), "application/json", 413),                      # 2 MB body
])
def test_bad_login_input_gets_a_problem_never_a_500(gateway, body, content_type, status):
    response = gateway.post("/api/v1/auth/token", data=body, content_type=content_type)
    is_problem(response, status)


@pytest.mark.parametrize("token", [
    jwt.encode({"sub": "admin", "roles": ["admin"], "iss": "binhyen", "iat": 0,
                "exp": int(time.time()) + 60}, "wrong-key-" + "y" * 32, algorithm="HS256"),
    jwt.encode({"sub": "admin", "roles": ["admin"], "iss": "binhyen", "iat": 0,
                "exp": int(time.time()) - 60}, JWT_SECRET, algorithm="HS256"),
    jwt.encode({"sub": "admin", "roles": ["admin"], "iss": "binhyen", "iat": 0,
                "exp": int(time.time()) + 60}, None, algorithm="none"),
    "not-a-token",
])
def test_forged_or_expired_tokens_are_refused(gateway, token):
    is_problem(gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


WEBHOOK_VARIABLES = ("ZALO_APP_ID", "ZALO_OA_SECRET_KEY", "FACEBOOK_APP_SECRET", "FACEBOOK_VERIFY_TOKEN")


def test_readyz_is_green_only_when_every_service_answers(run_services, gateway, config, monkeypatch):
    from gateway.app import create_app
    for name in WEBHOOK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    run_services("groups", "tips")
    response = gateway.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["down"] == ["notify", "posts"]
    run_services("posts", "notify")
    response = gateway.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["groups"]["mongodb"]["ok"] is True
    # Webhooks nobody configured are off, which is not an outage: listed, never in "down".
    assert response.get_json()["integrations"] == {"zalo_webhook": "not configured",
                                                   "facebook_webhook": "not configured"}
    monkeypatch.setenv("FACEBOOK_APP_SECRET", "app-secret-for-tests")
    monkeypatch.setenv("FACEBOOK_VERIFY_TOKEN", "verify-token-for-tests")
    gateway = create_app({"AMQP_URI": config["AMQP_URI"], "JWT_SECRET": JWT_SECRET}).test_client()  # read at start
    response = gateway.get("/readyz")
    assert response.status_code == 200 and response.get_json()["integrations"] == {
        "zalo_webhook": "not configured", "facebook_webhook": "configured"}
    assert "app-secret-for-tests" not in response.get_data(as_text=True)
    assert gateway.get("/healthz").status_code == 200


def test_a_webhook_that_is_not_configured_answers_404_which_platforms_do_not_retry(monkeypatch, caplog):
    from gateway.app import create_app
    from tests.conftest import free_port
    for name in WEBHOOK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.setenv("ZALO_APP_ID", "4321987650")  # half of Zalo's settings: still off
    client = create_app({"AMQP_URI": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                         "JWT_SECRET": JWT_SECRET}).test_client()
    answers = [client.post("/api/v1/webhooks/zalo", data=b'{"event_name": "user_send_text"}',
                           headers={"X-ZEvent-Signature": "mac=00"}, content_type="application/json"),
               client.post("/api/v1/webhooks/facebook", data=b'{"object": "page", "entry": []}',
                           headers={"X-Hub-Signature-256": "sha256=00"}, content_type="application/json"),
               client.get("/api/v1/webhooks/facebook?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")]
    for response in answers:
        body = is_problem(response, 404)
        assert "Retry-After" not in response.headers
        assert "chưa được bật" in body["detail"] and "not enabled on this server" in body["detail"]
    # The log says what to set, never a value.
    assert "ZALO_APP_ID and ZALO_OA_SECRET_KEY" in caplog.text
    assert "FACEBOOK_APP_SECRET and FACEBOOK_VERIFY_TOKEN" in caplog.text
    assert "4321987650" not in caplog.text
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [("/api/v1/webhooks/zalo", "post"), ("/api/v1/webhooks/facebook", "post"),
                         ("/api/v1/webhooks/facebook", "get")]:
        assert "404" in spec[path][method]["responses"], (path, method)


def test_broker_outage_gives_503_with_retry_after_not_a_hang():
    from gateway.app import create_app
    from tests.conftest import free_port
    app = create_app({"AMQP_URI": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                      "JWT_SECRET": JWT_SECRET, "RPC_TIMEOUT_SECONDS": 3})
    client = app.test_client()
    started = time.monotonic()
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": "whatever"})
    assert time.monotonic() - started < 15
    assert is_problem(response, 503) and response.headers["Retry-After"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "broker" in ready.get_json()["down"]


def test_request_id_is_echoed_and_reaches_the_service(admin_credentials, run_services, gateway):
    run_services("groups")
    response = gateway.post("/api/v1/auth/token", json=admin_credentials,
                            headers={"X-Request-ID": "req-test-123"})
    assert response.headers["X-Request-ID"] == "req-test-123"
