"""The sandbox playing a citizen who writes to the police's Zalo OA or Facebook page.

For a text message the sandbox builds the event the platform would send, signs it as the
platform does and POSTs it to the gateway's webhook, which answers with the tip code:

- Zalo OA `user_send_text` to `/api/v1/webhooks/zalo`, with
  `X-ZEvent-Signature: mac=<hex sha256(app id + raw body + timestamp + OA secret key)>`;
- Facebook page `object: page` messaging to `/api/v1/webhooks/facebook`, with
  `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.

The signatures are written here from the platforms' documentation rather than imported from
the gateway: the sandbox stands for the platform, so a mistake in the gateway's check shows
up instead of being copied. The police's answers come back through the Zalo OA user-message
and Messenger Send API endpoints the sandbox already plays; `conversations()` puts both sides
together per citizen.

Settings: the gateway's base URL (`--gateway-url` or SANDBOX_GATEWAY_URL) and the same
ZALO_APP_ID, ZALO_OA_SECRET_KEY and FACEBOOK_APP_SECRET as the gateway (`make run` gives
both the same generated values).
"""
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
import uuid

from contracts.settings import load

PLATFORMS = ("zalo", "facebook")
SETTINGS = {"zalo": ("ZALO_APP_ID", "ZALO_OA_SECRET_KEY"), "facebook": ("FACEBOOK_APP_SECRET",)}
WEBHOOK_PATHS = {"zalo": "/api/v1/webhooks/zalo", "facebook": "/api/v1/webhooks/facebook"}
PLATFORM_NAMES = {"zalo": "Zalo", "facebook": "Messenger"}
# One default citizen per platform, so messages sent without a sender make one conversation.
DEFAULT_SENDERS = {"zalo": "8400000000000001", "facebook": "6100000000000001"}
OA_ID, PAGE_ID = "1900000000000001", "1000000000000001"   # the police's OA and page, as the sandbox names them
SENDER_ID = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
TEXT_MAX = 2000                 # Messenger's limit for a text message; Zalo's is close
GATEWAY_TIMEOUT_SECONDS = 20    # the webhook answers once the tip is stored (RPC timeout 10 s)


class CitizenError(Exception):
    """A citizen message the sandbox cannot send: `status` is what the control API answers."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def read_message(body):
    """(sender, text) from {"text", "sender" (optional)}; CitizenError 400 otherwise."""
    if not isinstance(body, dict):
        raise CitizenError(400, 'expected a JSON object {"text": ..., "sender": optional}')
    unknown = set(body) - {"text", "sender", "platform"}
    if unknown:
        raise CitizenError(400, f"unknown fields: {sorted(unknown)}")
    text, sender = body.get("text"), body.get("sender") or None
    if not isinstance(text, str) or not text.strip():
        raise CitizenError(400, "text: a non-empty message is required")
    if len(text) > TEXT_MAX:
        raise CitizenError(400, f"text: at most {TEXT_MAX} characters")
    if sender is not None and not (isinstance(sender, str) and SENDER_ID.match(sender)):
        raise CitizenError(400, "sender: 1-64 letters, digits, '.', '_' or '-'")
    return sender, text


# --- what the platforms send ------------------------------------------------------------------

def zalo_event(app_id, oa_secret_key, sender, text, msg_id, timestamp_ms):
    """(raw body, headers) of Zalo OA's `user_send_text` event, signed."""
    timestamp = str(timestamp_ms)  # Zalo sends it as a string of milliseconds
    raw = json.dumps({
        "app_id": app_id, "user_id_by_app": hashlib.sha256(f"{app_id}:{sender}".encode()).hexdigest()[:18],
        "event_name": "user_send_text", "timestamp": timestamp,
        "sender": {"id": sender}, "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": msg_id},
    }, ensure_ascii=False).encode("utf-8")
    mac = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode()).hexdigest()
    return raw, {"X-ZEvent-Signature": f"mac={mac}"}


def facebook_event(app_secret, sender, text, mid, timestamp_ms):
    """(raw body, headers) of a Facebook page messaging event with one text message, signed."""
    raw = json.dumps({"object": "page", "entry": [{
        "id": PAGE_ID, "time": timestamp_ms,
        "messaging": [{"sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": timestamp_ms,
                       "message": {"mid": mid, "text": text}}],
    }]}, ensure_ascii=False).encode("utf-8")
    signature = "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": signature}


class Citizens:
    """Sends citizens' messages to the gateway as the platforms would."""

    def __init__(self, gateway_url, settings):
        self.gateway_url = (gateway_url or "").rstrip("/") or None
        self.settings = settings

    @classmethod
    def from_environment(cls, gateway_url=None):
        settings = load("sandbox")
        names = {name for names in SETTINGS.values() for name in names}
        return cls(gateway_url or settings.SANDBOX_GATEWAY_URL, {name: settings[name] for name in names})

    def missing(self, platform):
        """What this sandbox lacks to play a citizen on `platform` (names, never values)."""
        missing = [name for name in SETTINGS[platform] if not self.settings.get(name)]
        return (["--gateway-url / SANDBOX_GATEWAY_URL"] if not self.gateway_url else []) + missing

    def send(self, platform, sender, text):
        """POST the platform's signed event to the gateway. Returns the message as sent with the
        gateway's answer; CitizenError when it cannot be sent (409) or the gateway is unreachable (502)."""
        if platform not in PLATFORMS:
            raise CitizenError(404, f"unknown platform {platform!r}: {' or '.join(PLATFORMS)}")
        missing = self.missing(platform)
        if missing:
            raise CitizenError(409, f"the sandbox cannot play a {PLATFORM_NAMES[platform]} citizen: "
                                    f"start it with {', '.join(missing)} (the gateway's values)")
        sender = sender or DEFAULT_SENDERS[platform]
        now_ms = int(time.time() * 1000)
        if platform == "zalo":
            message_id = uuid.uuid4().hex
            raw, headers = zalo_event(self.settings["ZALO_APP_ID"], self.settings["ZALO_OA_SECRET_KEY"],
                                      sender, text, message_id, now_ms)
        else:
            message_id = f"m_{uuid.uuid4().hex}"
            raw, headers = facebook_event(self.settings["FACEBOOK_APP_SECRET"], sender, text, message_id, now_ms)
        status, answer = self._post(self.gateway_url + WEBHOOK_PATHS[platform], raw, headers)
        tip_codes = answer.get("tip_codes") if isinstance(answer, dict) else None
        return {"platform": platform, "sender": sender, "text": text, "message_id": message_id,
                "gateway_status": status, "gateway_answer": answer,
                "tip_codes": tip_codes if isinstance(tip_codes, list) else []}

    @staticmethod
    def _post(url, raw, headers):
        request = urllib.request.Request(url, data=raw, method="POST",
                                         headers=dict(headers, **{"Content-Type": "application/json"}))
        try:
            with urllib.request.urlopen(request, timeout=GATEWAY_TIMEOUT_SECONDS) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise CitizenError(502, f"the gateway at {url} did not answer: {getattr(exc, 'reason', exc)}")
        try:
            return status, json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return status, body.decode("utf-8", "replace")[:2000]


# --- both sides of each conversation ------------------------------------------------------------

def police_reply(record):
    """(platform, citizen id, text) of a message the police sent one citizen, from a sandbox
    record of the Zalo OA user-message or Messenger Send API endpoint; None for anything else."""
    if not record.get("to_user") or record.get("outcome") != "ok" or not isinstance(record.get("body"), dict):
        return None
    text = (record["body"].get("message") or {}).get("text")
    return (record["platform"], str(record["channel"]), text) if isinstance(text, str) else None


def conversations(citizen_messages, records):
    """Per (platform, citizen id), oldest first: what the citizen sent (with the gateway's answer)
    and what the police replied. Each list item: {"from": "citizen" | "police", "text", "at", ...}."""
    talks = {}
    for message in citizen_messages:
        talks.setdefault((message["platform"], message["sender"]), []).append(dict(message, **{"from": "citizen"}))
    for record in records:
        reply = police_reply(record)
        if reply:
            platform, citizen, text = reply
            talks.setdefault((platform, citizen), []).append(
                {"from": "police", "text": text, "at": record["at"], "seq": record["seq"]})
    return [{"platform": platform, "sender": sender, "messages": sorted(items, key=lambda m: m["seq"])}
            for (platform, sender), items in sorted(talks.items())]
