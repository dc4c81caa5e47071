"""Ward gazetteer: which ward or commune of the city a tip names, in any spelling.

Built from reference data passed in, never from a hard-coded list (the 2025
reorganisation renamed wards); an entry's ``aliases`` keep old names working.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from services.tips.triage.lexicons import WARDS
from services.tips.triage.text import CLAUSE_BREAK, find_phrase, fold_tokens

WARD_PREFIXES: tuple[str, ...] = tuple(WARDS["prefixes"])
# A ward name right after these is a street/road/bridge name, not the ward.
STREET_WORDS: tuple[str, ...] = tuple(WARDS["street_words"])
# Wording before a mention that says where action is needed (+) or is just
# background (-): the writer's former home, where a bus came from, etc.
WARD_ACTION_BEFORE: dict[str, float] = WARDS["action_before"]
WARD_BACKGROUND_BEFORE: dict[str, float] = WARDS["background_before"]
# Words after a ward name that place it outside the city.
OUTSIDE_MARKERS: tuple[str, ...] = tuple(WARDS["outside_markers"])
HOME_CITY: tuple[str, ...] = tuple(WARDS["home_city"])

@dataclass(frozen=True)
class WardMention:
    ward_id: str
    position: int
    length: int
    has_prefix: bool
    score: float

class WardGazetteer:
    """Finds ward/commune mentions in any spelling, from a ward list passed in.

    ``wards``: dicts ``{"id", "name", "type"}`` plus optional ``"aliases"``
    (e.g. the old names of a merged ward).
    """

    def __init__(self, wards: Iterable[dict]):
        self.wards = [dict(w) for w in wards]
        self._names: list[tuple[list[str], str]] = []
        for ward in self.wards:
            names = [ward["name"], *ward.get("aliases", [])]
            for name in names:
                words = [w for w in fold_tokens(name) if w not in CLAUSE_BREAK]
                if not words:
                    continue
                self._names.append((words, ward["id"]))
                if len(words) > 1:  # "ninhkhanh" typed without a space
                    self._names.append((["".join(words)], ward["id"]))
        # Longest names first so "Ninh Khánh Đông" beats "Ninh Khánh".
        self._names.sort(key=lambda n: -len(n[0]))

    def name_of(self, ward_id: str) -> str | None:
        for ward in self.wards:
            if ward["id"] == ward_id:
                return ward["name"]
        return None

    def mentions(self, text: str) -> list[WardMention]:
        return self.mentions_in(fold_tokens(text))

    def mentions_in(self, tokens: Sequence[str]) -> list[WardMention]:
        """Mentions in already folded tokens."""
        taken: set[int] = set()
        found: list[WardMention] = []
        for words, ward_id in self._names:
            for pos in find_phrase(tokens, words):
                span = set(range(pos, pos + len(words)))
                if span & taken:
                    continue
                before = list(tokens[max(0, pos - 4):pos])
                has_prefix = bool(before) and (
                    before[-1] in WARD_PREFIXES
                    or " ".join(before[-2:]) in WARD_PREFIXES)
                if not has_prefix and self._is_street_name(before):
                    continue
                if self._is_outside_city(tokens, pos + len(words)):
                    continue
                taken |= span
                found.append(WardMention(ward_id, pos, len(words), has_prefix,
                                         self._action_score(before, has_prefix)))
        found.sort(key=lambda m: m.position)
        return found

    @staticmethod
    def _is_street_name(before: list[str]) -> bool:
        tail1 = before[-1:] and before[-1]
        tail2 = " ".join(before[-2:])
        return tail1 in STREET_WORDS or tail2 in STREET_WORDS

    @staticmethod
    def _is_outside_city(tokens: Sequence[str], end: int) -> bool:
        after = [t for t in tokens[end:end + 6] if t not in (",", "-")]
        for marker in OUTSIDE_MARKERS:
            words = marker.split()
            if after[:len(words)] == words:
                rest = " ".join(after[len(words):len(words) + 2])
                return bool(rest) and rest not in HOME_CITY
        return False

    @staticmethod
    def _action_score(before: list[str], has_prefix: bool) -> float:
        words = [t for t in before if t not in WARD_PREFIXES]
        score = 0.5 if has_prefix else 0.0
        for table in (WARD_ACTION_BEFORE, WARD_BACKGROUND_BEFORE):
            best = 0.0
            for phrase, weight in table.items():
                n = len(phrase.split())
                if " ".join(words[-n:]) == phrase or " ".join(words[-n - 1:-1]) == phrase:
                    best = weight if abs(weight) > abs(best) else best
            score += best
        return score

    def mask(self, tokens: Sequence[str], mentions: Sequence[WardMention]) -> list[str]:
        """Tokens with each ward mention replaced by one placeholder word each."""
        out = list(tokens)
        for m in mentions:
            for i in range(m.position, m.position + m.length):
                out[i] = "_ward_"
        return out

    def find(self, text: str) -> str | None:
        """The ward where action is needed, or None."""
        return self.choose(self.mentions(text))

    @staticmethod
    def choose(mentions: Sequence[WardMention]) -> str | None:
        if not mentions:
            return None
        ids = {m.ward_id for m in mentions}
        if len(ids) == 1:
            return mentions[0].ward_id
        # Several wards: highest action score; on a tie the later mention,
        # since tips usually start with who writes and end with where to act.
        best = max(mentions, key=lambda m: (m.score, m.position))
        return best.ward_id
