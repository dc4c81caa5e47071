"""One tip's triage: the rule-based lexicons, and the learned model where given.

Everything an officer sees (category, urgency, ward) is a *suggestion*;
``reasons`` lists what produced it so the desk can judge it quickly.

With a model, each part does what it is good at:
  * category: the model's calibrated probabilities and the lexicons' scores are
    combined (weighted geometric mean, weights chosen out of fold on tips the
    lexicons were not written from); the lexicons keep negation ("không phải đánh
    nhau" counts against violence) and their spam verdict;
  * urgency: the rules (tense, danger, weapon and life-threat cues) on the combined
    category, raised to emergency when the model's emergency head is above its
    threshold, because a missed emergency can cost a life; to keep false ones (minutes
    each and, repeated, the officers' trust in the flag) down, the head raises only in
    categories where emergencies are common in the training tips
    (``emergency_categories``, chosen by ``services.tips.train``); the reason names the
    danger or "happening now" wording it found (``second_signals``);
  * ward: the gazetteer alone (reference data, not learned).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from services.tips.triage.categories import CATEGORIES, is_spam, rule_category, score_categories
from services.tips.triage.model import TriageModel, combine, lexicon_probabilities
from services.tips.triage.text import fold_tokens
from services.tips.triage.urgency import second_signals, urgency
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


# With the model: contested when the combined suggestion is this sure and the
# citizen's choice this unlikely.
DISAGREEMENT_MIN_PROBABILITY = 0.6
DISAGREEMENT_MAX_CHOSEN_PROBABILITY = 0.1
# Spam is the lexicons' verdict (precision 1.0 so far); the model may add spam only when
# spam is more likely than everything else together (in cross-validation without the
# unseen half of tips-extra its spam verdicts were all right at 0.5 and caught 0.89 of
# spam against 0.79 at 0.8).
MODEL_SPAM_MIN_PROBABILITY = 0.5
# Categories the emergency head never raises: no life at stake now (a scam in
# progress is high, as in the rules; spam and questions are low).
NEVER_EMERGENCY = frozenset({"spam", "procedure_question", "fraud"})


def triage(text: str, wards: WardGazetteer, chosen_category: str | None = None,
           model: TriageModel | None = None) -> TriageResult:
    """Suggest category, urgency and ward for one tip (lexicons alone without ``model``)."""
    tokens = fold_tokens(text)
    mentions = wards.mentions_in(tokens)
    # Ward names are places, not cues ("Bích Đào kiểm tra" is no "dao kiem").
    tokens = wards.mask(tokens, mentions)
    scores, cues = score_categories(tokens)
    spam, spam_reasons = is_spam(tokens, scores)

    if model is not None:
        return _with_model(text, tokens, mentions, scores, cues, spam, spam_reasons, wards,
                           chosen_category, model)
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


def _with_model(text, tokens, mentions, scores, cues, spam, spam_reasons, wards, chosen_category,
                model: TriageModel) -> TriageResult:
    opinion = model.opinion(text)
    categories = model.categories
    model_p = np.array([opinion.category_probabilities[c] for c in categories])
    lexicon_p = lexicon_probabilities(scores, spam, categories, model.lexicon_temperature)
    p = combine(model_p, lexicon_p, model.model_weight)
    probabilities = dict(zip(categories, (round(float(x), 3) for x in p)))
    suggested = categories[int(p.argmax())]
    if suggested == "spam" and not spam and probabilities["spam"] < MODEL_SPAM_MIN_PROBABILITY:
        suggested = max((c for c in categories if c != "spam"), key=probabilities.get)
    is_spam_now = suggested == "spam"
    confidence = probabilities[suggested]

    model_top = max(opinion.category_probabilities, key=opinion.category_probabilities.get)
    reasons = [f"{suggested} {confidence:.2f} (model {model_top} "
               f"{opinion.category_probabilities[model_top]:.2f})"]
    if spam:
        reasons.append("spam: " + ", ".join(spam_reasons[:3]))
    elif cues.get(suggested):
        reasons.append(f"{suggested} cues: " + ", ".join(cues[suggested][:4]))

    category = suggested
    disagreement = False
    if chosen_category and chosen_category in CATEGORIES:
        category = chosen_category  # the citizen's choice is kept, only flagged
        # "other" is the absence of a matter, never evidence against the citizen's choice.
        disagreement = (chosen_category != suggested and suggested != "other"
                        and confidence >= DISAGREEMENT_MIN_PROBABILITY
                        and probabilities.get(chosen_category, 0.0) <= DISAGREEMENT_MAX_CHOSEN_PROBABILITY)

    level, urgency_reasons = urgency(tokens, "spam" if is_spam_now else category)
    if (level != "emergency" and not is_spam_now and category in model.emergency_categories
            and opinion.emergency_score >= model.emergency_threshold):
        # No second signal is required: that gate halved the false alarms but missed one more
        # emergency in cross-validation, and a missed emergency costs more than an officer's minutes.
        signals = second_signals(tokens)
        level = "emergency"
        urgency_reasons = [f"emergency wording (model {opinion.emergency_score:+.2f})"
                           + "".join(", " + signal for signal in signals[:3])]
    ward = None if is_spam_now else wards.choose(mentions)
    if ward:
        reasons.append("ward: " + (wards.name_of(ward) or ward))
    return TriageResult(
        category=category,
        urgency=level,
        ward=ward or None,
        is_spam=is_spam_now,
        confidence=confidence,
        category_scores={c: v for c, v in probabilities.items() if v >= 0.01},
        suggested_category=suggested,
        category_disagreement=disagreement,
        reasons=reasons + urgency_reasons,
    )
