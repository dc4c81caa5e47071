"""A citizen's tip as it arrives: what it must be (checked by the gateway before it queues a web tip
and by the tips service for Zalo/Facebook messages), its code and secret, and the first answer
the citizen gets. Pure rules shared by both sides of the intake queue; no I/O.
"""
import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from datetime import datetime, timedelta, timezone

from contracts.rpc import InvalidInput
from contracts.times import as_utc
from contracts.tips import (ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES, ATTACHMENTS_MAX, CATEGORIES,  # noqa: F401
                            CITIZEN_CATEGORIES, SOURCES, TEXT_MAX)


# ---------------------------------------------------------------------------
# Tip codes and tipster secrets
# ---------------------------------------------------------------------------

# No 0/O and 1/I: read aloud over the phone or copied from a screen without doubt.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_PREFIX = "NB"
CODE_GROUPS = 3  # of 4 characters: 60 random bits
# Codes issued before codes had three groups (40 bits) stay valid.
_CODE_RE = re.compile(rf"^([A-Z]{{2}})(-[{CODE_ALPHABET}]{{4}}){{2,3}}$")


def new_tip_code(prefix=CODE_PREFIX):
    """e.g. NB-7K3Q-9XPD-4MRT: 60 random bits. Not a secret (the secret is).

    A web tip's code is drawn by the gateway and shown to the citizen before the tip is
    stored, so it cannot be drawn again on a collision: it has to be unique by its
    randomness. With 60 bits, ten million tips collide with a chance of about 1 in 20,000
    (n^2 / 2^61); the store's unique index still catches one, and the queued tip is then
    dead-lettered for an operator, never stored under a code its sender does not hold.
    """
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    return "-".join([prefix] + [chars[i:i + 4] for i in range(0, len(chars), 4)])


def parse_tip_code(text):
    """A code as a citizen types it ('nb 7k3q9xpd 4mrt') in canonical form, or None."""
    if not isinstance(text, str):
        return None
    raw = re.sub(r"[\s\-_.]", "", text.upper())
    if len(raw) not in (10, 14):
        return None
    code = "-".join([raw[:2]] + [raw[i:i + 4] for i in range(2, len(raw), 4)])
    return code if _CODE_RE.match(code) else None


def new_secret():
    """192 random bits, URL-safe: shown to the tipster once, stored only hashed."""
    return secrets.token_urlsafe(24)


# Tip secrets are 192 random bits, not passwords: nobody can guess one, so a slow
# password hash (argon2) buys nothing and would cap intake far below the ~300 tips/s
# two cores must sustain. One SHA-256 (domain-separated) keeps the database free of
# usable secrets; the comparison is constant-time.
_SECRET_HASH_PREFIX = "sha256$"


def _digest(secret):
    return hashlib.sha256(b"binhyen.tips.secret|" + secret.encode("utf-8")).hexdigest()


_DUMMY_SECRET_HASH = _SECRET_HASH_PREFIX + _digest("binhyen-no-such-tip")


def hash_secret(secret):
    return _SECRET_HASH_PREFIX + _digest(secret)


def verify_secret(secret_hash, secret):
    """True when ``secret`` matches; same work whether or not the tip exists."""
    if not isinstance(secret, str) or not secret:
        secret = "\x00"
    stored = secret_hash if isinstance(secret_hash, str) and secret_hash else _DUMMY_SECRET_HASH
    ok = hmac.compare_digest(stored.encode("utf-8"), hash_secret(secret).encode("utf-8"))
    return ok and bool(secret_hash)


def same_code(a, b):
    """Constant-time comparison of two codes/tokens (no early exit on mismatch)."""
    return hmac.compare_digest(str(a).encode(), str(b).encode())


# ---------------------------------------------------------------------------
# Intake normalisation
# ---------------------------------------------------------------------------

CHANNELS = SOURCES
CONTACT_FIELDS = {"name", "phone", "email", "text"}
IDENTITY_FIELDS = ("contact", "zalo_user_id", "facebook_user_id")
INTAKE_FIELDS = {"text", "category", "ward", "location", "occurred_at", "anonymous",
                 "attachments", "channel", "message_id", *IDENTITY_FIELDS}
# Clock skew we tolerate on a citizen's "when it happened".
OCCURRED_FUTURE_SKEW = timedelta(minutes=10)
VN_TZ = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh has no DST

# Invisible characters that reorder or hide text (bidi overrides, zero-width space,
# BOM). The zero-width joiner stays: emoji sequences use it.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069\ufeff"))


def clean_text(text):
    """NFC, CRLF -> LF, no control characters except newline and tab."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_INVISIBLE)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def has_words(text):
    """At least one letter or digit: emoji, punctuation and spaces alone say nothing."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def clean_body(text, field, limit):
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInput("Nội dung không hợp lệ / Invalid text",
                           {field: ["Phải là chuỗi ký tự / Must be a string"]})
    text = clean_text(text).strip()
    if not has_words(text):
        raise InvalidInput(
            "Nội dung trống hoặc chỉ có biểu tượng, xin mô tả sự việc bằng chữ / "
            "The text is empty or only emoji; please describe what happened in words",
            {field: ["Bắt buộc nhập nội dung / Text required"]})
    if len(text) > limit:
        raise InvalidInput(
            f"Nội dung quá dài (tối đa {limit} ký tự) / Text too long (at most {limit} characters)",
            {field: [f"Tối đa {limit} ký tự / At most {limit} characters"]})
    return text


def _short_text(value, field, errors, limit=200):
    if value is None:
        return None
    if not isinstance(value, str):
        errors[field] = ["Phải là chuỗi ký tự / Must be a string"]
        return None
    value = clean_text(value).strip()
    if len(value) > limit:
        errors[field] = [f"Tối đa {limit} ký tự / At most {limit} characters"]
    return value or None


def _occurred_at(value, now, errors):
    if value is None:
        return None
    try:
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not isinstance(value, datetime):
            raise ValueError
    except ValueError:
        errors["occurred_at"] = ["Thời gian không hợp lệ / Invalid date-time"]
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)  # a citizen writes local time
    value = value.astimezone(timezone.utc)
    if value > as_utc(now) + OCCURRED_FUTURE_SKEW:
        errors["occurred_at"] = ["Thời gian ở tương lai / Time is in the future"]
    return value


def _location(value, errors):
    if value is None:
        return None
    if isinstance(value, str):
        value = {"text": value}
    if not isinstance(value, dict) or set(value) - {"text", "lat", "lng"}:
        errors["location"] = ["Dạng {text, lat, lng} / Expected {text, lat, lng}"]
        return None
    out = {"text": _short_text(value.get("text"), "location.text", errors, 500)}
    for key, bound in (("lat", 90), ("lng", 180)):
        v = value.get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or abs(v) > bound:
            errors[f"location.{key}"] = [f"Trong khoảng ±{bound} / Within ±{bound}"]
        else:
            out[key] = float(v)
    return out


def _attachments(value, errors):
    if value is None:
        return []
    if not isinstance(value, list):
        errors["attachments"] = ["Phải là danh sách / Must be a list"]
        return []
    if len(value) > ATTACHMENTS_MAX:
        errors["attachments"] = [f"Tối đa {ATTACHMENTS_MAX} tệp / At most {ATTACHMENTS_MAX} files"]
        return []
    out = []
    for i, item in enumerate(value):
        key = f"attachments.{i}"
        if not isinstance(item, dict):
            errors[key] = ["Phải là đối tượng / Must be an object"]
            continue
        ctype = item.get("content_type")
        ctype = ctype.split(";")[0].strip().lower() if isinstance(ctype, str) else None
        if ctype not in ATTACHMENT_TYPES:
            errors[f"{key}.content_type"] = [
                "Loại tệp không được nhận / File type not accepted: " + ", ".join(ATTACHMENT_TYPES)]
        size = item.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0 \
                or size > ATTACHMENT_MAX_BYTES:
            errors[f"{key}.size"] = ["Tệp tối đa 10 MB / Each file at most 10 MB"]
        name = item.get("filename")
        if isinstance(name, str):
            # keep only the base name: a path from the sender's machine says who they are
            name = re.split(r"[\\/]", clean_text(name))[-1].strip()[:200] or None
        else:
            name = None
        clean = {"content_type": ctype, "size": size, "filename": name}
        if isinstance(item.get("upload_id"), str):
            clean["upload_id"] = item["upload_id"]
        out.append(clean)
    return out


def _identity(payload, errors):
    identity = {}
    contact = payload.get("contact")
    if isinstance(contact, str):
        contact = {"text": contact}
    if contact is not None:
        if not isinstance(contact, dict):
            errors["contact"] = ["Dạng không hợp lệ / Invalid contact"]
        elif set(contact) - CONTACT_FIELDS:
            errors["contact"] = [f"Chỉ nhận / Only: {', '.join(sorted(CONTACT_FIELDS))}"]
        else:
            clean = {}
            for k, v in contact.items():
                value = _short_text(v, f"contact.{k}", errors)
                if value:
                    clean[k] = value
            if clean:
                identity["contact"] = clean
    for key in ("zalo_user_id", "facebook_user_id"):
        value = _short_text(payload.get(key), key, errors, 100)
        if value:
            identity[key] = value
    return identity or None


def prepare_intake(payload, now):
    """Normalise a citizen's tip. Returns ``{"body": ..., "identity": dict | None}``.

    ``body`` is what staff may read; ``identity`` (contact, Zalo/Facebook user id) is
    kept apart for the vault, even when ``anonymous`` is false. An unknown ward is not
    an error: the citizen's words are kept in ``ward_text`` and triage decides.
    """
    if not isinstance(payload, dict):
        raise InvalidInput("Dữ liệu không hợp lệ / Invalid payload", {"_schema": ["object"]})
    unknown = set(payload) - INTAKE_FIELDS
    if unknown:
        raise InvalidInput("Có trường không được nhận / Unknown fields",
                           {k: ["Trường lạ / Unknown field"] for k in sorted(unknown)})
    text = clean_body(payload.get("text"), "text", TEXT_MAX)
    errors = {}
    category = payload.get("category")
    if category is not None and category not in CITIZEN_CATEGORIES:
        errors["category"] = ["Loại tin không hợp lệ / Unknown category"]
    channel = payload.get("channel") or "web"
    if channel not in CHANNELS:
        errors["channel"] = [f"Một trong / One of: {', '.join(CHANNELS)}"]
    anonymous = payload.get("anonymous", True)
    if not isinstance(anonymous, bool):
        errors["anonymous"] = ["true | false"]
    body = {
        "text": text,
        "chosen_category": category,
        "ward_text": _short_text(payload.get("ward"), "ward", errors),
        "location": _location(payload.get("location"), errors),
        "occurred_at": _occurred_at(payload.get("occurred_at"), now, errors),
        "anonymous": anonymous,
        "attachments": _attachments(payload.get("attachments"), errors),
        "channel": channel,
        "message_id": _short_text(payload.get("message_id"), "message_id", errors),
    }
    identity = _identity(payload, errors)
    if errors:
        raise InvalidInput("Tin báo có trường không hợp lệ / The tip has invalid fields", errors)
    return {"body": body, "identity": identity}


# ---------------------------------------------------------------------------
# Acknowledgement to the citizen
# ---------------------------------------------------------------------------

HOTLINES = {"police": "113", "fire": "114", "ambulance": "115"}


def citizen_ack(tip_code, urgency):
    """The message a citizen gets right after sending a tip (web page, Zalo, Facebook).

    ``urgency`` None: not triaged yet (a web tip is triaged when stored, after its receipt),
    so the emergency advice comes first, for everyone.
    """
    follow = (f"Mã tin báo của bạn: {tip_code}. Hãy giữ mã này và mật mã đi kèm để theo dõi.\n"
              f"Your tip code: {tip_code}. Keep it and its secret to follow up.")
    if urgency is None:
        return (
            "Nếu sự việc đang xảy ra hoặc có người gặp nguy hiểm: HÃY GỌI NGAY 113 (Công an). "
            "Cháy, nổ: 114. Cấp cứu: 115. Tin báo qua mạng có thể không được đọc kịp thời.\n"
            "If it is happening now or anyone is in danger: CALL 113 (police) NOW. Fire: 114. "
            "Medical emergency: 115. A tip sent online may not be read in time.\n"
            "Công an thành phố đã nhận tin báo của bạn và sẽ xem xét, phản hồi. "
            "The city police have received your tip and will review it.\n" + follow)
    if urgency == "emergency":
        return (
            "KHẨN CẤP: HÃY GỌI NGAY 113 (Công an). Tin nhắn này có thể không được đọc kịp thời.\n"
            "Cháy, nổ: gọi 114. Có người bị thương, cấp cứu: gọi 115.\n"
            "EMERGENCY: CALL 113 (police) NOW. This message may not be read in time.\n"
            "Fire: call 114. Injured people, medical emergency: call 115.\n"
            "Chúng tôi đã nhận tin và báo ngay cho cán bộ trực ban. "
            "We have received your tip and alerted the duty officer.\n" + follow)
    if urgency == "high":
        head = ("Công an thành phố đã nhận tin báo và sẽ xử lý sớm. "
                "Nếu có người gặp nguy hiểm, hãy gọi ngay 113.\n"
                "The city police have received your tip and will act on it soon. "
                "If anyone is in danger, call 113 now.\n")
    else:
        head = ("Công an thành phố cảm ơn bạn đã gửi tin báo. Chúng tôi sẽ xem xét và phản hồi. "
                "Trường hợp khẩn cấp, hãy gọi 113.\n"
                "Thank you: the city police have received your tip and will review it. "
                "In an emergency, call 113.\n")
    return head + follow


STATUS_PATH = "/api/v1/public/tips/{code}"


def receipt(tip_code, secret, urgency, duplicate=False):
    """What the citizen gets back for a tip: {tip_code, secret, status_url, urgency, message,
    duplicate}; status_url is a path (the gateway makes it absolute)."""
    return {"tip_code": tip_code, "secret": secret, "status_url": STATUS_PATH.format(code=tip_code),
            "urgency": urgency, "message": citizen_ack(tip_code, urgency), "duplicate": duplicate}
