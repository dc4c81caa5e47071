"""Platform webhooks: messages to the police's Zalo Official Account and Facebook page become tips.

Each request is authenticated by the platform's signature over the raw body before
anything is parsed; a forged or missing signature gets 401. A signed event we do not
handle (a sticker, a follow, a delivery receipt) gets 200 so the platform does not retry
it. The same message delivered twice makes one tip (the tips service keys on the
platform's message id). The answer is sent only after the tip is stored, so a 5xx makes
the platform deliver again and nothing is lost. (Web tips go through the intake queue
instead, gateway/intake.py; these stay a synchronous RPC on purpose: the platforms retry
until they get a 2xx, which is the durable queue they already have, and their volume is
far below the web form's.)

- Zalo OA: `X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret key)>`,
  `timestamp` being the one inside the body (ZALO_APP_ID, ZALO_OA_SECRET_KEY).
- Facebook page: `GET` verification (hub.mode=subscribe, hub.verify_token ==
  FACEBOOK_VERIFY_TOKEN, answer hub.challenge); `POST` signed with
  `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(FACEBOOK_APP_SECRET, raw body)>`.

A webhook whose variables are not all set is off on this server: 404, which a platform
does not retry (a 503 would make it deliver again for ever), and /readyz lists it as
"not configured" without failing readiness.
"""
import hashlib
import hmac
import json
import logging

from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from contracts.rpc import Forbidden, InvalidInput, ServiceError
from gateway.api.public_tips import problem_doc
from gateway.rpc import call
from gateway.auth import accepts, public

logger = logging.getLogger(__name__)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Tin báo qua Zalo OA và Facebook / tips from Zalo OA and the Facebook page")


class BadSignature(ServiceError):
    status = 401
    title = "Chữ ký không hợp lệ / Invalid signature"


class NotConfigured(ServiceError):
    status = 404  # not 503: nothing will change by delivering again
    title = "Chưa bật / Not enabled"


# Each webhook and the variables (or NAME_FILE) it needs; all of them, or it is off.
WEBHOOK_SETTINGS = {
    "zalo_webhook": ("ZALO_APP_ID", "ZALO_OA_SECRET_KEY"),
    "facebook_webhook": ("FACEBOOK_APP_SECRET", "FACEBOOK_VERIFY_TOKEN"),
}
WEBHOOK_NAMES = {"zalo_webhook": "Zalo OA", "facebook_webhook": "Facebook"}


class WebhookResult(Schema):
    received = fields.Integer(required=True, metadata={"description": "messages stored as tips (new or repeated)"})
    ignored = fields.Integer(required=True, metadata={"description": "events or messages not handled"})
    tip_codes = fields.List(fields.String(), required=True)


# --- signatures (pure functions, unit-tested) -----------------------------------------------

def zalo_mac(app_id, raw_body, timestamp, oa_secret_key):
    """Zalo OA's event mac: hex sha256 of app id + raw body + timestamp + OA secret key."""
    data = app_id.encode() + raw_body + str(timestamp).encode() + oa_secret_key.encode()
    return hashlib.sha256(data).hexdigest()


def zalo_signature_ok(header, app_id, raw_body, timestamp, oa_secret_key):
    if not header or timestamp is None:
        return False
    given = header.strip()
    given = given[4:] if given.lower().startswith("mac=") else given
    return hmac.compare_digest(given.lower().encode(), zalo_mac(app_id, raw_body, timestamp, oa_secret_key).encode())


def facebook_signature(app_secret, raw_body):
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def facebook_signature_ok(header, app_secret, raw_body):
    if not header:
        return False
    return hmac.compare_digest(header.strip().lower().encode(), facebook_signature(app_secret, raw_body).encode())


# --- helpers -------------------------------------------------------------------------------------

def webhook_secrets(webhook):
    """The webhook's settings by name (read at start-up), or None when any is missing."""
    settings = current_app.config["SETTINGS"]
    values = {name: settings[name] for name in WEBHOOK_SETTINGS[webhook]}
    return values if all(values.values()) else None


def integrations():
    """/readyz's view of the webhooks: "configured" or "not configured" each."""
    return {webhook: "configured" if webhook_secrets(webhook) else "not configured"
            for webhook in WEBHOOK_SETTINGS}


def configured(webhook):
    """The webhook's settings, or 404 when it is not enabled on this server."""
    values = webhook_secrets(webhook)
    if values is None:
        logger.warning("%s is off (answers 404): set %s to enable it", webhook,
                       " and ".join(WEBHOOK_SETTINGS[webhook]))
        name = WEBHOOK_NAMES[webhook]
        raise NotConfigured(f"Webhook {name} chưa được bật trên máy chủ này / "
                            f"the {name} webhook is not enabled on this server")
    return values


def signed_json(ok):
    """The body as JSON, once the signature checked out; 401 otherwise."""
    if not ok:
        raise BadSignature("Chữ ký không hợp lệ / missing or invalid signature")
    try:
        return json.loads(request.get_data())
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        raise InvalidInput("JSON không đọc được / malformed JSON", {"_body": ["malformed JSON"]})


def raw_timestamp(raw_body):
    try:
        data = json.loads(raw_body)
    except (ValueError, RecursionError):  # read before the signature is checked: anyone can send this
        return None
    return data.get("timestamp") if isinstance(data, dict) else None


def submit(source, text, message_id, sender_id, result):
    """One platform message -> one tip; a message that is not a usable tip is counted as ignored."""
    if not (isinstance(text, str) and isinstance(message_id, str) and message_id
            and isinstance(sender_id, (str, int)) and str(sender_id)):
        result["ignored"] += 1
        return
    try:
        receipt = call("tips", "submit_tip", source, {"text": text}, message_id, str(sender_id))
    except InvalidInput:
        # Emoji only, empty...: nothing a retry would fix, so no error to the platform.
        result["ignored"] += 1
        return
    result["received"] += 1
    result["tip_codes"].append(receipt["tip_code"])


NOT_ENABLED_DOC = ("This webhook is not enabled on this server (its variables are not set): "
                   "not retryable; /readyz lists it under integrations as not configured")


# --- Zalo OA ---------------------------------------------------------------------------------------

@blp.route("/zalo", methods=["POST"])
@blp.response(200, WebhookResult)
@blp.alt_response(**problem_doc(401, "Missing or forged X-ZEvent-Signature"))
@blp.alt_response(**problem_doc(404, NOT_ENABLED_DOC))
@blp.alt_response(**problem_doc(503, "The tip could not be stored yet: deliver again (Retry-After)"))
@blp.doc(summary="Zalo OA events (user_send_text becomes a tip)", security=[],
         parameters=[{"in": "header", "name": "X-ZEvent-Signature", "required": True,
                      "schema": {"type": "string"}, "description": "mac=<hex>"}],
         requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})
@public
@accepts("*")
def zalo():
    settings = configured("zalo_webhook")
    app_id, oa_secret_key = settings["ZALO_APP_ID"], settings["ZALO_OA_SECRET_KEY"]
    raw = request.get_data()
    ok = zalo_signature_ok(request.headers.get("X-ZEvent-Signature"), app_id, raw, raw_timestamp(raw),
                           oa_secret_key)
    event = signed_json(ok)
    result = {"received": 0, "ignored": 0, "tip_codes": []}
    if not isinstance(event, dict) or event.get("event_name") != "user_send_text":
        result["ignored"] += 1
        return result
    sender = event.get("sender") or {}
    message = event.get("message") or {}
    submit("zalo", message.get("text"), message.get("msg_id"), sender.get("id"), result)
    return result


# --- Facebook page --------------------------------------------------------------------------------

class FacebookVerification(Schema):
    mode = fields.String(data_key="hub.mode", required=True)
    verify_token = fields.String(data_key="hub.verify_token", required=True)
    challenge = fields.String(data_key="hub.challenge", required=True)


@blp.route("/facebook", methods=["GET"])
@blp.arguments(FacebookVerification, location="query")
@blp.response(200, description="hub.challenge, echoed as text/plain")
@blp.alt_response(**problem_doc(403, "Wrong verify token"))
@blp.alt_response(**problem_doc(404, NOT_ENABLED_DOC))
@blp.doc(summary="Facebook webhook verification", security=[])
@public
def facebook_verify(query):
    verify_token = configured("facebook_webhook")["FACEBOOK_VERIFY_TOKEN"]
    if query["mode"] != "subscribe" or not hmac.compare_digest(query["verify_token"].encode(),
                                                               verify_token.encode()):
        raise Forbidden("Mã xác minh không đúng / wrong verify token")
    return Response(query["challenge"], mimetype="text/plain")


@blp.route("/facebook", methods=["POST"])
@blp.response(200, WebhookResult)
@blp.alt_response(**problem_doc(401, "Missing or forged X-Hub-Signature-256"))
@blp.alt_response(**problem_doc(404, NOT_ENABLED_DOC))
@blp.alt_response(**problem_doc(503, "The tip could not be stored yet: deliver again (Retry-After)"))
@blp.doc(summary="Facebook page messaging events (text messages become tips)", security=[],
         parameters=[{"in": "header", "name": "X-Hub-Signature-256", "required": True,
                      "schema": {"type": "string"}, "description": "sha256=<hex>"}],
         requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})
@public
@accepts("*")
def facebook():
    app_secret = configured("facebook_webhook")["FACEBOOK_APP_SECRET"]
    event = signed_json(facebook_signature_ok(request.headers.get("X-Hub-Signature-256"), app_secret,
                                              request.get_data()))
    result = {"received": 0, "ignored": 0, "tip_codes": []}
    entries = event.get("entry") if isinstance(event, dict) and event.get("object") == "page" else None
    for entry in entries if isinstance(entries, list) else []:
        messaging = entry.get("messaging") if isinstance(entry, dict) else None
        for item in messaging if isinstance(messaging, list) else []:
            message = item.get("message") if isinstance(item, dict) else None
            if not isinstance(message, dict) or message.get("is_echo"):
                result["ignored"] += 1  # delivery/read receipts, postbacks, the page's own messages
                continue
            submit("facebook", message.get("text"), message.get("mid"), (item.get("sender") or {}).get("id"),
                   result)
    if entries is None:
        result["ignored"] += 1
    return result
