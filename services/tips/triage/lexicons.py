"""The lexicons of the rule-based triage, loaded from the JSON files beside this module.

They are data, not code: a desk that finds a missing word adds it to
``lexicons/*.json`` (folded ASCII, as ``fold`` writes it) and nothing else changes.
"""
from __future__ import annotations

import json
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"


def _load(name: str) -> dict:
    with open(LEXICON_DIR / f"{name}.json", encoding="utf-8") as f:
        return json.load(f)


TEXT = _load("text")
CATEGORY = _load("categories")
SPAM = _load("spam")
URGENCY = _load("urgency")
WARDS = _load("wards")
