"""Public tips: citizens send a tip and follow it up with the tip code and its secret (no login).

A tip is checked here and durably queued for the tips service (gateway/intake.py); the 202
comes once RabbitMQ confirmed it, before the tips service stores it (a moment later; longer
after a burst, which the queue absorbs).

Rate limits (gateway/limits.py): sending (a tip, information added to it) and reading a
tip's status are counted apart, per client address.
"""
from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from contracts.tips import ACCESS_DENIED, PublicMessage, PublicStatus, PublicTip, TipAccessDenied, TipReceipt
from gateway import errors
from gateway.api.schemas import body
from gateway.intake import IntakePublisher, queue_tip
from gateway.limits import READ, SEND, RateLimited, check
from gateway.rpc import call
from gateway.auth import public

blp = Blueprint("public_tips", __name__, url_prefix="/api/v1/public/tips",
                description="Tin báo của người dân / citizens' tips (no login)")

SECRET_HEADER = "X-Tip-Secret"
# A tip whose receipt was just given may still be in the intake queue: retry after this.
STORING_SECONDS = 2


Problem = errors.Problem  # one schema for every error (documented once, in gateway.errors)


def problem_doc(status, description):
    return {"status_code": status, "description": description, "schema": Problem,
            "content_type": errors.PROBLEM}


class SecretHeader(Schema):
    secret = fields.String(data_key=SECRET_HEADER, metadata={"description": "the secret given with the tip code"})


def publisher():
    """This worker's intake publisher (its connections are made on first use, after fork)."""
    made = current_app.extensions.get("public_tips_intake")
    if made is None:
        made = current_app.extensions["public_tips_intake"] = IntakePublisher(
            current_app.config["AMQP_URI"], current_app.config["SETTINGS"].INTAKE_CONFIRM_SECONDS,
            settings=current_app.config["SETTINGS"])
    return made


# What each endpoint spends: checked before its request is read.
ALLOWANCE = {"public_tips.submit_tip": SEND, "public_tips.add_message": SEND, "public_tips.tip_status": READ}
TOO_MANY = ("Bạn gửi quá nhanh, vui lòng thử lại sau ít phút. Nếu khẩn cấp, hãy gọi 113 / "
            "too many requests from your address, retry later. In an emergency call 113")


@blp.before_request
def rate_limit():
    if request.endpoint in ALLOWANCE:
        check(ALLOWANCE[request.endpoint])


@blp.errorhandler(RateLimited)
def too_many(exc):
    return errors.problem(429, TOO_MANY, headers={"Retry-After": str(exc.retry_after)})


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
