"""Loading RPC input through a marshmallow schema, the same way in every service."""
import unicodedata

from marshmallow import ValidationError

from contracts.rpc import InvalidInput


def nfc_strings(value):
    """NFC-normalise every string in a JSON-like value (Vietnamese typed as NFD or NFC)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc_strings(k): nfc_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc_strings(v) for v in value]
    return value


def load(schema, payload):
    """schema.load(payload) with NFC strings; InvalidInput (422) with per-field errors."""
    try:
        return schema.load(nfc_strings(payload))
    except ValidationError as exc:
        raise InvalidInput("Dữ liệu không hợp lệ / invalid input", exc.messages)
