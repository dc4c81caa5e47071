"""One tip's triage: the rule-based lexicons, and the learned category model where given.

Everything an officer sees (category, urgency, ward) is a *suggestion*;
``reasons`` lists what produced it so the desk can judge it quickly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from services.tips.triage.categories import CATEGORIES, is_spam, rule_category, score_categories
from services.tips.triage.text import fold_tokens
from services.tips.triage.urgency import urgency
from services.tips.triage.wards import WardGazetteer


@dataclass
class TriageResult:
    category: str
    urgency: str
    ward: str | None
    is_spam: bool
    confidence: float
    category_scores: dict[str, float] = field(default_factory=dict)
    suggested_category: str | None = None
    category_disagreement: bool = False
    reasons: list[str] = field(default_factory=list)


# A citizen's chosen category is only contested when triage is clearly sure.
DISAGREEMENT_MIN_SCORE = 4.0
DISAGREEMENT_MIN_CONFIDENCE = 0.6


def triage(text: str, wards: WardGazetteer, chosen_category: str | None = None) -> TriageResult:
    """Suggest category, urgency and ward for one tip."""
    tokens = fold_tokens(text)
    mentions = wards.mentions_in(tokens)
    # Ward names are places, not cues ("Bích Đào kiểm tra" is no "dao kiem").
    tokens = wards.mask(tokens, mentions)
    scores, cues = score_categories(tokens)
    spam, spam_reasons = is_spam(tokens, scores)

    if spam:
        suggested = "spam"
        confidence = 1.0
        reasons = ["spam: " + ", ".join(spam_reasons[:3])]
    else:
        suggested, confidence, reasons = rule_category(scores, cues)

    category = suggested
    disagreement = False
    if chosen_category and chosen_category in CATEGORIES:
        category = chosen_category  # the citizen's choice is kept, only flagged
        if chosen_category != suggested:
            chosen_score = scores.get(chosen_category, 0.0)
            top = scores.get(suggested, 0.0) if suggested != "spam" else 10.0
            disagreement = (top >= DISAGREEMENT_MIN_SCORE
                            and confidence >= DISAGREEMENT_MIN_CONFIDENCE
                            and chosen_score < top / 2)

    level, urgency_reasons = urgency(tokens, "spam" if spam else category)
    ward = None if spam else wards.choose(mentions)
    if ward:
        reasons.append("ward: " + (wards.name_of(ward) or ward))
    return TriageResult(
        category=category,
        urgency=level,
        ward=ward or None,
        is_spam=spam,
        confidence=confidence,
        category_scores={k: v for k, v in scores.items() if v > 0},
        suggested_category=suggested,
        category_disagreement=disagreement,
        reasons=reasons + urgency_reasons,
    )
