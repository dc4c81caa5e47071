"""Redaction of personal identifiers before tip text goes anywhere public (events,
exported training examples): phone numbers, citizen ID numbers, licence plates."""
from __future__ import annotations

import re

from contracts.text import normalise

PHONE_PLACEHOLDER = "[số điện thoại]"
CITIZEN_ID_PLACEHOLDER = "[số CCCD]"
PLATE_PLACEHOLDER = "[biển số]"

_SEP = r"[\s.\-]?"
# 12-digit citizen ID (CCCD), optionally grouped "037 190 001 234".
_CITIZEN_ID = re.compile(r"(?<![\w\d])\d{3}(?:[ .]?\d{3}){3}(?![\w\d])")
# Mobile/landline: 0 + 9–10 digits or +84/84 + 9–10 digits, with separators.
_PHONE = re.compile(
    r"(?<![\w\d+])(?:\+84|84|0)" + _SEP + r"\(?\d{2,3}\)?(?:" + _SEP + r"\d){6,8}(?![\w\d])")
# Licence plates: "35A-123.45", "35A12345", "35-B1 234.56", "29LD-123.45",
# "35B1-234.56", old style "35A-1234".
_PLATE = re.compile(
    r"(?<![\w\d])\d{2}\s?-?\s?[A-Z]{1,2}\d?\s?[-.]?\s?(?:\d{3}[.\s]?\d{2}|\d{4})(?![\w\d])",
    re.IGNORECASE)


def redact(text: str) -> str:
    """Replace phone numbers, citizen ID numbers and plates with placeholders."""
    text = normalise(text)
    text = _CITIZEN_ID.sub(CITIZEN_ID_PLACEHOLDER, text)
    text = _PLATE.sub(PLATE_PLACEHOLDER, text)
    text = _PHONE.sub(PHONE_PLACEHOLDER, text)
    return text
