"""Unit tests for the tips domain: lifecycle, SLA, routing, codes, public view, intake."""
import copy
import json
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from marshmallow import ValidationError

from contracts.rpc import Conflict, Forbidden, InvalidInput
from services.tips import domain, schemas
from services.tips.triage import WardGazetteer, triage

REPO = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((REPO / "data" / "ninh-binh.json").read_text(encoding="utf-8"))
# The seed file writes "parent"; groups events write "parent_id" (routing reads both).
UNITS = [dict(u, parent_id=u.get("parent")) for u in REFERENCE["units"]]
UNITS_BY_ID = {u["id"]: u for u in UNITS}

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)
ADMIN = {"id": "o-admin", "roles": ["admin"], "unit_id": "catp"}
TRIAGE = {"id": "o-triage", "roles": ["triage_officer"], "unit_id": "catp"}
OPERATOR = {"id": "o-op", "roles": ["unit_operator"], "unit_id": "ca-ninh-khanh"}
AUDITOR = {"id": "o-aud", "roles": ["auditor"], "unit_id": "catp"}
EDITOR = {"id": "o-ed", "roles": ["editor"], "unit_id": "catp"}


def make_tip(status="received", urgency="normal", unit_id=None, **extra):
    intake = domain.prepare_intake({"text": "Có nhóm thanh niên tụ tập đánh bạc ở phường Ninh Khánh"}, T0)
    tip = domain.new_tip("tip-1", "NB-7K3Q-9XPD", intake["body"], "hash", T0)
    tip.update(status=status, urgency=urgency, unit_id=unit_id, **extra)
    return tip


def at(seconds):
    return T0 + timedelta(seconds=seconds)


# --- lifecycle -----------------------------------------------------------------------

def test_happy_path_records_every_step_in_the_audit():
    tip = domain.new_tip("tip-1", "NB-7K3Q-9XPD", {"text": "x"}, "hash", T0)
    tip = domain.apply_triage(tip, {"category": "gambling", "urgency": "normal",
                                    "ward": "ninh-khanh", "is_spam": False}, at(1))
    tip = domain.assign(tip, "ca-ninh-khanh", TRIAGE, at(2), True)
    tip = domain.change_status(tip, "in_progress", OPERATOR, at(3), True)
    tip = domain.change_status(tip, "resolved", OPERATOR, at(4), True, reason="Đã giải tán")
    assert tip["status"] == "resolved"
    assert [(a["action"], a["from"], a["to"]) for a in tip["audit"]] == [
        ("receive", None, "received"), ("triage", "received", "triaged"),
        ("assign", "triaged", "assigned"), ("start", "assigned", "in_progress"),
        ("resolve", "in_progress", "resolved")]
    assert tip["audit"][2]["unit_id"] == "ca-ninh-khanh"
    assert tip["audit"][2]["actor"] == "o-triage"
    assert tip["audit"][1]["actor"] == "system"
    assert tip["audit"][4]["reason"] == "Đã giải tán"
    assert set(tip["audit"][4]) == {"at", "actor", "action", "from", "to", "reason"}
    assert tip["acknowledged_at"] == at(3) and tip["resolved_at"] == at(4)
    assert tip["sla_due_at"] == T0 + timedelta(hours=24)


@pytest.mark.parametrize("status, action", [
    (s, a) for s in domain.STATUSES for a in domain.ACTIONS if (s, a) not in domain.TRANSITIONS])
def test_every_transition_not_in_the_table_is_refused(status, action):
    tip = make_tip(status, unit_id="ca-ninh-khanh")
    with pytest.raises(Conflict):
        domain.apply_action(tip, action, ADMIN, at(1), True, reason="duplicate",
                            unit_id="doi-cshs", merged_into="tip-0")


@pytest.mark.parametrize("status, action", sorted(domain.TRANSITIONS))
def test_every_transition_in_the_table_is_allowed(status, action):
    tip = make_tip(status, unit_id="ca-ninh-khanh")
    kwargs = {"assign": {"unit_id": "doi-cshs"},
              "reassign": {"unit_id": "doi-cshs", "reason": "Vụ trộm, chuyển hình sự"},
              "close": {"reason": "unfounded"}}.get(action, {})
    out = domain.apply_action(tip, action, ADMIN, at(1), True, **kwargs)
    assert out["status"] == domain.TRANSITIONS[(status, action)]
    assert out["audit"][-1]["action"] == action


def test_unknown_action_is_invalid_input():
    with pytest.raises(InvalidInput):
        domain.apply_action(make_tip(), "teleport", ADMIN, at(1), True)


def test_inputs_are_never_mutated():
    tip = make_tip("triaged")
    before = copy.deepcopy(tip)
    domain.assign(tip, "ca-ninh-khanh", ADMIN, at(1), True)
    domain.escalate(tip, at(10 ** 6), UNITS_BY_ID)
    domain.public_status(tip)
    assert tip == before


@pytest.mark.parametrize("actor, in_scope, allowed", [
    (ADMIN, False, True), (ADMIN, True, True),
    (TRIAGE, True, True), (TRIAGE, False, False),
    (OPERATOR, True, True), (OPERATOR, False, False),
    (AUDITOR, True, False), (EDITOR, True, False), (None, True, False),
    (domain.SYSTEM_ACTOR, False, True),
])
def test_who_may_act(actor, in_scope, allowed):
    tip = make_tip("triaged")
    assert domain.can_act(actor, tip, in_scope) is allowed
    if allowed:
        domain.assign(tip, "ca-ninh-khanh", actor, at(1), in_scope)
    else:
        with pytest.raises(Forbidden):
            domain.assign(tip, "ca-ninh-khanh", actor, at(1), in_scope)


def test_auditor_reads_everything_but_handlers_only_their_subtree():
    tip = make_tip()
    assert domain.can_read(AUDITOR, tip, False)
    assert domain.can_read(OPERATOR, tip, True) and not domain.can_read(OPERATOR, tip, False)
    assert not domain.can_read(EDITOR, tip, True)


def test_forbidden_comes_before_conflict():
    with pytest.raises(Forbidden):
        domain.change_status(make_tip("resolved"), "in_progress", AUDITOR, at(1), True)


def test_close_needs_a_known_reason():
    for reason in (None, "", "boring"):
        with pytest.raises(InvalidInput) as exc:
            domain.change_status(make_tip("triaged"), "closed", ADMIN, at(1), True, reason=reason)
        assert "reason" in exc.value.errors


def test_close_as_duplicate_needs_another_tip():
    tip = make_tip("triaged")
    with pytest.raises(InvalidInput) as exc:
        domain.change_status(tip, "closed", ADMIN, at(1), True, reason="duplicate")
    assert "merged_into" in exc.value.errors
    with pytest.raises(InvalidInput):
        domain.change_status(tip, "closed", ADMIN, at(1), True, reason="duplicate", merged_into="tip-1")
    out = domain.change_status(tip, "closed", ADMIN, at(1), True, reason="duplicate",
                               merged_into="tip-0")
    assert (out["status"], out["close_reason"], out["merged_into"]) == ("closed", "duplicate", "tip-0")
    assert out["acknowledged_at"] == at(1) and out["closed_at"] == at(1)


def test_merged_into_only_for_duplicates():
    with pytest.raises(InvalidInput):
        domain.change_status(make_tip("triaged"), "closed", ADMIN, at(1), True, reason="spam",
                             merged_into="tip-0")
    with pytest.raises(InvalidInput):
        domain.change_status(make_tip("assigned"), "in_progress", ADMIN, at(1), True,
                             merged_into="tip-0")


def test_spam_and_unfounded_close():
    for reason in ("spam", "unfounded"):
        out = domain.change_status(make_tip("received"), "closed", ADMIN, at(1), True, reason=reason)
        assert out["close_reason"] == reason and out["merged_into"] is None


def test_reassignment_needs_reason_and_another_unit():
    tip = make_tip("in_progress", unit_id="ca-ninh-khanh")
    with pytest.raises(InvalidInput) as exc:
        domain.assign(tip, "doi-cshs", OPERATOR, at(1), True)
    assert "reason" in exc.value.errors
    with pytest.raises(InvalidInput):
        domain.assign(tip, "ca-ninh-khanh", OPERATOR, at(1), True, reason="Chuyển lại cho chính mình")
    out = domain.assign(tip, "doi-cshs", OPERATOR, at(1), True, reason="Có dấu hiệu cướp giật")
    assert (out["status"], out["unit_id"]) == ("assigned", "doi-cshs")
    last = out["audit"][-1]
    assert (last["action"], last["from"], last["to"], last["unit_id"]) == (
        "reassign", "in_progress", "assigned", "doi-cshs")


def test_assign_needs_a_unit():
    with pytest.raises(InvalidInput) as exc:
        domain.assign(make_tip("triaged"), "", ADMIN, at(1), True)
    assert "unit_id" in exc.value.errors


def test_status_change_cannot_target_received_or_assigned():
    for status in ("received", "assigned", "nonsense"):
        with pytest.raises(InvalidInput):
            domain.change_status(make_tip("triaged"), status, ADMIN, at(1), True)


def test_reveal_is_audited_and_restricted():
    tip = make_tip("assigned", unit_id="ca-ninh-khanh")
    with pytest.raises(Forbidden):
        domain.record_reveal(tip, OPERATOR, at(1), True, reason="Cần gọi lại người báo tin")
    with pytest.raises(Forbidden):
        domain.record_reveal(tip, AUDITOR, at(1), True, reason="Cần gọi lại người báo tin")
    with pytest.raises(Forbidden):
        domain.record_reveal(tip, TRIAGE, at(1), True, reason="Cần gọi lại người báo tin")
    with pytest.raises(InvalidInput):
        domain.record_reveal(tip, ADMIN, at(1), True, reason="   ngắn   ")
    out = domain.record_reveal(tip, ADMIN, at(1), True, reason="Cần gọi lại người báo tin")
    last = out["audit"][-1]
    assert (last["action"], last["actor"], last["from"], last["to"]) == (
        "reveal_identity", ADMIN["id"], "assigned", "assigned")
    assert out["status"] == "assigned"


def test_apply_triage_takes_a_real_triage_result():
    gazetteer = WardGazetteer(REFERENCE["wards"])
    intake = domain.prepare_intake({"text": "Có 2 nhóm thanh niên đang cầm dao chém nhau, có người chảy nhiều máu",
                                    "ward": "Ninh Khánh"}, T0)
    tip = domain.new_tip("tip-9", "NB-2222-3333", intake["body"], "h", T0)
    result = triage(domain.triage_text(tip), gazetteer)
    tip = domain.apply_triage(tip, result, at(2))
    assert (tip["category"], tip["urgency"], tip["ward"]) == ("violence", "emergency", "ninh-khanh")
    assert tip["sla_due_at"] == T0 + timedelta(minutes=5)
    assert tip["triage"]["reasons"]


# --- SLA and escalation --------------------------------------------------------------

@pytest.mark.parametrize("urgency, seconds", [
    ("emergency", 300), ("high", 3600), ("normal", 86400), ("low", 259200)])
def test_sla_breach_per_urgency(urgency, seconds):
    tip = make_tip("triaged", urgency=urgency)
    assert domain.sla_due_at(T0, urgency) == at(seconds)
    assert not domain.is_breached(tip, at(seconds))
    assert domain.is_breached(tip, at(seconds + 1))


def test_sla_policy_from_environment_and_overrides():
    policy = domain.sla_policy({"SLA_EMERGENCY_SECONDS": "60", "SLA_LOW_SECONDS": ""})
    assert policy == dict(domain.DEFAULT_SLA_SECONDS, emergency=60)
    assert domain.sla_policy({}, {"high": 120})["high"] == 120
    tip = make_tip("triaged", urgency="emergency")
    assert domain.is_breached(tip, at(61), policy) and not domain.is_breached(tip, at(61))
    with pytest.raises(ValueError, match="SLA_HIGH_SECONDS"):
        domain.sla_policy({"SLA_HIGH_SECONDS": "soon"})
    with pytest.raises(ValueError):
        domain.sla_policy({"SLA_HIGH_SECONDS": "0"})


def test_acknowledgement_stops_the_clock():
    tip = make_tip("triaged", urgency="high")
    on_time = domain.change_status(domain.assign(tip, "ca-ninh-khanh", ADMIN, at(60), True),
                                   "in_progress", ADMIN, at(120), True)
    assert not domain.is_breached(on_time, at(10 ** 6))
    late = domain.change_status(domain.assign(tip, "ca-ninh-khanh", ADMIN, at(60), True),
                                "in_progress", ADMIN, at(3601), True)
    assert domain.is_breached(late, at(10 ** 6))  # it was acknowledged late
    assert domain.escalate(late, at(10 ** 6), UNITS_BY_ID) == (late, None)
    closed = domain.change_status(tip, "closed", ADMIN, at(30), True, reason="spam")
    assert not domain.is_breached(closed, at(10 ** 6))
    assert domain.acknowledged_at(dict(closed, acknowledged_at=None)) == at(30)  # from audit


def test_escalation_target_is_the_parent():
    assert domain.escalation_target("ca-ninh-khanh", UNITS_BY_ID) == "catp"
    assert domain.escalation_target("catp", UNITS_BY_ID) is None
    assert domain.escalation_target("nowhere", UNITS_BY_ID) is None


def test_breached_tip_escalates_once_per_level():
    units = dict(UNITS_BY_ID, **{
        "to-1": {"id": "to-1", "kind": "ward_police", "parent_id": "ca-ninh-khanh", "ward": None}})
    tip = make_tip("assigned", urgency="emergency", unit_id="to-1")
    assert domain.escalate(tip, at(300), units) == (tip, None)  # not yet breached
    tip1, esc1 = domain.escalate(tip, at(301), units)
    assert esc1 == {"at": at(301), "to_unit": "ca-ninh-khanh", "level": 1}
    assert tip1["escalations"] == [esc1]
    assert tip1["audit"][-1]["action"] == "escalate" and tip1["audit"][-1]["unit_id"] == "ca-ninh-khanh"
    # the sweeper runs again: same level is never repeated
    for t in (302, 400, 600):
        again, none = domain.escalate(tip1, at(t), units)
        assert none is None and again is tip1
    tip2, esc2 = domain.escalate(tip1, at(601), units)
    assert (esc2["level"], esc2["to_unit"]) == (2, "catp")
    # the root has no parent: nothing more to escalate to
    assert domain.escalate(tip2, at(10 ** 6), units)[1] is None
    assert [e["level"] for e in tip2["escalations"]] == [1, 2]


def test_unassigned_breached_tip_escalates_to_the_city_police():
    tip = make_tip("triaged", urgency="high")
    _, esc = domain.escalate(tip, at(3601), UNITS_BY_ID)
    assert (esc["to_unit"], esc["level"]) == ("catp", 1)


def test_acknowledged_or_closed_tips_do_not_escalate():
    for status in ("in_progress", "resolved", "closed"):
        tip = make_tip(status, urgency="emergency", unit_id="ca-ninh-khanh")
        assert domain.next_escalation(tip, at(10 ** 6), UNITS_BY_ID) is None


# --- routing ----------------------------------------------------------------------------

RULES = [
    {"category": "*", "ward": "ninh-khanh", "unit_id": "ca-ninh-khanh"},
    {"category": "fraud", "ward": "*", "unit_id": "doi-kinh-te"},
    {"category": "fraud", "ward": "ninh-khanh", "unit_id": "doi-cshs"},
]


@pytest.mark.parametrize("rules", [RULES, list(reversed(RULES))])
def test_most_specific_rule_wins_whatever_the_order(rules):
    assert domain.route("fraud", "ninh-khanh", rules, UNITS) == "doi-cshs"      # category+ward
    assert domain.route("fraud", "bich-dao", rules, UNITS) == "doi-kinh-te"     # category+*
    assert domain.route("fraud", None, rules, UNITS) == "doi-kinh-te"
    assert domain.route("drugs", "ninh-khanh", rules, UNITS) == "ca-ninh-khanh"  # *+ward


def test_catch_all_rule_and_rules_to_removed_units():
    rules = [{"category": "*", "ward": "*", "unit_id": "doi-tham-muu"},
             {"category": "drugs", "ward": "*", "unit_id": "gone"}]
    assert domain.route("drugs", None, rules, UNITS) == "doi-tham-muu"
    assert domain.route_explained("drugs", None, rules[1:], UNITS)[0] == "doi-ma-tuy"


@pytest.mark.parametrize("category, ward, unit", [
    ("public_order", "ninh-khanh", "ca-ninh-khanh"),  # ward police of the ward
    ("gambling", "bich-dao", "ca-bich-dao"),
    ("fraud", "ninh-khanh", "doi-kinh-te"),           # a team whose handles include it
    ("drugs", None, "doi-ma-tuy"),
    ("traffic", "van-giang", "doi-csgt"),
    ("public_order", None, "catp"),                   # no ward, no team: city police
    ("public_order", "no-such-ward", "catp"),
    ("other", None, "catp"),
])
def test_defaults_from_units(category, ward, unit):
    assert domain.route(category, ward, [], UNITS) == unit


def test_ward_police_with_explicit_handles_and_inactive_units():
    units = [dict(u, handles=["fraud"]) if u["id"] == "ca-ninh-khanh" else u for u in UNITS]
    assert domain.route("fraud", "ninh-khanh", [], units) == "ca-ninh-khanh"
    assert domain.route("public_order", "ninh-khanh", [], units) == "catp"
    units = [dict(u, active=False) if u["id"] == "doi-ma-tuy" else u for u in UNITS]
    assert domain.route("drugs", None, [], units) == "catp"


def test_validate_rules_reports_each_row():
    bad = [
        {"category": "fraud", "ward": "*", "unit_id": "doi-kinh-te"},
        {"category": "witchcraft", "ward": "*", "unit_id": "doi-kinh-te"},
        {"category": "drugs", "ward": "atlantis", "unit_id": "nowhere"},
        {"category": "fraud", "ward": "*", "unit_id": "doi-cshs"},
        "not a row",
    ]
    with pytest.raises(InvalidInput) as exc:
        domain.validate_rules(bad, UNITS, wards={w["id"] for w in REFERENCE["wards"]})
    errors = exc.value.errors
    assert set(errors) == {"rules.1.category", "rules.2.ward", "rules.2.unit_id", "rules.3", "rules.4"}
    assert "0" in errors["rules.3"][0]
    clean = domain.validate_rules([{"category": "fraud", "unit_id": "doi-kinh-te"}], UNITS)
    assert clean == [{"category": "fraud", "ward": "*", "unit_id": "doi-kinh-te"}]
    with pytest.raises(InvalidInput):
        domain.validate_rules({"rules": []}, UNITS)


# --- codes and secrets ----------------------------------------------------------------------

def test_tip_codes_are_readable_and_unambiguous():
    codes = {domain.new_tip_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        # 60 random bits: unique without a second draw (the gateway shows it before it is stored)
        assert re.fullmatch(r"NB(-[2-9A-HJ-NP-Z]{4}){3}", code)
        assert not set(code[3:]) & set("0O1I")
        assert domain.parse_tip_code(code) == code
    assert domain.parse_tip_code(" nb 7k3q 9xpd 4mrt ") == "NB-7K3Q-9XPD-4MRT"
    assert domain.parse_tip_code(" nb 7k3q 9xpd ") == "NB-7K3Q-9XPD"  # codes issued with 40 bits still work
    assert domain.parse_tip_code("NB-7K3Q-9XP0") is None  # 0 is never issued
    assert domain.parse_tip_code("NB-7K3Q") is None
    assert domain.parse_tip_code("NB-7K3Q-9XPD-4MR") is None
    assert domain.parse_tip_code(None) is None


def test_secrets_are_long_url_safe_and_stored_hashed():
    secret = domain.new_secret()
    assert len(secret) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", secret)  # >= 128 bits
    assert secret != domain.new_secret()
    h = domain.hash_secret(secret)
    assert secret not in h and h.startswith("sha256$")
    assert domain.verify_secret(h, secret)
    assert not domain.verify_secret(h, secret + "x")
    assert not domain.verify_secret(h, "")
    assert not domain.verify_secret(h, None)
    assert not domain.verify_secret(None, secret)  # unknown tip: same work, still False
    assert not domain.verify_secret("not-a-hash", secret)
    assert domain.same_code("NB-2222-3333", "NB-2222-3333")
    assert not domain.same_code("NB-2222-3333", "NB-2222-3334")


# --- public view ---------------------------------------------------------------------------

def test_public_status_leaks_nothing_internal():
    tip = make_tip("assigned", unit_id="ca-ninh-khanh", identity_sealed={"kid": "k", "ct": "SEALED"},
                   secret_hash="$argon2id$SECRETHASH")
    tip = domain.staff_reply(tip, "Anh/chị gọi 0912 345 678 cho cán bộ Nguyễn Văn An nhé",
                             ADMIN, at(5), True)
    tip = domain.add_message(tip, "citizen", "Vâng, xe biển 35A-123.45 vẫn ở đó", at(6))
    tip = domain.add_note(tip, "GHI CHÚ NỘI BỘ: nghi phạm Trần Văn B", TRIAGE, at(7), True)
    view = domain.public_status(tip)
    assert set(view) == {"tip_code", "status", "public_messages", "received_at", "answers"}
    assert view["answers"] == []  # not a procedure question
    assert view["status"] == {"code": "assigned", "label": "Đã chuyển đơn vị xử lý",
                              "label_en": "Assigned to a unit"}
    assert view["received_at"] == T0.isoformat()
    assert [set(m) for m in view["public_messages"]] == [{"at", "from", "text"}] * 2
    assert [m["from"] for m in view["public_messages"]] == ["police", "citizen"]
    dumped = json.dumps(view, ensure_ascii=False)
    for secret in ("ca-ninh-khanh", "o-admin", "o-triage", "NỘI BỘ", "Trần Văn B", "SEALED",
                   "SECRETHASH", "0912 345 678", "35A-123.45", "đánh bạc", "author_id"):
        assert secret not in dumped
    assert "[số điện thoại]" in dumped and "[biển số]" in dumped


FAQ_SUGGESTIONS = [
    {"faq_id": "tam-tru", "title": "Đăng ký tạm trú", "answer": "Mang giấy tờ chỗ ở hợp pháp tới Công an phường.",
     "score": 9.5},
    {"faq_id": "long", "title": "Thủ tục dài", "answer": "Bước một. " * 400, "score": 4.1}]


def test_a_procedure_question_shows_the_faq_answers_at_once_and_stays_open():
    tip = make_tip("assigned", category="procedure_question", faq_suggestions=FAQ_SUGGESTIONS)
    view = domain.public_status(tip)
    assert view["status"]["code"] == "assigned"
    assert [a["title"] for a in view["answers"]] == ["Đăng ký tạm trú", "Thủ tục dài"]
    assert view["answers"][0]["answer"] == FAQ_SUGGESTIONS[0]["answer"] and "score" not in view["answers"][0]
    # another category never shows answers, even if suggestions were kept from an earlier triage
    assert domain.public_status(dict(tip, category="theft_robbery"))["answers"] == []


def test_chat_replies_carry_each_faq_answer_within_a_message():
    replies = domain.faq_replies(domain.faq_answers(make_tip(category="procedure_question",
                                                             faq_suggestions=FAQ_SUGGESTIONS)))
    assert len(replies) == 2
    assert replies[0].startswith("Có thể bạn cần") and "Mang giấy tờ chỗ ở hợp pháp" in replies[0]
    assert all(len(r) <= domain.MESSAGE_MAX for r in replies) and replies[1].endswith(domain.FAQ_FOLLOW_UP)
    assert "…" in replies[1]  # cut to fit, and says so
    tip = make_tip(category="procedure_question", faq_suggestions=FAQ_SUGGESTIONS)
    for text in replies:  # each is a message the thread accepts
        tip = domain.add_message(tip, "police", text, at(1))
    assert domain.faq_replies([]) == []


def test_staff_view_hides_the_secret_and_identity():
    tip = make_tip(identity_sealed={"ct": "x"}, secret_hash="h")
    view = domain.staff_view(tip, "Người báo tin #4821")
    assert "secret_hash" not in view and "identity_sealed" not in view
    assert view["has_identity"] and view["tipster_alias"] == "Người báo tin #4821"


def test_citizen_cannot_write_on_a_closed_tip_and_staff_reply_needs_scope():
    closed = make_tip("closed")
    with pytest.raises(Conflict):
        domain.add_message(closed, "citizen", "còn đó không", at(1))
    with pytest.raises(Forbidden):
        domain.staff_reply(make_tip(), "Xin chào", OPERATOR, at(1), False)
    with pytest.raises(Forbidden):
        domain.add_note(make_tip(), "ghi chú", AUDITOR, at(1), True)
    with pytest.raises(InvalidInput):
        domain.add_message(make_tip(), "citizen", "😀", at(1))
    with pytest.raises(InvalidInput):
        domain.add_message(make_tip(), "officer", "Xin chào", at(1))


# --- intake ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   \n\t ", None, "😡😡😡", "👍 🙏 !!!", "\u200b\u202e"])
def test_empty_or_emoji_only_text_is_refused_in_both_languages(text):
    with pytest.raises(InvalidInput) as exc:
        domain.prepare_intake({"text": text}, T0)
    assert exc.value.status == 422
    assert "text" in exc.value.errors
    assert "Nội dung" in exc.value.detail and "The text" in exc.value.detail


def test_text_length_cap():
    with pytest.raises(InvalidInput) as exc:
        domain.prepare_intake({"text": "a" * 100_000}, T0)
    assert exc.value.status == 422 and "text" in exc.value.errors
    assert domain.prepare_intake({"text": "á" * 5000}, T0)["body"]["text"] == "á" * 5000
    with pytest.raises(InvalidInput):
        domain.prepare_intake({"text": "a" * 5001}, T0)
    # counted after NFC: 5,000 decomposed letters are 10,000 code points
    nfd = unicodedata.normalize("NFD", "á" * 5000)
    assert len(nfd) == 10000
    assert len(domain.prepare_intake({"text": nfd}, T0)["body"]["text"]) == 5000


def test_nfd_vietnamese_equals_nfc():
    text = "Mất trộm xe máy ở phường Đông Thành, nhờ các anh công an giúp đỡ"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    a = domain.prepare_intake({"text": text, "ward": "Đông Thành"}, T0)
    b = domain.prepare_intake({"text": nfd, "ward": unicodedata.normalize("NFD", "Đông Thành")}, T0)
    assert a == b and a["body"]["text"] == text


def test_control_characters_are_stripped_but_lines_kept():
    out = domain.prepare_intake({"text": "  Dòng 1\r\nDòng\x00 2\x07\u202e\tcuối  "}, T0)
    assert out["body"]["text"] == "Dòng 1\nDòng 2\tcuối"
    assert domain.prepare_intake({"text": "Cháy 🔥🔥 ở chợ"}, T0)["body"]["text"] == "Cháy 🔥🔥 ở chợ"
    assert domain.prepare_intake({"text": "113"}, T0)["body"]["text"] == "113"


def test_unknown_ward_is_kept_not_refused():
    out = domain.prepare_intake({"text": "Có người đánh bạc", "ward": "  xóm Bến Đò  "}, T0)
    assert out["body"]["ward_text"] == "xóm Bến Đò"


def test_identity_is_split_from_the_body():
    out = domain.prepare_intake({
        "text": "Nhóm lừa đảo bán hàng online", "channel": "zalo", "zalo_user_id": "zl-8812",
        "contact": {"name": "Chị Hoa", "phone": "0912345678"}, "message_id": "msg-1"}, T0)
    body, identity = out["body"], out["identity"]
    assert identity == {"contact": {"name": "Chị Hoa", "phone": "0912345678"}, "zalo_user_id": "zl-8812"}
    dumped = json.dumps(body, ensure_ascii=False, default=str)
    assert "zl-8812" not in dumped and "Chị Hoa" not in dumped and "0912345678" not in dumped
    assert body["anonymous"] is True and body["channel"] == "zalo" and body["message_id"] == "msg-1"
    assert domain.prepare_intake({"text": "Tin báo"}, T0)["identity"] is None
    plain = domain.prepare_intake({"text": "Tin báo", "contact": "zalo 0912345678"}, T0)
    assert plain["identity"] == {"contact": {"text": "zalo 0912345678"}}


@pytest.mark.parametrize("payload, field", [
    ({"attachments": [{"content_type": "application/x-msdownload", "size": 10}]},
     "attachments.0.content_type"),
    ({"attachments": [{"content_type": "image/svg+xml", "size": 10}]}, "attachments.0.content_type"),
    ({"attachments": [{"content_type": "video/mp4", "size": 10 * 1024 * 1024 + 1}]}, "attachments.0.size"),
    ({"attachments": [{"content_type": "image/png", "size": 0}]}, "attachments.0.size"),
    ({"attachments": [{"content_type": "image/png", "size": 1}] * 6}, "attachments"),
    ({"attachments": "photo.jpg"}, "attachments"),
    ({"category": "spam"}, "category"),
    ({"category": "aliens"}, "category"),
    ({"channel": "telegram"}, "channel"),
    ({"anonymous": "yes"}, "anonymous"),
    ({"occurred_at": "2025-03-02T08:00:00+00:00"}, "occurred_at"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"location": {"lat": 95, "lng": 105.9}}, "location.lat"),
    ({"contact": {"phone": "0912", "ssn": "x"}}, "contact"),
    ({"status": "resolved"}, "status"),
])
def test_invalid_intake_fields(payload, field):
    with pytest.raises(InvalidInput) as exc:
        domain.prepare_intake(dict({"text": "Có người trộm xe"}, **payload), T0)
    assert field in exc.value.errors


def test_valid_attachments_location_and_time():
    out = domain.prepare_intake({
        "text": "Có người trộm xe",
        "attachments": [{"content_type": "image/JPEG; q=1", "size": 2048,
                         "filename": "C:\\Users\\hoa.nguyen\\anh.jpg", "upload_id": "u1"},
                        {"content_type": "audio/mpeg", "size": 10 * 1024 * 1024}],
        "location": {"text": "Chợ Rồng", "lat": 20.25, "lng": 105.97},
        "occurred_at": "2025-03-01T14:30:00",  # naive: local time in Việt Nam
    }, T0)["body"]
    assert out["attachments"][0] == {"content_type": "image/jpeg", "size": 2048,
                                     "filename": "anh.jpg", "upload_id": "u1"}
    assert out["location"] == {"text": "Chợ Rồng", "lat": 20.25, "lng": 105.97}
    assert out["occurred_at"] == datetime(2025, 3, 1, 7, 30, tzinfo=timezone.utc)


# --- acknowledgement, stats --------------------------------------------------------------------

def test_emergency_ack_says_call_113_now():
    text = domain.citizen_ack("NB-7K3Q-9XPD", "emergency")
    assert "GỌI NGAY 113" in text and "CALL 113" in text and "NOW" in text
    assert "114" in text and "115" in text and "NB-7K3Q-9XPD" in text


@pytest.mark.parametrize("urgency", ["high", "normal", "low"])
def test_other_acks_mention_113_and_the_code(urgency):
    text = domain.citizen_ack("NB-7K3Q-9XPD", urgency)
    assert "113" in text and "NB-7K3Q-9XPD" in text and "GỌI NGAY" not in text


def test_an_ack_before_triage_leads_with_the_emergency_advice():
    text = domain.citizen_ack("NB-7K3Q-9XPD-4MRT", None)
    first, second = text.splitlines()[:2]
    assert "GỌI NGAY 113" in first and "114" in first and "115" in first
    assert "CALL 113" in second and "NB-7K3Q-9XPD-4MRT" in text
    assert "trực ban" not in text  # no duty officer was alerted yet: it does not say so


def test_percentiles():
    assert domain.percentiles(range(1, 101), [50, 90, 99]) == pytest.approx({50: 50.5, 90: 90.1, 99: 99.01})
    assert domain.percentiles([7], [50, 99]) == {50: 7, 99: 7}
    assert domain.percentiles([], [50]) == {50: None}
    assert domain.percentiles([3, 1, None, 2]) == {50: 2, 90: pytest.approx(2.8), 99: pytest.approx(2.98)}
    with pytest.raises(ValueError):
        domain.percentiles([1], [101])


def test_weeks_are_ninh_binh_weeks_starting_on_monday():
    # Sunday 23:30 in Ninh Bình is still that week; Sunday 17:30 UTC is already Monday there.
    assert domain.week_of(datetime(2025, 3, 9, 16, 30, tzinfo=timezone.utc)) == "2025-03-03"
    assert domain.week_of(datetime(2025, 3, 9, 17, 30, tzinfo=timezone.utc)) == "2025-03-10"
    assert domain.week_of("2025-03-03T00:00:00+07:00") == "2025-03-03"
    assert domain.week_of(datetime(2025, 3, 5, 1, 0)) == "2025-03-03"  # naive: UTC, as MongoDB returns it


def test_tips_per_week_show_quiet_weeks_as_zero():
    moments = [T0, T0 + timedelta(hours=1), T0 + timedelta(days=15), None]  # T0: Saturday 1 March 2025
    assert domain.counts_by_week(moments) == {"2025-02-24": 2, "2025-03-03": 0, "2025-03-10": 1}
    assert domain.counts_by_week([]) == {}


def test_time_to_acknowledge_counts_acknowledged_tips_only():
    rows = [{"status": "in_progress", "received_at": T0, "acknowledged_at": T0 + timedelta(minutes=5)},
            {"status": "assigned", "received_at": T0, "acknowledged_at": None},
            {"status": "resolved", "received_at": T0.replace(tzinfo=None), "acknowledged_at": T0 + timedelta(hours=2),
             "resolved_at": T0 + timedelta(hours=3), "category": "theft_robbery"}]
    stats = domain.tip_stats(rows)
    assert stats["time_to_acknowledge_seconds"]["count"] == 2
    assert stats["time_to_acknowledge_seconds"]["p50"] == (300.0 + 7200.0) / 2
    assert stats["time_to_resolve_seconds"]["p50"] == 10800.0 and stats["time_to_triage_seconds"]["count"] == 0
    assert stats["total"] == 3 and stats["by_status"] == {"in_progress": 1, "assigned": 1, "resolved": 1}
    assert stats["by_category"] == {"none": 2, "theft_robbery": 1}


# --- schemas --------------------------------------------------------------------------------------

def test_public_tip_schema():
    data = schemas.PublicTip().load({"text": "Có người trộm xe", "attachments": [
        {"content_type": "image/png", "size": 10}]})
    assert data["anonymous"] is True
    with pytest.raises(ValidationError) as exc:
        schemas.PublicTip().load({"text": "x", "zalo_user_id": "forged"})
    assert "zalo_user_id" in exc.value.messages
    with pytest.raises(ValidationError):
        schemas.PublicTip().load({"text": "x", "$where": "1"})
    with pytest.raises(ValidationError):
        schemas.PublicTip().load({"text": "x", "attachments": [{"content_type": "text/html", "size": 1}]})
    with pytest.raises(ValidationError):
        schemas.PublicTip().load({"text": "x", "contact": {"name": "chỉ có tên"}})
    with pytest.raises(ValidationError):
        schemas.PublicTip().load({"text": "x" * (4 * domain.TEXT_MAX + 1)})


def test_status_change_assign_and_reveal_schemas():
    sc = schemas.StatusChange()
    assert sc.load({"status": "closed", "reason": "duplicate", "merged_into": "t2"})["merged_into"] == "t2"
    for bad in ({"status": "closed"}, {"status": "closed", "reason": "duplicate"},
                {"status": "resolved", "merged_into": "t2"}, {"status": "assigned"},
                {"status": "closed", "reason": "spam", "extra": 1}):
        with pytest.raises(ValidationError):
            sc.load(bad)
    assert schemas.Assign().load({"unit_id": "doi-cshs"}) == {"unit_id": "doi-cshs"}
    with pytest.raises(ValidationError):
        schemas.Reveal().load({"reason": "   ngắn   "})
    assert schemas.Reveal().load({"reason": "Cần liên hệ nhân chứng"})
    assert schemas.StaffMessage().load({"text": "Xin chào"})["internal"] is False
    assert schemas.PublicMessage().load({"text": "Cảm ơn"})
    with pytest.raises(ValidationError):
        schemas.TipAccess().load({"tip_code": "NB-7K3Q-9XPD"})


def test_routing_and_faq_schemas():
    rules = schemas.RoutingRules().load({"rules": [{"category": "fraud", "unit_id": "doi-kinh-te"}]})
    assert rules["rules"][0]["ward"] == "*"
    with pytest.raises(ValidationError):
        schemas.RoutingRules().load({"rules": [{"category": "fraud", "unit_id": "x", "priority": 1}]})
    entries = json.loads((REPO / "data" / "procedures-faq.json").read_text(encoding="utf-8"))
    assert schemas.FaqEntry(many=True).load(entries)
    with pytest.raises(ValidationError) as exc:
        schemas.FaqEntry().load({"id": "Bad Slug", "title": "t", "question_variants": [], "answer": "a"})
    assert set(exc.value.messages) == {"id", "question_variants"}


# --- queued intake (the gateway's side: pure, no broker) ---------------------------------------

class FakePublisher:
    def __init__(self):
        self.sent = []

    def publish(self, message, intake_id):
        assert message["intake_id"] == intake_id
        self.sent.append(json.loads(json.dumps(message)))  # as it travels: JSON


def queue(payload, publisher=None):
    from gateway.intake import queue_tip
    publisher = publisher or FakePublisher()
    return queue_tip(schemas.PublicTip().load(payload), payload, publisher), publisher.sent


def test_a_queued_tip_carries_its_code_and_only_the_hash_of_its_secret():
    payload = {"text": "Có người lạ trộm xe máy ở phường Tân Thành", "contact": {"phone": "0912 345 678"}}
    receipt, sent = queue(payload)
    assert set(receipt) == {"tip_code", "secret", "status_url", "urgency", "message", "duplicate"}
    assert receipt["duplicate"] is False and receipt["status_url"].endswith(receipt["tip_code"])
    [message] = sent
    assert set(message) == {"intake_id", "received_at", "tip_code", "secret_hash", "payload"}
    assert message["tip_code"] == receipt["tip_code"] and message["payload"] == payload
    assert receipt["secret"] not in json.dumps(message)
    assert domain.verify_secret(message["secret_hash"], receipt["secret"])
    loaded = schemas.IntakeMessage().load(message)  # what the tips service reads back
    assert loaded["received_at"].tzinfo is not None
    with pytest.raises(ValidationError):
        schemas.IntakeMessage().load(dict(message, secret=receipt["secret"]))  # never the plaintext


def test_a_queued_tip_is_told_to_call_113_first_whatever_it_says():
    # Not triaged before the answer (the tips service does it when storing): the emergency
    # advice leads every web receipt.
    for text in ("Cứu với! Có người đang cầm dao đâm nhau ngay bây giờ trước chợ phường Ninh Khánh",
                 "Quán karaoke ở phường Ninh Khánh hát to sau 23h"):
        receipt, _ = queue({"text": text})
        assert receipt["urgency"] is None
        first, second = receipt["message"].splitlines()[:2]
        assert "GỌI NGAY 113" in first and "CALL 113" in second
        assert receipt["tip_code"] in receipt["message"]


@pytest.mark.parametrize("payload", [{"text": "😀🙏🚓"}, {"text": "   "}, {"text": "a" * 5001}])
def test_a_tip_the_rules_refuse_is_not_queued(payload):
    publisher = FakePublisher()
    with pytest.raises(InvalidInput):
        queue(payload, publisher)
    assert publisher.sent == []


def test_receipts_are_one_shape_for_queued_and_stored_tips():
    assert domain.receipt("NB-7K3Q-9XPD-4MRT", "s3cret", "high") == {
        "tip_code": "NB-7K3Q-9XPD-4MRT", "secret": "s3cret", "status_url": "/api/v1/public/tips/NB-7K3Q-9XPD-4MRT",
        "urgency": "high", "message": domain.citizen_ack("NB-7K3Q-9XPD-4MRT", "high"), "duplicate": False}



# --- acknowledging, ward scope, reply templates -----------------------------------------------

def test_acknowledging_takes_the_tip_up_and_stops_the_clock():
    tip = make_tip("assigned", urgency="emergency", unit_id="doi-cshs",
                   sla_due_at=domain.sla_due_at(T0, "emergency"))
    assert domain.next_escalation(tip, at(301), UNITS_BY_ID) is not None  # would escalate unacknowledged
    taken = domain.acknowledge(tip, TRIAGE, at(120), True)
    assert (taken["status"], taken["acknowledged_at"]) == ("in_progress", at(120))
    assert domain.is_acknowledged(taken) and taken["status"] not in domain.WAITING_STATUSES
    assert taken["audit"][-1]["action"] == "acknowledge" and taken["audit"][-1]["actor"] == "o-triage"
    assert domain.next_escalation(taken, at(10 ** 6), UNITS_BY_ID) is None
    assert not domain.is_breached(taken, at(10 ** 6))
    assert domain.public_status(taken)["status"]["code"] == "in_progress"  # the citizen reads "being handled"
    # once only; never by someone outside the tip's scope or who does not handle tips
    with pytest.raises(Conflict) as again:
        domain.acknowledge(taken, TRIAGE, at(130), True)
    assert "đã được tiếp nhận" in again.value.detail
    for actor, in_scope in ((OPERATOR, False), (AUDITOR, True)):
        with pytest.raises(Forbidden):
            domain.acknowledge(tip, actor, at(120), in_scope)
    with pytest.raises(Conflict):
        domain.acknowledge(make_tip("received"), TRIAGE, at(1), True)  # triage has not run yet
    with pytest.raises(Conflict):
        domain.acknowledge(make_tip("closed"), TRIAGE, at(1), True)
    assert domain.acknowledge(make_tip("triaged"), TRIAGE, at(1), True)["status"] == "in_progress"


def test_a_ward_police_unit_sees_its_wards_tips_whoever_handles_them():
    ward_scope = domain.ward_scope({"ca-ninh-khanh"}, UNITS)
    assert ward_scope == {"ninh-khanh"}
    city = {u["id"] for u in UNITS}
    assert domain.ward_scope({"doi-cshs"}, UNITS) == set()  # a team covers no ward
    assert domain.ward_scope(city, UNITS) == {u["ward"] for u in UNITS if u.get("kind") == "ward_police"}
    inactive = [dict(u, active=False) if u["id"] == "ca-ninh-khanh" else u for u in UNITS]
    assert domain.ward_scope({"ca-ninh-khanh"}, inactive) == set()

    scope = {"units": {"ca-ninh-khanh"}, "wards": ward_scope}
    assert domain.tip_in_scope(make_tip(unit_id="ca-ninh-khanh", ward=None), scope)
    assert domain.tip_in_scope(make_tip(unit_id="doi-ma-tuy", ward="ninh-khanh"), scope)
    assert not domain.tip_in_scope(make_tip(unit_id="doi-ma-tuy", ward="tan-thanh"), scope)
    assert not domain.tip_in_scope(make_tip(unit_id=None, ward=None), {"units": set(), "wards": set()})
    assert domain.tip_in_scope(make_tip(unit_id=None, ward=None), None)
    # the city police's officers see every tip, those not routed to a unit yet too
    assert domain.tips_scope(city, UNITS) is None
    assert domain.tips_scope({"ca-ninh-khanh"}, UNITS) == scope
    assert domain.tips_scope({"doi-cshs"}, UNITS) == {"units": {"doi-cshs"}, "wards": set()}


def test_reply_templates_are_cleaned_and_offered_by_category():
    made = domain.reply_template({"category": "fraud", "title": " Lu\u031b\u0300a đảo ",
                                  "text": "Không chuyển tiền.\r\nGọi 113."})
    assert made == {"category": "fraud", "title": "Lừa đảo", "text": "Không chuyển tiền.\nGọi 113."}
    with pytest.raises(InvalidInput) as bad:
        domain.reply_template({"category": "nothing", "title": "😀", "text": "a" * 2001})
    assert set(bad.value.errors) == {"category", "title", "text"}
    assert domain.reply_template({"text": "Mới"}, partial=True) == {"text": "Mới"}
    templates = [{"id": "1", "category": "*", "title": "Đã tiếp nhận"}, {"id": "2", "category": "drugs", "title": "Ma túy"},
                 {"id": "3", "category": "fraud", "title": "Lừa đảo b"}, {"id": "4", "category": "fraud", "title": "lừa đảo a"}]
    assert [t["id"] for t in domain.templates_for("fraud", templates)] == ["4", "3", "1"]
    assert [t["id"] for t in domain.templates_for("traffic", templates)] == ["1"]


def test_the_scope_and_filters_become_one_query_where_they_can():
    from services.tips.store import all_of, scope_filter
    ward = scope_filter({"units": {"ca-ninh-khanh"}, "wards": {"ninh-khanh"}})
    assert ward == {"$or": [{"unit_id": {"$in": ["ca-ninh-khanh"]}}, {"ward": {"$in": ["ninh-khanh"]}}]}
    assert scope_filter({"units": {"doi-cshs"}, "wards": set()}) == {"unit_id": {"$in": ["doi-cshs"]}}
    assert all_of([ward, {"urgency": "emergency"}, {"status": {"$in": ["assigned"]}}]) == dict(
        ward, urgency="emergency", status={"$in": ["assigned"]})
    both = [{"status": "assigned"}, {"status": {"$in": ["received", "assigned"]}}]  # the same field twice
    assert all_of(both) == {"$and": both}
    assert all_of([]) == {}


def test_the_inbox_filters_become_the_query_of_the_tips_in_scope():
    from services.tips.store import tip_filter
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    scope = {"units": {"ca-ninh-khanh"}, "wards": set()}
    past_sla = tip_filter({"urgency": "emergency", "past_sla": True, "text": "Giật TÚI"}, scope, now)
    assert past_sla == {"unit_id": {"$in": ["ca-ninh-khanh"]}, "urgency": "emergency",
                        "status": {"$in": ["received", "triaged", "assigned"]}, "sla_due_at": {"$lt": now},
                        "search_tokens": {"$all": ["giat", "tui"]}}
    period = tip_filter({"received_from": now - timedelta(days=7), "received_to": now}, None, None)
    assert period == {"$and": [{"received_at": {"$gte": now - timedelta(days=7)}}, {"received_at": {"$lt": now}}]}
