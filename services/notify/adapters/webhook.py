"""Partner systems: POST the event envelope as JSON, signed like Standard Webhooks.

Headers: `webhook-id` (the envelope id: partners de-duplicate on it), `webhook-timestamp`
(unix seconds), `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
A secret `whsec_<base64>` is used as the decoded bytes, any other secret as its UTF-8 bytes.

For partners, verifying in Python:

    from services.notify.adapters.webhook import verify_signature
    ok = verify_signature(secret, request.headers, request.get_data())
"""
import base64
import binascii
import hashlib
import hmac
import json
import time

from services.notify.adapters.base import (ChannelAdapter, DeliveryError, NoRetractApi, SendResult, call,
                                           credential, http_timeout, json_or_none, new_session)
from services.notify.domain import ErrorClass

_session = new_session()

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"


def secret_key(secret):
    """The HMAC key of a secret: `whsec_<base64>` decoded, otherwise the raw UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            pass  # not base64 after all: use it as it is
    return secret.encode("utf-8")


def sign(secret, msg_id, timestamp, body):
    """`v1,<base64 signature>` of body (bytes) for message id and unix timestamp."""
    signed = f"{msg_id}.{timestamp}.".encode("utf-8") + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify_signature(secret, headers, body, tolerance=300, now=None):
    """True when `body` (bytes or str) carries a valid, fresh signature of `secret`.

    `headers` is any mapping (case-insensitive names are handled). A timestamp more than
    `tolerance` seconds away from now is refused, so a captured request cannot be replayed.
    """
    lowered = {k.lower(): v for k, v in dict(headers).items()}
    msg_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    if isinstance(body, str):
        body = body.encode("utf-8")
    expected = sign(secret, msg_id, ts, body).split(",", 1)[1]
    for candidate in signatures.split():  # several, space-separated, during a secret rotation
        version, _, value = candidate.partition(",")
        if version == SIGNATURE_VERSION and hmac.compare_digest(value, expected):
            return True
    return False


def envelope_body(envelope):
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


class Webhook(ChannelAdapter):
    channel_type = "webhook"

    def send(self, channel, message):
        envelope = message.get("envelope")
        if not isinstance(envelope, dict) or not envelope.get("id"):
            raise DeliveryError(ErrorClass.PERMANENT,
                                "Webhook cần envelope có id / a webhook needs an event envelope with an id")
        secret = credential(channel)
        body = envelope_body(envelope)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "BinhYen-Webhooks/1",
            "webhook-id": str(envelope["id"]),
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, envelope["id"], timestamp, body),
        }
        # A redirect is a misconfigured endpoint, and following it would resend the body
        # somewhere nobody registered.
        response = call(_session, "POST", channel["external_id"], data=body, headers=headers,
                        allow_redirects=False, timeout=http_timeout("WEBHOOK_TIMEOUT_SECONDS"))
        if not 200 <= response.status_code < 300:
            raise self.classify_error(response)
        answer = json_or_none(response)
        return SendResult(external_id=str(envelope["id"]),
                          raw={"status": response.status_code, **(answer if isinstance(answer, dict) else {})})

    def retract(self, channel, external_id):
        raise NoRetractApi(self.channel_type)


adapter = Webhook()
