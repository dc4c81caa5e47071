"""Triage of citizen tips written in Vietnamese: category, urgency, ward, spam.

  text.py        folding (NFC, diacritics, chat abbreviations) and cue matching
  lexicons/      the cue lexicons as JSON data (lexicons.py loads them)
  categories.py  rule-based category scores and spam
  urgency.py     emergency / high / normal / low
  wards.py       the ward gazetteer (from reference data, never hard-coded)
  decision.py    one tip's TriageResult
  duplicates.py  near-duplicate tips;  redaction.py  phone, ID-card and plate numbers

Pure domain code, no I/O beyond reading the lexicon files once at import.
"""
from contracts.text import fold_for_search, normalise, search_tokens, strip_diacritics  # noqa: F401
from services.tips.triage.categories import CATEGORIES, CATEGORY_PRIORITY  # noqa: F401
from services.tips.triage.decision import TriageResult, triage  # noqa: F401
from services.tips.triage.duplicates import near_duplicates  # noqa: F401
from services.tips.triage.redaction import redact  # noqa: F401
from services.tips.triage.text import fold, fold_tokens  # noqa: F401
from services.tips.triage.urgency import URGENCY_LEVELS  # noqa: F401
from services.tips.triage.wards import WardGazetteer, WardMention  # noqa: F401
