"""Near-duplicate tips (merge suggestions) by folded word-bigram Jaccard similarity."""
from __future__ import annotations

from typing import Iterable

from services.tips.triage.text import CLAUSE_BREAK, fold

DUPLICATE_THRESHOLD = 0.5


def _shingles(text: str, size: int = 2) -> set[str]:
    words = [w for w in fold(text).split() if w not in CLAUSE_BREAK]
    if len(words) < size:
        return set(words)
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def near_duplicates(text: str, open_tips: Iterable[tuple[object, str]],
                    threshold: float = DUPLICATE_THRESHOLD) -> list[tuple[object, float]]:
    """Open tips whose folded word-bigram Jaccard similarity reaches ``threshold``.

    Folding first means the same message sent once with and once without
    diacritics, or with "ko"/"không", still counts as a duplicate.
    """
    mine = _shingles(text)
    if not mine:
        return []
    found = []
    for tip_id, other_text in open_tips:
        theirs = _shingles(other_text)
        if not theirs:
            continue
        score = len(mine & theirs) / len(mine | theirs)
        if score >= threshold:
            found.append((tip_id, round(score, 3)))
    found.sort(key=lambda f: -f[1])
    return found
