"""Urgency of a tip (emergency / high / normal / low) from tense and danger cues.

Life or safety threatened now is an emergency: an attack under way, a weapon in
use, someone collapsed or not responding, fire with people inside, drowning,
electrocution, self-harm, strangling, hostage-taking, a person being carried
off. A scam in progress, a sighting now or a threat with no attacker present is
high; past incidents and nuisances are normal; questions, thanks and spam low.
An explicit "giờ đang" beats an earlier past cue in the same clause.
"""
from __future__ import annotations

from typing import Sequence

from services.tips.triage.categories import is_question_only, taken_away
from services.tips.triage.lexicons import URGENCY
from services.tips.triage.text import CLAUSE_BREAK, clause_of, cue_hits, has_any, near

# Happening right now (or seconds ago). "dang" alone is weak: it also marks a
# background ("chi ay dang tap the duc") in a story told about the past.
STRONG_PRESENT_CUES: tuple[str, ...] = tuple(URGENCY["strong_present"])
WEAK_PRESENT_CUES: tuple[str, ...] = tuple(URGENCY["weak_present"])
# Explicit "right now" wording wins over an earlier past cue in the same clause.
EXPLICIT_NOW_CUES: tuple[str, ...] = tuple(URGENCY["explicit_now"])
# "ngay" closing a clause is "right away" ("cần người điều tiết ngay"), unless it
# is "ngày" as in "hằng ngày", "cả ngày", "3 ngày".
NOT_NOW_BEFORE_NGAY = frozenset(URGENCY["not_now_before_ngay"])
# "dang" also spells "đăng" (to post); "vua roi" after a day name is last week.
NOT_PRESENT: tuple[str, ...] = tuple(URGENCY["not_present"])
PAST_CUES: tuple[str, ...] = tuple(URGENCY["past"])
_PAST_UNITS = frozenset(URGENCY["past_units"])
LIFE_THREAT_CUES: tuple[str, ...] = tuple(URGENCY["life_threat"])
# An attack or weapon: emergency when a "now" cue is close by.
ACUTE_DANGER_CUES: tuple[str, ...] = tuple(URGENCY["acute_danger"])
WEAPON_CUES: tuple[str, ...] = tuple(URGENCY["weapons"])
ACUTE_PROXIMITY = 8
# A traffic tip happening now with these is an emergency.
SEVERE_INJURY_CUES: tuple[str, ...] = tuple(URGENCY["severe_injury"])
DRUNK_DRIVING_CUES: tuple[str, ...] = tuple(URGENCY["drunk_driving"])
RECKLESS_CUES: tuple[str, ...] = tuple(URGENCY["reckless_driving"])
# Danger to others on the road by itself (a wrong-way driver on the expressway).
ROAD_DANGER_CUES: tuple[str, ...] = tuple(URGENCY["road_danger"])
MISSING_PERSON_CUES: tuple[str, ...] = tuple(URGENCY["missing_person"])
# Time-critical matters that are not a crime (an animal loose in a home, a
# welfare check, a live wire): high, not emergency.
OTHER_URGENT_CUES: tuple[str, ...] = tuple(URGENCY["other_urgent"])
# A whereabouts known by hearsay or as a habit, not a sighting right now.
HEARSAY_OR_HABIT_CUES: tuple[str, ...] = tuple(URGENCY["hearsay_or_habit"])
# Threats with no attacker present: high.
THREAT_CUES: tuple[str, ...] = tuple(URGENCY["threats"])
# "ngay" closing a clause means "right away" only in a request ("cần ... ngay").
REQUEST_WORDS: tuple[str, ...] = tuple(URGENCY["request_words"])
# Categories where "happening now" makes a tip high priority.
URGENT_WHEN_NOW = frozenset(URGENCY["urgent_when_now"])
URGENCY_LEVELS = ("emergency", "high", "normal", "low")


def past_positions(tokens: Sequence[str]) -> list[int]:
    """Positions of past-time cues, including "3 ngay truoc", "cach day 2 tuan"
    (but not "cach day nua tieng": minutes and hours ago are still now)."""
    found = [pos for _, _, pos in cue_hits(tokens, list(PAST_CUES), honour_negation=False)]
    for i in range(len(tokens) - 1):
        if tokens[i].isdigit() and tokens[i + 1] in _PAST_UNITS and (
                tokens[i + 2:i + 3] in (["truoc"], ["roi"]) or tokens[max(0, i - 2):i] == ["cach", "day"]):
            found.append(i)
    return found


def present(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """Cues that the matter is happening now, as (phrase, position).

    Look-alikes ("đăng ký", "tối thứ 7 vừa rồi") are dropped, and so is a
    "now" cue sharing its clause with a past one ("vừa bị sáng nay", "sáng nay
    ... chị ấy đang tập thể dục"): the story is told about the past.
    """
    blocked = {pos for _, _, pos in cue_hits(tokens, list(NOT_PRESENT), honour_negation=False)}
    past_pos = past_positions(tokens)
    found = []
    for phrase, _, pos in cue_hits(tokens, list(STRONG_PRESENT_CUES + WEAK_PRESENT_CUES), False):
        if pos in blocked:
            continue
        lo, hi = clause_of(tokens, pos)
        # An explicit "now" after the past cue moves the story to the present.
        explicit = phrase in EXPLICIT_NOW_CUES
        if any(lo <= p < hi and not (explicit and p < pos) for p in past_pos):
            continue
        found.append((phrase, pos))
    # "... điều tiết ngay", "đến ngay!": "ngay" closing a clause.
    for i, tok in enumerate(tokens):
        if (tok == "ngay" and i > 0 and (i + 1 == len(tokens) or tokens[i + 1] in CLAUSE_BREAK)
                and tokens[i - 1] not in NOT_NOW_BEFORE_NGAY and not tokens[i - 1].isdigit()
                and tokens[i - 1] not in CLAUSE_BREAK):
            lo, _ = clause_of(tokens, i)
            if has_any(tokens[lo:i], REQUEST_WORDS, honour_negation=False):
                found.append(("ngay", i))
    return found


def urgency(tokens: Sequence[str], category: str) -> tuple[str, list[str]]:
    """Urgency level and its reasons, for a tip of ``category``."""
    if category in ("spam", "procedure_question"):
        return "low", []
    past = bool(past_positions(tokens))
    now = present(tokens)
    life = has_any(tokens, LIFE_THREAT_CUES)

    # A scam in progress is urgent but not a threat to life.
    if category != "fraud" and life and (now or not past):
        return "emergency", ["danger: " + ", ".join(life[:3])]
    taken = taken_away(tokens)
    if category in ("violence", "other", "theft_robbery") and taken and (now or not past):
        return "emergency", taken
    if now and category != "fraud":
        now_pos = [pos for _, pos in now]
        weapons = cue_hits(tokens, list(WEAPON_CUES))
        if weapons and near(tokens, [p for _, _, p in weapons], now_pos, ACUTE_PROXIMITY * 2):
            return "emergency", ["weapon now: " + ", ".join(p for p, _, _ in weapons[:3])]
        acute = cue_hits(tokens, list(ACUTE_DANGER_CUES))
        if category == "violence" and near(tokens, [p for _, _, p in acute], now_pos, ACUTE_PROXIMITY):
            return "emergency", ["attack under way: " + ", ".join(p for p, _, _ in acute[:3])]
        if category == "traffic":
            injury = has_any(tokens, SEVERE_INJURY_CUES)
            drunk = has_any(tokens, DRUNK_DRIVING_CUES)
            reckless = has_any(tokens, RECKLESS_CUES)
            danger = has_any(tokens, ROAD_DANGER_CUES)
            if injury or danger or (drunk and reckless):
                return "emergency", ["road danger now: " + ", ".join((injury or danger or reckless)[:3])]
    if category == "other":
        # A lost child or confused elder still missing is urgent; thanks are not.
        missing = has_any(tokens, MISSING_PERSON_CUES)
        if missing and not past:
            return "high", ["missing person"]
        other_urgent = has_any(tokens, OTHER_URGENT_CUES)
        if other_urgent and (now or not past):
            return "high", ["urgent: " + ", ".join(other_urgent[:2])]
        return "low", []
    if category == "wanted_sighting":
        # A sighting is worth acting on quickly when it is happening now; a
        # habitual or hearsay whereabouts ("thường", "nghe nói") can wait.
        if now:
            return "high", ["recent sighting"]
        if not past and not has_any(tokens, HEARSAY_OR_HABIT_CUES, honour_negation=False):
            return "high", ["recent sighting"]
        return "normal", []
    if category == "violence" and not past:
        threats = has_any(tokens, THREAT_CUES)
        if threats:
            return "high", ["threat: " + ", ".join(threats[:2])]
    if now and category in URGENT_WHEN_NOW:
        return "high", ["happening now: " + ", ".join(p for p, _ in now[:3])]
    if now and category == "urban_order" and any(p not in WEAK_PRESENT_CUES for p, _ in now):
        return "high", ["happening now"]
    if is_question_only(tokens, PAST_CUES):
        # "đánh bài 5 nghìn có bị tính là đánh bạc không?" asks, reports nothing.
        return "low", ["question only"]
    return "normal", []


def second_signals(tokens: Sequence[str]) -> list[str]:
    """What, besides the model's emergency head, says a life may be at stake: danger
    wording anywhere in the tip whatever its tense (a weapon, an attack, a severe injury,
    a person taken, danger on the road, a life-threat cue), else a "happening now" cue.

    The head alone, at a threshold low enough to miss no emergency, also flags many
    tips that are urgent but endanger nobody (a theft just done, a wanted man seen, a
    noisy crowd); asking for a second signal removes most of them (see decision.py)."""
    found = has_any(tokens, LIFE_THREAT_CUES)
    found += [p for p, _, _ in cue_hits(tokens, list(WEAPON_CUES + ACUTE_DANGER_CUES))]
    found += has_any(tokens, SEVERE_INJURY_CUES) + has_any(tokens, ROAD_DANGER_CUES) + taken_away(tokens)
    return found or ["now: " + p for p, _ in present(tokens)]
