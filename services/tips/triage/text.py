"""Folding Vietnamese tip text into one ASCII token stream, and finding cue phrases in it.

``fold`` turns any spelling (with/without diacritics, NFC/NFD, chat
abbreviations) into one token stream; every lexicon is written in that folded
form. Punctuation that ends a clause stays a token of its own, so phrase cues
and negation windows never cross a clause.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Sequence

from contracts.text import normalise, strip_diacritics
from services.tips.triage.lexicons import CATEGORY, TEXT

# Chat abbreviations, one folded token -> expansion. Only unambiguous ones: "a" is
# not there because it is also the folded "ạ", "bh" could be "bây giờ" or "bao giờ".
CHAT_ABBREVIATIONS: dict[str, str] = TEXT["chat_abbreviations"]
# Number + unit written together: "3tr", "500k", "15p", "2h".
_NUMBER_UNITS: dict[str, str] = TEXT["number_units"]
_NUMBER_UNIT = re.compile(r"^(\d+)(" + "|".join(sorted(_NUMBER_UNITS, key=len, reverse=True)) + r")$")
# Abbreviated administrative prefixes written with a dot: "P.Ninh Khánh", "x.".
_PREFIX_DOT = [
    (re.compile(r"(?<![a-z0-9])tp\s*\.\s*"), " thanh pho "),
    (re.compile(r"(?<![a-z0-9])p\s*\.\s*"), " phuong "),
    (re.compile(r"(?<![a-z0-9])x\s*\.\s*"), " xa "),
    (re.compile(r"(?<![a-z0-9])q\s*\.\s*"), " quan "),
    (re.compile(r"(?<![a-z0-9])h\s*\.\s*"), " huyen "),
]
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?()\n]")
CLAUSE_BREAK = set(".,;:!?()\n")

# Negations that cancel a cue starting within the next few tokens of the same
# clause ("khong phai danh nhau", "chua danh ai", "chang phai trom").
NEGATIONS: tuple[str, ...] = tuple(CATEGORY["negations"])
NEGATION_WINDOW = 4
# Bare "khong" negates only the very next word ("khong danh"), because it is
# everywhere in ordinary sentences ("khong ngu duoc", "khong dam ra").
BARE_NEGATION_WINDOW = 1
# Phrases that contain a cue but mean something else ("giu bi mat" is keeping a
# secret, not "bi mat" = lost). The longest match wins, so these shadow the cue.
LOOKALIKES: tuple[str, ...] = tuple(CATEGORY["lookalikes"])


def fold_tokens(text: str) -> list[str]:
    """Folded tokens with punctuation kept as clause-break tokens."""
    t = strip_diacritics(normalise(text).lower())
    for pattern, replacement in _PREFIX_DOT:
        t = pattern.sub(replacement, t)
    out: list[str] = []
    raw = _TOKEN.findall(t)
    for i, tok in enumerate(raw):
        m = _NUMBER_UNIT.match(tok)
        if m:
            out.extend([m.group(1), _NUMBER_UNITS[m.group(2)]])
            continue
        if tok == "a" and i + 1 < len(raw) and raw[i + 1] == "oi":
            out.append("anh")  # "a oi" = "anh ơi"; a bare "a" is usually "ạ"
            continue
        out.extend(CHAT_ABBREVIATIONS.get(tok, tok).split())
    return out


def fold(text: str) -> str:
    """Lower-case ASCII fold with chat abbreviations expanded."""
    return " ".join(fold_tokens(text))


@functools.lru_cache(maxsize=64)
def _positions(tokens: tuple) -> dict:
    """token -> where it occurs. Built once per text: every lexicon phrase then looks only
    at the places its first word occurs, not at the whole text (triage runs per tip)."""
    index: dict = {}
    for i, t in enumerate(tokens):
        index.setdefault(t, []).append(i)
    return index


def find_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> list[int]:
    tokens = tuple(tokens)
    phrase = tuple(phrase)
    n = len(phrase)
    return [i for i in _positions(tokens).get(phrase[0], ()) if tokens[i:i + n] == phrase]


def is_negated(tokens: Sequence[str], start: int) -> bool:
    """True when a negation precedes ``start`` within the same clause."""
    lo = max(0, start - NEGATION_WINDOW - 2)
    window: list[str] = []
    for t in tokens[lo:start]:
        window = [] if t in CLAUSE_BREAK else window + [t]
    for neg in NEGATIONS:
        words = neg.split()
        limit = BARE_NEGATION_WINDOW if neg == "khong" else NEGATION_WINDOW
        for i in range(len(window) - len(words) + 1):
            if window[i:i + len(words)] == words:
                gap = len(window) - (i + len(words))
                if gap < limit:
                    return True
    return False


def cue_hits(tokens: Sequence[str], cues: dict[str, float] | Iterable[str],
             honour_negation: bool = True) -> list[tuple[str, float, int]]:
    """All cue occurrences that are not negated: (phrase, weight, position).

    A cue contained inside a longer matched cue at the same place is dropped,
    so "mat trom" does not also score "trom".
    """
    weights = cues if isinstance(cues, dict) else {c: 1.0 for c in cues}
    tokens = tuple(tokens)  # once: find_phrase's tuple() of a tuple is then free
    spans = []
    for phrase, weight in weights.items():
        words = phrase.split()
        for pos in find_phrase(tokens, words):
            if honour_negation and is_negated(tokens, pos):
                continue
            spans.append((pos, pos + len(words), phrase, weight))
    shadows = [(pos, pos + len(p.split())) for p in LOOKALIKES
               for pos in find_phrase(tokens, p.split())]
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str, float]] = []
    for span in spans:
        longer = [k[:2] for k in kept] + shadows
        if any(a <= span[0] and span[1] <= b and b - a > span[1] - span[0] for a, b in longer):
            continue
        kept.append(span)
    return [(p, w, s) for s, e, p, w in kept]


def has_any(tokens: Sequence[str], phrases: Iterable[str], honour_negation: bool = True) -> list[str]:
    return [p for p, _, _ in cue_hits(tokens, list(phrases), honour_negation)]


def clause_of(tokens: Sequence[str], pos: int) -> tuple[int, int]:
    lo = pos
    while lo > 0 and tokens[lo - 1] not in CLAUSE_BREAK:
        lo -= 1
    hi = pos
    while hi < len(tokens) and tokens[hi] not in CLAUSE_BREAK:
        hi += 1
    return lo, hi


def near(tokens: Sequence[str], positions_a: Iterable[int], positions_b: Iterable[int],
         distance: int) -> bool:
    """True when two cue positions lie within ``distance`` words in one sentence."""
    sentence_end = {".", "!", "?", "\n"}
    for a in positions_a:
        for b in positions_b:
            lo, hi = sorted((a, b))
            if hi - lo <= distance and not any(t in sentence_end for t in tokens[lo:hi]):
                return True
    return False
