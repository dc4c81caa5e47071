"""Public tips: citizens send a tip and follow it up with the tip code and its secret (no login).

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

from contracts.tips import PublicMessage, PublicStatus, PublicTip, TipAccessDenied, TipReceipt
from gateway import errors
from gateway.api.schemas import body
from gateway.rpc import call
from service_runtime.config import env

blp = Blueprint("public_tips", __name__, url_prefix="/api/v1/public/tips",
                description="Tin báo của người dân / citizens' tips (no login)")

SECRET_HEADER = "X-Tip-Secret"
MAX_CLIENTS = 50_000  # buckets kept per worker before idle ones are dropped


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


def secret_from_header():
    secret = request.headers.get(SECRET_HEADER)
    if not secret:
        # The same answer as a wrong secret: nothing tells whether the code exists.
        raise TipAccessDenied("Mã tin báo hoặc mật mã không đúng / wrong tip code or secret")
    return secret


@blp.route("", methods=["POST"])
@blp.arguments(PublicTip)
@blp.response(202, TipReceipt, description="Stored (and triaged): keep the tip code and the secret, "
                                           "which is shown only this once")
@blp.alt_response(**problem_doc(400, "Malformed JSON or invalid UTF-8"))
@blp.alt_response(**problem_doc(422, "Invalid tip: empty, only emoji, too long, bad attachment..."))
@blp.alt_response(**problem_doc(429, "Too many tips from this address (see Retry-After)"))
@blp.alt_response(**problem_doc(503, "Not stored: retry later (see Retry-After)"))
@blp.doc(summary="Send a tip (anonymous by default)", security=[])
def submit_tip(_):
    receipt = call("tips", "submit_tip", "web", body())
    receipt["status_url"] = request.host_url.rstrip("/") + receipt["status_url"]
    return receipt


@blp.route("/<code>")
@blp.arguments(SecretHeader, location="headers")
@blp.response(200, PublicStatus)
@blp.alt_response(**problem_doc(401, "Wrong code or wrong secret (one answer for both)"))
@blp.alt_response(**problem_doc(429, "Too many requests from this address"))
@blp.doc(summary="Status of a tip and the messages exchanged with the police", security=[])
def tip_status(_, code):
    return call("tips", "public_status", code, secret_from_header())


@blp.route("/<code>/messages", methods=["POST"])
@blp.arguments(SecretHeader, location="headers")
@blp.arguments(PublicMessage)
@blp.response(201, PublicStatus, description="Added; the tip's status and messages")
@blp.alt_response(**problem_doc(401, "Wrong code or wrong secret (one answer for both)"))
@blp.alt_response(**problem_doc(409, "The tip is closed"))
@blp.alt_response(**problem_doc(422, "Empty or too long"))
@blp.alt_response(**problem_doc(429, "Too many requests from this address"))
@blp.doc(summary="Add information to your tip", security=[])
def add_message(_, __, code):
    return call("tips", "public_message", code, secret_from_header(), body())
