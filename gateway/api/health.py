"""Liveness and readiness."""
from flask import current_app, jsonify
from flask_smorest import Blueprint
from kombu import Connection
from marshmallow import Schema, fields

from gateway.api.webhooks import integrations
from gateway.auth import public
from gateway.rpc import ServiceUnavailable

blp = Blueprint("health", __name__, description="Liveness and readiness")

SERVICES = ("groups", "posts", "notify", "tips")


class Alive(Schema):
    status = fields.String(required=True)


class Check(Schema):
    ok = fields.Boolean(required=True)
    error = fields.String()
    mongodb = fields.Dict()
    outbox = fields.Dict()


class Readiness(Schema):
    status = fields.String(required=True, metadata={"description": "ready | unavailable"})
    down = fields.List(fields.String(), required=True, metadata={"description": "what is not ok"})
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(Check), required=True)
    integrations = fields.Dict(
        keys=fields.String(), values=fields.String(), required=True,
        metadata={"description": "platform webhooks (zalo_webhook, facebook_webhook): \"configured\" or "
                                 "\"not configured\" (off, answering 404); never makes readiness fail"})


@blp.route("/healthz")
@blp.response(200, Alive)
@blp.doc(summary="The gateway process is alive")
@public
def healthz():
    return jsonify(status="ok")


def broker_state(amqp_uri):
    try:
        with Connection(amqp_uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


@blp.route("/readyz")
@blp.response(200, Readiness)
@blp.alt_response(503, schema=Readiness, description="Something is down; the body names it (see Retry-After)")
@blp.doc(summary="Broker, MongoDB and every service answer in time; which webhooks are configured")
@public
def readyz():
    checks = {"broker": broker_state(current_app.config["AMQP_URI"])}
    if checks["broker"]["ok"]:
        try:
            reports = current_app.extensions["rpc"].call_many(
                {name: (name, "health", ()) for name in SERVICES})
        except ServiceUnavailable as exc:
            reports = {name: exc for name in SERVICES}
        for name in SERVICES:
            report = reports.get(name)
            if isinstance(report, dict):
                checks[name] = {"ok": report["status"] == "ok", "mongodb": report["mongodb"],
                                "outbox": report["outbox"]}
            else:
                checks[name] = {"ok": False, "error": str(report) if report else "no answer"}
    else:
        checks.update({name: {"ok": False, "error": "broker down"} for name in SERVICES})
    down = sorted(name for name, check in checks.items() if not check["ok"])
    body = {"status": "ready" if not down else "unavailable", "down": down, "checks": checks,
            "integrations": integrations()}  # an unconfigured webhook is off, not down
    response = jsonify(body)
    if down:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    return response
