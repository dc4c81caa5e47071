"""Rule-based category scores and spam detection from the weighted cue lexicons.

Each category has weighted cue phrases (``lexicons/categories.json``). A cue
preceded by a negation inside the same clause counts against its category, so
"ko phai danh nhau" is evidence of no fight. With a clear theft cue, violence
must be twice as strong to take the category (an armed robbery is theft).
"""
from __future__ import annotations

import re
from typing import Sequence

from contracts.tips import CATEGORIES as contract_categories
from services.tips.triage.lexicons import CATEGORY, SPAM, URGENCY
from services.tips.triage.text import CLAUSE_BREAK, cue_hits, find_phrase, has_any, is_negated

CATEGORIES: tuple[str, ...] = contract_categories  # the lexicon scores these, no others
assert tuple(CATEGORY["categories"]) == CATEGORIES, "lexicons/*.json and contracts.tips.CATEGORIES differ"
# When scores tie, the more specific / more serious matter wins (README: an
# armed robbery is theft, a fake policeman is fraud).
CATEGORY_PRIORITY: tuple[str, ...] = tuple(CATEGORY["priority"])
CATEGORY_CUES: dict[str, dict[str, float]] = CATEGORY["cues"]
LOOKALIKES: tuple[str, ...] = tuple(CATEGORY["lookalikes"])
QUESTION_CUES: tuple[str, ...] = tuple(CATEGORY["question_cues"])
NARRATIVE_CUES: tuple[str, ...] = tuple(CATEGORY["narrative_cues"])

SPAM_CUES: dict[str, float] = SPAM["spam_cues"]
ABUSE_CUES: tuple[str, ...] = tuple(SPAM["abuse_cues"])
REPORT_CUES: tuple[str, ...] = tuple(SPAM["report_cues"])
ABUSE_MAX_WORDS = 25

# The writer saying "it is not X" is evidence against X, not just no evidence.
NEGATED_CUE_PENALTY = 0.5
# A question-only tip is short; a long one narrates something anyway.
QUESTION_ONLY_MAX_WORDS = 40
# Without any question a procedure word ("can cuoc", "ho so") is incidental.
NO_QUESTION_PROCEDURE_FACTOR = 0.5
QUESTION_ONLY_BONUS = 2.5
# Abduction cue weight for the violence score.
ABDUCTION_WEIGHT = 4.0
# Armed robbery is theft_robbery: with a clear theft cue, violence (the weapon,
# the blow) has to be much stronger to take the category.
ROBBERY_MIN_THEFT = 2.5
ROBBERY_VIOLENCE_RATIO = 2.0
# With no cue at all there is nothing to go on.
MIN_CATEGORY_SCORE = 1.0

# Someone being carried off: a taking verb shortly before "lên xe" etc., with a
# person named between the two.
TAKING_VERBS: tuple[str, ...] = tuple(URGENCY["taking_verbs"])
TAKEN_INTO: tuple[str, ...] = tuple(URGENCY["taken_into"])
PERSON_WORDS: tuple[str, ...] = tuple(URGENCY["person_words"])
TAKING_WINDOW = 14

_VIETNAMESE_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(uye|uya|ươi|[aeiouy]{1,3})(ng|nh|ch|[cmnpt])?$")


def looks_like_gibberish(tokens: Sequence[str]) -> bool:
    words = [t for t in tokens if t.isalpha()]
    if not words:
        return True
    valid = sum(1 for w in words if _VIETNAMESE_SYLLABLE.match(w))
    return len(words) <= 12 and valid / len(words) < 0.5


def taken_away(tokens: Sequence[str]) -> list[str]:
    """A person being carried off: "bế cháu lên xe", "kéo chị ấy lên ô tô"."""
    verbs = [p for _, _, p in cue_hits(tokens, list(TAKING_VERBS), honour_negation=False)]
    into = cue_hits(tokens, list(TAKEN_INTO), honour_negation=False)
    for phrase, _, pos in into:
        for v in verbs:
            between = tokens[v + 1:pos]
            if (0 < pos - v <= TAKING_WINDOW and not any(t in CLAUSE_BREAK for t in between)
                    and has_any(between, PERSON_WORDS, honour_negation=False)):
                return ["taken: " + phrase]
    return []


def all_category_hits(tokens: Sequence[str]):
    """(category, phrase, weight, position, negated) for every cue occurrence.

    Longest match wins across all lexicons and LOOKALIKES, so "danh bac" is
    gambling only, "tu tap nghien" drugs only, "giu bi mat" nothing.
    """
    spans = []
    for category, lexicon in CATEGORY_CUES.items():
        for phrase, weight in lexicon.items():
            words = phrase.split()
            for pos in find_phrase(tokens, words):
                spans.append((pos, pos + len(words), category, phrase, weight))
    for phrase in LOOKALIKES:
        words = phrase.split()
        for pos in find_phrase(tokens, words):
            spans.append((pos, pos + len(words), None, phrase, 0.0))
    out = []
    for start, end, category, phrase, weight in spans:
        if category is None:
            continue
        shadowed = any(s <= start and end <= e and (e - s) > (end - start)
                       for s, e, *_ in spans)
        if shadowed:
            continue
        out.append((category, phrase, weight, start, is_negated(tokens, start)))
    return out


def score_categories(tokens: Sequence[str]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """category -> score, and category -> the cues that made it (for ``reasons``)."""
    scores = {c: 0.0 for c in CATEGORY_CUES}
    cues: dict[str, list[str]] = {c: [] for c in CATEGORY_CUES}
    for category, phrase, weight, _, negated in all_category_hits(tokens):
        if negated:
            scores[category] -= NEGATED_CUE_PENALTY * weight
            cues[category].append("not " + phrase)
        else:
            scores[category] += weight
            cues[category].append(phrase)
    if taken_away(tokens):
        scores["violence"] += ABDUCTION_WEIGHT
        cues["violence"].append("person taken")
    asks = bool(has_any(tokens, QUESTION_CUES, honour_negation=False))
    narrates = bool(has_any(tokens, NARRATIVE_CUES, honour_negation=False))
    if not asks:
        scores["procedure_question"] *= NO_QUESTION_PROCEDURE_FACTOR
    elif not narrates and scores["procedure_question"] > 0:
        # A pure question that tells of no event is about a procedure even
        # when it names a crime ("mất điện thoại có nên báo không").
        scores["procedure_question"] += QUESTION_ONLY_BONUS
        cues["procedure_question"].append("question")
    return scores, cues


def is_spam(tokens: Sequence[str], scores: dict[str, float]) -> tuple[bool, list[str]]:
    words = [t for t in tokens if t.isalnum()]
    if looks_like_gibberish(tokens):
        return True, ["gibberish"]
    strongest_report = max(v for k, v in scores.items() if k != "other")
    # The same few words repeated ("xin chao xin chao xin chao").
    if len(words) >= 6 and len(set(words)) / len(words) <= 0.4 and strongest_report < 2:
        return True, ["repetition"]
    hits = cue_hits(tokens, SPAM_CUES, honour_negation=False)
    ad_score = sum(w for _, w, _ in hits)
    reporting = has_any(tokens, REPORT_CUES)
    # An advert quotes loan/investment words that also score as fraud, so a
    # clearly stronger advertising signal wins over a moderate report score.
    if ad_score >= 4 and not reporting and (strongest_report < 4 or ad_score >= strongest_report + 3):
        return True, [p for p, _, _ in hits]
    # A short insult with nothing described ("ăn hại", "vô dụng").
    abuse = has_any(tokens, ABUSE_CUES, honour_negation=False)
    if abuse and len(words) <= ABUSE_MAX_WORDS and strongest_report < 2.5 and not reporting:
        return True, ["abuse: " + ", ".join(abuse[:2])]
    return False, []


def is_question_only(tokens: Sequence[str], past_cues: Sequence[str]) -> bool:
    words = [t for t in tokens if t.isalnum()]
    return (len(words) <= QUESTION_ONLY_MAX_WORDS
            and bool(has_any(tokens, QUESTION_CUES, honour_negation=False))
            and not has_any(tokens, NARRATIVE_CUES + tuple(past_cues), honour_negation=False))


def rule_category(scores: dict[str, float], cues: dict[str, list[str]]) -> tuple[str, float, list[str]]:
    """The lexicon's category, its confidence (share of the positive score) and reasons."""
    ranked = sorted(CATEGORY_PRIORITY, key=lambda c: (-scores.get(c, 0.0), CATEGORY_PRIORITY.index(c)))
    suggested = ranked[0]
    theft = scores.get("theft_robbery", 0.0)
    if (suggested == "violence" and theft >= ROBBERY_MIN_THEFT
            and scores["violence"] < ROBBERY_VIOLENCE_RATIO * theft):
        suggested = "theft_robbery"  # armed robbery
    top = scores.get(suggested, 0.0)
    if top < MIN_CATEGORY_SCORE:
        suggested, top = "other", 0.0
    total = sum(v for v in scores.values() if v > 0)
    confidence = round(top / total, 3) if total else 0.0
    reasons = [f"{suggested}: " + ", ".join(cues.get(suggested, [])[:4])] if top else []
    return suggested, confidence, reasons
