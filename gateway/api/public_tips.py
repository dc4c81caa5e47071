"""Public tips: citizens send a tip and follow it up with the tip code and its secret (no login).

A tip is checked here and durably queued for the tips service (gateway/intake.py); the 202
comes once RabbitMQ confirmed it, before the tips service stores it (a moment later; longer
after a burst, which the queue absorbs).

Rate limit: a token bucket per client IP, kept in this gunicorn worker's memory. It is
per worker (a client spread over N workers gets up to N times the rate) and forgotten on
restart: a brake on floods from one address, not an exact quota. Behind a reverse proxy
set PUBLIC_TIPS_TRUSTED_PROXIES to the number of proxies that append X-Forwarded-For.
"""
import math
import threading
import time

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from contracts.tips import ACCESS_DENIED, PublicMessage, PublicStatus, PublicTip, TipAccessDenied, TipReceipt
from gateway import errors
from gateway.api.schemas import body
from gateway.intake import IntakePublisher, queue_tip
from gateway.rpc import call
from service_runtime.config import env
from gateway.auth import public

blp = Blueprint("public_tips", __name__, url_prefix="/api/v1/public/tips",
                description="Tin báo của người dân / citizens' tips (no login)")

SECRET_HEADER = "X-Tip-Secret"
MAX_CLIENTS = 50_000  # buckets kept per worker before idle ones are dropped
# A tip whose receipt was just given may still be in the intake queue: retry after this.
STORING_SECONDS = 2


Problem = errors.Problem  # one schema for every error (documented once, in gateway.errors)


def problem_doc(status, description):
    return {"status_code": status, "description": description, "schema": Problem,
            "content_type": errors.PROBLEM}


class SecretHeader(Schema):
    secret = fields.String(data_key=SECRET_HEADER, metadata={"description": "the secret given with the tip code"})


class TokenBucket:
    """`rate` tokens a second up to `burst`, one bucket per key; thread-safe."""

    def __init__(self, rate, burst):
        self.rate = rate
        self.burst = burst
        self.buckets = {}
        self.lock = threading.Lock()

    def take(self, key):
        """0 when allowed, else the seconds to wait before the next request is allowed."""
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                return 0
            self.buckets[key] = (tokens, now)
            if len(self.buckets) > MAX_CLIENTS:
                self._forget_idle(now)
            return math.ceil((1 - tokens) / self.rate)

    def _forget_idle(self, now):
        full_after = self.burst / self.rate  # a bucket idle this long is full again: same as absent
        for key, (_, last) in list(self.buckets.items()):
            if now - last > full_after:
                del self.buckets[key]


def limiter():
    bucket = current_app.extensions.get("public_tips_limiter")
    if bucket is None:
        per_minute = float(env("PUBLIC_TIPS_PER_MINUTE", "10"))
        bucket = TokenBucket(per_minute / 60.0, float(env("PUBLIC_TIPS_BURST", "5"))) if per_minute > 0 else False
        current_app.extensions["public_tips_limiter"] = bucket
    return bucket


def publisher():
    """This worker's intake publisher (its connections are made on first use, after fork)."""
    made = current_app.extensions.get("public_tips_intake")
    if made is None:
        made = current_app.extensions["public_tips_intake"] = IntakePublisher(
            current_app.config["AMQP_URI"], float(env("INTAKE_CONFIRM_SECONDS", "5")))
    return made


def client_ip():
    """The client's address; with N trusted proxies, the Nth X-Forwarded-For entry from the right."""
    hops = int(env("PUBLIC_TIPS_TRUSTED_PROXIES", "0"))
    route = request.access_route if hops else [request.remote_addr or "unknown"]
    return route[-hops] if hops and len(route) >= hops else route[0]


@blp.before_request
def rate_limit():
    bucket = limiter()
    if not bucket:
        return None
    wait = bucket.take(client_ip())
    if wait:
        return errors.problem(429, "Bạn gửi quá nhanh, vui lòng thử lại sau ít phút. Nếu khẩn cấp, hãy gọi 113 / "
                                   "too many requests from your address, retry later. In an emergency call 113",
                              headers={"Retry-After": str(wait)})
    return None


@blp.errorhandler(TipAccessDenied)
def access_denied(exc):
    # One answer for a wrong code, a wrong secret and a tip not stored yet (see ACCESS_DENIED).
    return errors.problem(401, ACCESS_DENIED, headers={"Retry-After": str(STORING_SECONDS)})


def secret_from_header():
    secret = request.headers.get(SECRET_HEADER)
    if not secret:
        raise TipAccessDenied(ACCESS_DENIED)
    return secret


ACCESS_DOC = ("Wrong code or wrong secret, or a tip sent a moment ago and not stored yet: one answer "
              "for all (with Retry-After), so it never tells whether a code exists")


@blp.route("", methods=["POST"])
@blp.arguments(PublicTip)
@blp.response(202, TipReceipt, description="Accepted and durably queued (stored a moment later): keep the "
                                           "tip code and the secret, which is shown only this once. "
                                           "`urgency` is null (triage runs when the tip is stored), so "
                                           "`message` opens with the emergency advice: call 113 now")
@blp.alt_response(**problem_doc(400, "Malformed JSON or invalid UTF-8"))
@blp.alt_response(**problem_doc(422, "Invalid tip: empty, only emoji, too long, bad attachment..."))
@blp.alt_response(**problem_doc(429, "Too many tips from this address (see Retry-After)"))
@blp.alt_response(**problem_doc(503, "Not accepted, nothing kept: retry later (see Retry-After)"))
@blp.doc(summary="Send a tip (anonymous by default)", security=[])
@public
def submit_tip(data):
    receipt = queue_tip(data, body(), publisher())
    receipt["status_url"] = request.host_url.rstrip("/") + receipt["status_url"]
    return receipt


@blp.route("/<code>")
@blp.arguments(SecretHeader, location="headers")
@blp.response(200, PublicStatus)
@blp.alt_response(**problem_doc(401, ACCESS_DOC))
@blp.alt_response(**problem_doc(429, "Too many requests from this address"))
@blp.doc(summary="Status of a tip and the messages exchanged with the police", security=[],
         description="A tip is stored a moment after its receipt is given (it waits in the intake queue "
                     "first, longer after a burst). Until then its code and secret cannot be checked, and "
                     "the answer is the same 401 as for a wrong code or secret, with `Retry-After: "
                     f"{STORING_SECONDS}`: telling \"not yet\" apart from \"no such code\" would tell anyone "
                     "which codes exist. Clients retry a 401 for a code they were just given.")
@public
def tip_status(_, code):
    return call("tips", "public_status", code, secret_from_header())


@blp.route("/<code>/messages", methods=["POST"])
@blp.arguments(SecretHeader, location="headers")
@blp.arguments(PublicMessage)
@blp.response(201, PublicStatus, description="Added; the tip's status and messages")
@blp.alt_response(**problem_doc(401, ACCESS_DOC))
@blp.alt_response(**problem_doc(409, "The tip is closed"))
@blp.alt_response(**problem_doc(422, "Empty or too long"))
@blp.alt_response(**problem_doc(429, "Too many requests from this address"))
@blp.doc(summary="Add information to your tip", security=[])
@public
def add_message(_, __, code):
    return call("tips", "public_message", code, secret_from_header(), body())
