"""Tips: pure rules (no I/O, no database). Plain dicts in, new plain dicts out.

Nothing here mutates its arguments: every function that "changes" a tip returns a
deep copy with the change applied, so the service can write it back atomically
(with its outbox event) or throw it away.

A tip, as this module sees it (the store maps ``id`` to ``_id``)::

    {id, tip_code, secret_hash, channel, message_id, text, chosen_category, ward_text,
     location, occurred_at, attachments, anonymous, identity_sealed,
     status, category, urgency, ward, is_spam, triage, unit_id,
     received_at, sla_due_at, acknowledged_at, resolved_at, closed_at,
     close_reason, merged_into,
     audit: [{at, actor, action, from, to, reason, unit_id?}],
     escalations: [{at, to_unit, level}],
     messages: [{at, from: "police"|"citizen", text, author_id?}],   # the citizen sees these
     notes: [{at, author_id, text}]}                                   # staff only

Errors are the contracts.rpc domain errors: InvalidInput (422), NotFound, Conflict
(409, a transition the current state does not allow), Forbidden (403).
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, is_dataclass
from datetime import date, timedelta

from contracts.permissions import Actor
from contracts.times import as_utc, iso  # noqa: F401  (the service and store use domain.as_utc)
from contracts.tip_intake import (  # noqa: F401  (the intake contract: the tips service applies it too)
    CITIZEN_CATEGORIES, HOTLINES, INTAKE_FIELDS, STATUS_PATH, VN_TZ, citizen_ack, clean_body, clean_text, has_words,
    hash_secret, new_secret, new_tip_code, parse_tip_code, prepare_intake, receipt, same_code, verify_secret)
from contracts.rpc import Conflict, Forbidden, InvalidInput
# The vocabulary and limits are part of the contract (the gateway validates with them too).
from contracts.tips import (ACKNOWLEDGED_STATUSES, ANY, ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES,  # noqa: F401
                            ATTACHMENTS_MAX, CLOSE_REASONS, MESSAGE_MAX, OPEN_STATUSES, REASON_MAX, SOURCES,
                            STATUS_LABELS, STATUSES, TEXT_MAX, URGENCIES, WAITING_STATUSES)
from services.tips.triage import CATEGORIES, redact

# ---------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------


# (current status, action) -> new status. Anything not listed is refused (Conflict).
TRANSITIONS = {
    ("received", "triage"): "triaged",
    ("triaged", "assign"): "assigned",
    ("assigned", "start"): "in_progress",
    ("in_progress", "resolve"): "resolved",
    # Moving a tip to another unit; in_progress goes back to assigned, since the new
    # unit has not started on it yet.
    ("assigned", "reassign"): "assigned",
    ("in_progress", "reassign"): "assigned",
    ("received", "close"): "closed",
    ("triaged", "close"): "closed",
    ("assigned", "close"): "closed",
    ("in_progress", "close"): "closed",
    # An officer takes the tip up: in_progress is acknowledged, so the SLA clock stops.
    ("triaged", "acknowledge"): "in_progress",
    ("assigned", "acknowledge"): "in_progress",
}
ACTIONS = tuple(sorted({action for _, action in TRANSITIONS}))

# A StatusChange names the target status; this is the action that reaches it.
ACTION_FOR_STATUS = {
    "triaged": "triage",
    "in_progress": "start",
    "resolved": "resolve",
    "closed": "close",
}

# Triage and SLA escalation are done by the service itself, not by an officer.
SYSTEM_ROLE = "system"
SYSTEM_ACTOR = {"id": "system", "username": "system", "roles": [SYSTEM_ROLE], "unit_id": None}

def _roles(actor):
    return set((actor or {}).get("roles") or ())


def can_act(actor, tip, in_scope):
    """May this officer change this tip? ``in_scope``: the tip's unit is in the
    officer's unit subtree (computed by the caller, which knows the unit tree)."""
    if SYSTEM_ROLE in _roles(actor):
        return True
    actor = Actor.of(actor)
    return actor.is_admin or (bool(in_scope) and actor.may("tips.handle"))


def can_read(actor, tip, in_scope):
    """Auditors read everything (read-only); handlers read their subtree."""
    if SYSTEM_ROLE in _roles(actor):
        return True
    actor = Actor.of(actor)
    return actor.may("tips.read_all") or (bool(in_scope) and actor.may("tips.read"))


def can_reveal(actor, tip, in_scope):
    """Who may open the sealed identity: an admin only (with a reason, audited). Nobody
    else ever sees who sent a tip."""
    return Actor.of(actor).may("tips.reveal_identity")


def status_label(status):
    vi, en = STATUS_LABELS.get(status, (status, status))
    return {"code": status, "label": vi, "label_en": en}


def _audit(at, actor, action, from_status, to_status, reason=None, unit_id=None):
    entry = {"at": at, "actor": (actor or {}).get("id"), "action": action,
             "from": from_status, "to": to_status, "reason": reason}
    if unit_id is not None:
        entry["unit_id"] = unit_id
    return entry


def _clean_reason(reason, field="reason"):
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise InvalidInput("Lý do không hợp lệ / Invalid reason",
                           {field: ["Phải là chuỗi ký tự / Must be a string"]})
    reason = clean_text(reason).strip()
    if len(reason) > REASON_MAX:
        raise InvalidInput("Lý do quá dài / Reason too long",
                           {field: [f"Tối đa {REASON_MAX} ký tự / At most {REASON_MAX} characters"]})
    return reason or None


def apply_action(tip, action, actor, now, in_scope, *, reason=None, unit_id=None,
                 merged_into=None):
    """Return a copy of ``tip`` after ``action``, with an audit entry appended.

    Refusals: Forbidden (role or scope), Conflict (state does not allow the action),
    InvalidInput (missing/bad reason, unit or merge target).
    """
    if not can_act(actor, tip, in_scope):
        raise Forbidden("Bạn không có quyền xử lý tin báo này / You may not act on this tip")
    current = tip.get("status")
    new_status = TRANSITIONS.get((current, action))
    if new_status is None:
        if action not in ACTIONS:
            raise InvalidInput("Thao tác không hợp lệ / Unknown action",
                               {"action": [f"Một trong / One of: {', '.join(ACTIONS)}"]})
        raise Conflict(
            f"Không thể '{action}' tin báo đang ở trạng thái '{STATUS_LABELS.get(current, (current,))[0]}'"
            f" / Cannot {action} a tip that is {current}")
    reason = _clean_reason(reason)
    out = copy.deepcopy(tip)
    audit_unit = None

    if action in ("assign", "reassign"):
        if not unit_id or not isinstance(unit_id, str):
            raise InvalidInput("Thiếu đơn vị nhận / Unit required",
                               {"unit_id": ["Bắt buộc / Required"]})
        if action == "reassign":
            if unit_id == tip.get("unit_id"):
                raise InvalidInput("Tin báo đã thuộc đơn vị này / The tip is already with this unit",
                                   {"unit_id": ["Chọn đơn vị khác / Choose another unit"]})
            if not reason:
                raise InvalidInput("Chuyển đơn vị cần nêu lý do / Reassignment needs a reason",
                                   {"reason": ["Bắt buộc / Required"]})
        out["unit_id"] = unit_id
        audit_unit = unit_id

    if action == "close":
        if reason not in CLOSE_REASONS:
            raise InvalidInput("Đóng tin báo cần lý do hợp lệ / Closing needs a valid reason",
                               {"reason": [f"Một trong / One of: {', '.join(CLOSE_REASONS)}"]})
        if reason == "duplicate":
            if not merged_into or not isinstance(merged_into, str):
                raise InvalidInput("Tin trùng cần mã tin gộp vào / A duplicate needs merged_into",
                                   {"merged_into": ["Bắt buộc / Required"]})
            if merged_into == tip.get("id"):
                raise InvalidInput("Không thể gộp tin vào chính nó / A tip cannot merge into itself",
                                   {"merged_into": ["Chọn tin khác / Choose another tip"]})
        elif merged_into:
            raise InvalidInput("Chỉ tin trùng mới có merged_into / merged_into is for duplicates only",
                               {"merged_into": ["Bỏ trường này / Remove this field"]})
        out["close_reason"] = reason
        out["merged_into"] = merged_into if reason == "duplicate" else None
        out["closed_at"] = now
    elif merged_into:
        raise InvalidInput("Chỉ tin trùng mới có merged_into / merged_into is for duplicates only",
                           {"merged_into": ["Bỏ trường này / Remove this field"]})

    if action == "resolve":
        out["resolved_at"] = now
    if new_status in ACKNOWLEDGED_STATUSES and not out.get("acknowledged_at"):
        out["acknowledged_at"] = now

    out["status"] = new_status
    out["updated_at"] = now
    out.setdefault("audit", [])
    out["audit"].append(_audit(now, actor, action, current, new_status, reason, audit_unit))
    return out


def change_status(tip, status, actor, now, in_scope, *, reason=None, merged_into=None):
    """A StatusChange request (target status) applied as its action."""
    action = ACTION_FOR_STATUS.get(status)
    if action is None:
        allowed = ", ".join(ACTION_FOR_STATUS)
        raise InvalidInput("Trạng thái đích không hợp lệ / Invalid target status",
                           {"status": [f"Một trong / One of: {allowed} (giao đơn vị: dùng assign / "
                                       "use assign for units)"]})
    return apply_action(tip, action, actor, now, in_scope, reason=reason, merged_into=merged_into)


def assign(tip, unit_id, actor, now, in_scope, *, reason=None):
    """First assignment from ``triaged``, reassignment (reason required) afterwards."""
    action = "reassign" if tip.get("status") in ("assigned", "in_progress") else "assign"
    return apply_action(tip, action, actor, now, in_scope, reason=reason, unit_id=unit_id)


def record_reveal(tip, actor, now, in_scope, *, reason):
    """Audit entry for opening the tipster's sealed identity (state unchanged)."""
    if not can_reveal(actor, tip, in_scope):
        raise Forbidden("Bạn không có quyền xem danh tính người báo tin / "
                        "You may not see who sent this tip")
    reason = _clean_reason(reason)
    if not reason or len(reason) < 10:
        raise InvalidInput("Cần nêu rõ lý do (ít nhất 10 ký tự) / State a reason (10+ characters)",
                           {"reason": ["Ít nhất 10 ký tự / At least 10 characters"]})
    out = copy.deepcopy(tip)
    out.setdefault("audit", []).append(
        _audit(now, actor, "reveal_identity", tip.get("status"), tip.get("status"), reason))
    return out


def acknowledge(tip, actor, now, in_scope):
    """An officer takes the tip up ("tiếp nhận"): it moves to in_progress, so it is acknowledged
    in the one sense this module knows (ACKNOWLEDGED_STATUSES, acknowledged_at the first time):
    the SLA clock stops, escalation ends, and the citizen reads "being handled"."""
    if not can_act(actor, tip, in_scope):
        raise Forbidden("Bạn không có quyền xử lý tin báo này / You may not act on this tip")
    status = tip.get("status")
    if status in ACKNOWLEDGED_STATUSES:
        raise Conflict(f"Tin báo đã được tiếp nhận ({STATUS_LABELS[status][0]}) / "
                       f"the tip was already acknowledged ({status})")
    if status == "received":
        raise Conflict("Tin báo đang được phân loại, hãy thử lại sau ít giây / "
                       "the tip is still being triaged, retry in a few seconds")
    return apply_action(tip, "acknowledge", actor, now, in_scope)


def ward_scope(unit_ids, units):
    """The wards whose tips an officer sees besides their units' own: a ward police unit in
    their scope sees every tip of its ward, whichever unit handles it."""
    return {u["ward"] for u in units if u["id"] in unit_ids and u.get("kind") == "ward_police"
            and u.get("ward") and u.get("active", True)}


def tips_scope(unit_ids, units):
    """The tips an officer acting for ``unit_ids`` sees: None (every tip) when those include the
    city police at the top of the tree, since every tip is the city's, those not routed yet too
    (escalation sends them there); else {"units", "wards"} for tip_in_scope."""
    if root_unit_id(units) in unit_ids:
        return None
    return {"units": set(unit_ids), "wards": ward_scope(unit_ids, units)}


def tip_in_scope(tip, scope):
    """``scope``: None (every tip) or {"units", "wards"}: the tip's unit is one of the units, or
    its ward one of the wards."""
    if scope is None:
        return True
    return tip.get("unit_id") in scope["units"] or (tip.get("ward") is not None and tip.get("ward") in scope["wards"])


# ---------------------------------------------------------------------------
# New tip, triage result
# ---------------------------------------------------------------------------

def new_tip(tip_id, tip_code, body, secret_hash, now, identity_sealed=None):
    """The stored record of a just-received tip (``body`` from prepare_intake)."""
    tip = copy.deepcopy(body)
    tip.update({
        "id": tip_id, "tip_code": tip_code, "secret_hash": secret_hash,
        "identity_sealed": identity_sealed,
        "status": "received", "category": None, "urgency": None, "ward": None,
        "is_spam": False, "triage": None, "unit_id": None,
        "received_at": now, "updated_at": now, "sla_due_at": None,
        "acknowledged_at": None, "resolved_at": None, "closed_at": None,
        "close_reason": None, "merged_into": None,
        "audit": [_audit(now, SYSTEM_ACTOR, "receive", None, "received")],
        "escalations": [], "messages": [], "notes": [],
    })
    return tip


def apply_triage(tip, result, now, policy=None, actor=SYSTEM_ACTOR):
    """received -> triaged with the triage suggestion (a TriageResult or its dict).

    Starts the SLA clock from received_at with the urgency triage found.
    """
    data = asdict(result) if is_dataclass(result) else dict(result)
    out = apply_action(tip, "triage", actor, now, True)
    out.update({
        "category": data["category"], "urgency": data["urgency"], "ward": data.get("ward"),
        "is_spam": bool(data.get("is_spam")),
        "triage": {k: data.get(k) for k in ("suggested_category", "confidence",
                                            "category_disagreement", "reasons")},
    })
    out["sla_due_at"] = sla_due_at(out["received_at"], out["urgency"], policy)
    return out


def triage_text(body):
    """The text triage reads: the tip plus the ward the citizen typed or picked,
    so a ward chosen in a form (id or name) is found by the gazetteer."""
    if body.get("ward_text"):
        return f"{body['text']}\n{body['ward_text']}."
    return body["text"]


# ---------------------------------------------------------------------------
# SLA and escalation
# ---------------------------------------------------------------------------

# Seconds to acknowledge (reach in_progress/resolved/closed), per urgency.
DEFAULT_SLA_SECONDS = {"emergency": 5 * 60, "high": 60 * 60, "normal": 24 * 3600,
                       "low": 72 * 3600}
SLA_ENV = {u: f"SLA_{u.upper()}_SECONDS" for u in URGENCIES}


def sla_policy(environ=None, overrides=None):
    """Defaults, then SLA_<URGENCY>_SECONDS from ``environ`` (the service's settings), then ``overrides``."""
    environ = environ or {}
    policy = dict(DEFAULT_SLA_SECONDS)
    for urgency, name in SLA_ENV.items():
        raw = environ.get(name)
        if raw not in (None, ""):
            try:
                policy[urgency] = int(raw)
            except ValueError:
                raise ValueError(f"{name} must be a whole number of seconds, got {raw!r}")
    policy.update(overrides or {})
    for urgency, seconds in policy.items():
        if urgency not in URGENCIES or not isinstance(seconds, int) or seconds <= 0:
            raise ValueError(f"SLA for {urgency!r} must be a positive number of seconds")
    return policy


def _sla_seconds(urgency, policy):
    policy = policy or DEFAULT_SLA_SECONDS
    # Not yet triaged: treat as normal (triage runs at intake, so this is brief).
    urgency = urgency or "normal"
    if urgency not in policy:
        raise ValueError(f"unknown urgency {urgency!r}")
    return policy[urgency]


def sla_due_at(received_at, urgency, policy=None):
    return as_utc(received_at) + timedelta(seconds=_sla_seconds(urgency, policy))


def acknowledged_at(tip):
    """When the tip first reached an acknowledged status (from the audit if needed)."""
    if tip.get("acknowledged_at"):
        return as_utc(tip["acknowledged_at"])
    for entry in tip.get("audit", ()):
        if entry.get("to") in ACKNOWLEDGED_STATUSES:
            return as_utc(entry["at"])
    return None


def is_acknowledged(tip):
    return tip.get("status") in ACKNOWLEDGED_STATUSES


def is_breached(tip, now, policy=None):
    """Past its deadline without acknowledgement (or acknowledged only after it)."""
    due = sla_due_at(tip["received_at"], tip.get("urgency"), policy)
    if is_acknowledged(tip):
        ack = acknowledged_at(tip)
        return ack is not None and ack > due
    return as_utc(now) > due


def _parent_of(unit):
    # groups events say parent_id; the seed data file says parent
    return unit.get("parent_id", unit.get("parent"))


def escalation_target(unit_id, units_by_id):
    """The parent unit of ``unit_id``; None at the root or for an unknown unit."""
    unit = units_by_id.get(unit_id)
    if unit is None:
        return None
    parent = _parent_of(unit)
    return parent if parent in units_by_id else None


def next_escalation(tip, now, units_by_id, policy=None):
    """The escalation a tip needs now, or None.

    Level n is due once n SLA windows have passed without acknowledgement; each level
    goes one unit up from the previous one (level 1: the parent of the tip's unit, or
    the root when the tip has no unit yet). A level already recorded is never repeated.
    """
    if is_acknowledged(tip) or tip.get("status") not in OPEN_STATUSES:
        return None
    window = _sla_seconds(tip.get("urgency"), policy)
    elapsed = (as_utc(now) - as_utc(tip["received_at"])).total_seconds()
    done = tip.get("escalations") or []
    level = max((e["level"] for e in done), default=0) + 1
    if elapsed <= level * window:
        return None
    if done:
        target = escalation_target(done[-1]["to_unit"], units_by_id)
    elif tip.get("unit_id"):
        target = escalation_target(tip["unit_id"], units_by_id)
    else:
        target = root_unit_id(units_by_id.values())
    if target is None or target in {e["to_unit"] for e in done}:
        return None
    return {"at": now, "to_unit": target, "level": level}


def escalate(tip, now, units_by_id, policy=None):
    """(tip with the escalation recorded, escalation) or (tip unchanged, None)."""
    escalation = next_escalation(tip, now, units_by_id, policy)
    if escalation is None:
        return tip, None
    out = copy.deepcopy(tip)
    out.setdefault("escalations", []).append(escalation)
    out.setdefault("audit", []).append(
        _audit(now, SYSTEM_ACTOR, "escalate", tip.get("status"), tip.get("status"),
               f"SLA quá hạn, cấp {escalation['level']} / SLA breached, level {escalation['level']}",
               escalation["to_unit"]))
    return out, escalation


# ---------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------

# A ward police unit with no ``handles`` list takes the local matters that no city
# team in the reference data claims (the rules table overrides any of this).
WARD_DEFAULT_CATEGORIES = ("public_order", "gambling", "other")


def _active(units):
    return [u for u in units if u.get("active", True)]


def root_unit_id(units):
    """The city police at the top of the tree (first unit without a parent)."""
    roots = [u for u in _active(units) if not _parent_of(u)]
    for unit in roots:
        if unit.get("kind") == "city_police":
            return unit["id"]
    return roots[0]["id"] if roots else None


def _ward_unit_handles(unit, category):
    handles = unit.get("handles") or []
    return category in handles if handles else category in WARD_DEFAULT_CATEGORIES


def route_explained(category, ward, rules, units):
    """(unit_id, why) for a tip. Most specific rule first:
    category+ward (3) > category+* (2) > *+ward (1) > *+* (0); then defaults from units."""
    units = _active(units)
    known = {u["id"] for u in units}
    best, best_score = None, -1
    for rule in rules or ():
        if rule.get("unit_id") not in known:
            continue  # a rule left pointing at a removed unit must not swallow tips
        r_cat, r_ward = rule.get("category", ANY), rule.get("ward", ANY)
        if r_cat not in (ANY, category) or r_ward not in (ANY, ward):
            continue
        score = (2 if r_cat != ANY else 0) + (1 if r_ward != ANY else 0)
        if score > best_score:  # strict: the first of equal rules wins
            best, best_score = rule, score
    if best is not None:
        return best["unit_id"], f"rule {best.get('category', ANY)} × {best.get('ward', ANY)}"

    if ward:
        for unit in units:
            if unit.get("kind") == "ward_police" and unit.get("ward") == ward \
                    and _ward_unit_handles(unit, category):
                return unit["id"], f"default: ward police of {ward}"
    for unit in units:
        if unit.get("kind") == "team" and category in (unit.get("handles") or ()):
            return unit["id"], f"default: team handling {category}"
    return root_unit_id(units), "default: city police"


def route(category, ward, rules, units):
    """The unit a tip goes to (None only when there are no units at all)."""
    return route_explained(category, ward, rules, units)[0]


def validate_rules(rules, units, categories=CATEGORIES, wards=None):
    """Clean copy of an admin-edited rules table, or InvalidInput with per-row errors
    keyed ``rules.<row>.<field>``. ``wards``: known ward ids, when the caller has them."""
    if not isinstance(rules, list):
        raise InvalidInput("Bảng định tuyến phải là danh sách / Rules must be a list",
                           {"rules": ["Phải là danh sách / Must be a list"]})
    unit_ids = {u["id"] for u in units}
    errors, clean, seen = {}, [], {}
    for i, row in enumerate(rules):
        key = f"rules.{i}"
        if not isinstance(row, dict):
            errors[key] = ["Mỗi dòng phải là đối tượng / Each row must be an object"]
            continue
        extra = set(row) - {"category", "ward", "unit_id"}
        if extra:
            errors[key] = [f"Trường lạ / Unknown fields: {', '.join(sorted(extra))}"]
        category = row.get("category", ANY)
        ward = row.get("ward", ANY) or ANY
        unit_id = row.get("unit_id")
        if category != ANY and category not in categories:
            errors[f"{key}.category"] = ["Loại tin không tồn tại / Unknown category"]
        if not isinstance(ward, str) or (ward != ANY and wards is not None and ward not in wards):
            errors[f"{key}.ward"] = ["Phường/xã không tồn tại / Unknown ward"]
        if unit_id not in unit_ids:
            errors[f"{key}.unit_id"] = ["Đơn vị không tồn tại / Unknown unit"]
        pair = (category, ward)
        if pair in seen:
            errors[key] = errors.get(key, []) + [
                f"Trùng với dòng {seen[pair]} / Duplicates row {seen[pair]}"]
        else:
            seen[pair] = i
        clean.append({"category": category, "ward": ward, "unit_id": unit_id})
    if errors:
        raise InvalidInput("Bảng định tuyến có lỗi / The routing rules have errors", errors)
    return clean


# ---------------------------------------------------------------------------
# Messages and views
# ---------------------------------------------------------------------------



def add_message(tip, sender, text, now, author_id=None):
    """Append to the two-way thread the citizen sees. ``sender``: police | citizen."""
    if sender not in ("police", "citizen"):
        raise InvalidInput("Người gửi không hợp lệ / Invalid sender",
                           {"from": ["police | citizen"]})
    text = clean_body(text, "text", MESSAGE_MAX)
    if tip.get("status") == "closed" and sender == "citizen":
        raise Conflict("Tin báo đã đóng, không nhận thêm tin nhắn / This tip is closed")
    out = copy.deepcopy(tip)
    message = {"at": now, "from": sender, "text": text}
    if author_id:
        message["author_id"] = author_id
    out.setdefault("messages", []).append(message)
    out["updated_at"] = now
    return out


def staff_reply(tip, text, actor, now, in_scope):
    """An officer's message to the citizen (goes out redacted via public_status)."""
    if not can_act(actor, tip, in_scope):
        raise Forbidden("Bạn không có quyền xử lý tin báo này / You may not act on this tip")
    return add_message(tip, "police", text, now, author_id=actor.get("id"))


def add_note(tip, text, actor, now, in_scope):
    """Internal staff note: never shown to the citizen."""
    if not can_act(actor, tip, in_scope):
        raise Forbidden("Bạn không có quyền xử lý tin báo này / You may not act on this tip")
    text = clean_body(text, "text", MESSAGE_MAX)
    out = copy.deepcopy(tip)
    out.setdefault("notes", []).append({"at": now, "author_id": actor.get("id"), "text": text})
    out["updated_at"] = now
    return out


def public_status(tip):
    """What the tipster sees with code + secret: status and the thread, nothing else.

    Whitelisted, not filtered: a field added to tips later cannot leak here. Texts
    are redacted because this leaves the service for a public channel.
    """
    return {
        "tip_code": tip["tip_code"],
        "status": status_label(tip["status"]),
        "received_at": iso(tip["received_at"]),
        "public_messages": [
            {"at": iso(m["at"]), "from": m["from"], "text": redact(m["text"])}
            for m in tip.get("messages", ()) if m.get("from") in ("police", "citizen")
        ],
        "answers": faq_answers(tip),
    }


# A procedure question gets the best FAQ answers at once (web page, Zalo, Facebook); the tip
# stays open for an officer to confirm or answer.
FAQ_HEADING = "Có thể bạn cần / You may need:"
FAQ_FOLLOW_UP = ("Cán bộ sẽ xem câu hỏi của bạn và trả lời thêm nếu cần. / "
                 "An officer will read your question and reply if more is needed.")


def faq_answers(tip):
    """[{title, answer}] best first, for a procedure question triage matched to the FAQ."""
    if tip.get("category") != "procedure_question":
        return []
    return [{"title": s.get("title") or "", "answer": s["answer"]}
            for s in tip.get("faq_suggestions") or () if s.get("answer")]


def faq_replies(answers):
    """The chat messages carrying `answers`: one each (a chat message holds MESSAGE_MAX
    characters), the heading on each, the officer's follow-up promised in the last."""
    replies = []
    for n, item in enumerate(answers, 1):
        head = f"{FAQ_HEADING} {item['title']}\n"
        tail = f"\n{FAQ_FOLLOW_UP}" if n == len(answers) else ""
        room = MESSAGE_MAX - len(head) - len(tail)
        answer = item["answer"] if len(item["answer"]) <= room else item["answer"][:room - 1].rstrip() + "…"
        replies.append(head + answer + tail)
    return replies


def staff_view(tip, alias):
    """A tip for officers: no secret hash, no sealed identity, the tipster as an alias."""
    out = copy.deepcopy(tip)
    out.pop("secret_hash", None)
    out["has_identity"] = bool(out.pop("identity_sealed", None))
    out["tipster_alias"] = alias
    return out


# ---------------------------------------------------------------------------
# Stats
# ---------------------------------------------------------------------------

def percentiles(values, ps=(50, 90, 99)):
    """{p: value} with linear interpolation between ranks; None for no data."""
    data = sorted(v for v in values if v is not None)
    out = {}
    for p in ps:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile {p} outside 0..100")
        if not data:
            out[p] = None
            continue
        k = (len(data) - 1) * p / 100
        lo, hi = math.floor(k), math.ceil(k)
        out[p] = data[lo] + (data[hi] - data[lo]) * (k - lo)
    return out


def week_of(moment):
    """The Monday (Ninh Bình's calendar, UTC+7) of the week a moment falls in: "YYYY-MM-DD"."""
    day = as_utc(moment).astimezone(VN_TZ).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def counts_by_week(moments):
    """{Monday: n} in date order from the first week to the last, weeks with none included
    (a chart of tips per week shows the quiet weeks as zero, not as missing)."""
    counts = {}
    for moment in moments:
        if moment is not None:
            week = week_of(moment)
            counts[week] = counts.get(week, 0) + 1
    if not counts:
        return {}
    week, last = date.fromisoformat(min(counts)), date.fromisoformat(max(counts))
    filled = {}
    while week <= last:
        filled[week.isoformat()] = counts.get(week.isoformat(), 0)
        week += timedelta(days=7)
    return filled


STATS_FIELDS = ("status", "category", "ward", "unit_id", "received_at", "triaged_at", "acknowledged_at",
                "resolved_at")


def tip_stats(rows):
    """The statistics of tips (rows with STATS_FIELDS): counts by status, category, ward, unit and
    week; time to triage, acknowledge and resolve (p50/p90/p99, seconds)."""
    def counts(field):
        found = {}
        for row in rows:
            key = str(row[field]) if row.get(field) is not None else "none"
            found[key] = found.get(key, 0) + 1
        return found

    def seconds_to(field):
        return [(as_utc(row[field]) - as_utc(row["received_at"])).total_seconds()
                for row in rows if row.get("received_at") and row.get(field)]

    def summary(values):
        p = percentiles(values)
        return {"p50": p[50], "p90": p[90], "p99": p[99], "count": len(values)}

    return {"total": len(rows), "by_status": counts("status"), "by_category": counts("category"),
            "by_ward": counts("ward"), "by_unit": counts("unit_id"),
            "by_week": counts_by_week(row.get("received_at") for row in rows),
            "time_to_triage_seconds": summary(seconds_to("triaged_at")),
            "time_to_acknowledge_seconds": summary(seconds_to("acknowledged_at")),
            "time_to_resolve_seconds": summary(seconds_to("resolved_at"))}


# ---------------------------------------------------------------------------
# Officers' corrections of triage (labelled examples for the triage model)
# ---------------------------------------------------------------------------

TRIAGE_FIELDS = ("category", "urgency", "ward")


def correct_triage(tip, changes, actor, now, in_scope, ward_ids, policy=None):
    """An officer's correction of a tip's category, urgency and/or ward.

    Returns (corrected tip, correction). The tip keeps its unit: a new category or ward
    does not reassign it (the officer assigns it if it must move), so a correction
    never sends a tip somewhere nobody looked. A new urgency restarts the SLA clock
    from received_at with the new level. ``correction`` is the labelled example kept
    for training: the text redacted as events redact it, the labels after the
    correction, and what triage had said.
    """
    if not can_act(actor, tip, in_scope):
        raise Forbidden("Không có quyền / you may not act on this tip")
    if tip.get("status") == "received":
        raise Conflict("Tin báo chưa được phân loại / the tip has not been triaged yet")
    wanted = {k: changes[k] for k in TRIAGE_FIELDS if k in changes}
    if "category" in wanted and wanted["category"] not in CATEGORIES:
        raise InvalidInput("Loại tin không hợp lệ / Invalid category", {"category": ["unknown category"]})
    if "urgency" in wanted and wanted["urgency"] not in URGENCIES:
        raise InvalidInput("Mức khẩn không hợp lệ / Invalid urgency", {"urgency": ["unknown urgency"]})
    if wanted.get("ward") is not None and wanted["ward"] not in ward_ids:
        raise InvalidInput("Phường/xã không có trong danh mục / Unknown ward", {"ward": ["unknown ward"]})
    changed = {k: [tip.get(k), v] for k, v in wanted.items() if tip.get(k) != v}
    if not changed:
        raise InvalidInput("Không có gì thay đổi / Nothing to correct",
                           {k: ["Giống giá trị hiện tại / Same as now"] for k in wanted} or
                           {"category": ["Cần ít nhất một trường / At least one field"]})
    reason = _clean_reason(changes.get("reason"))
    out = copy.deepcopy(tip)
    for field, (_, new) in changed.items():
        out[field] = new
    out["is_spam"] = out.get("category") == "spam"
    if "urgency" in changed:
        out["sla_due_at"] = sla_due_at(out["received_at"], out["urgency"], policy)
    out["updated_at"] = now
    entry = _audit(now, actor, "correct_triage", tip.get("status"), tip.get("status"), reason)
    entry["changes"] = changed
    out.setdefault("audit", []).append(entry)
    suggestion = tip.get("triage") or {}
    correction = {
        "tip_id": tip["id"], "tip_code": tip.get("tip_code"), "at": now, "actor": actor.get("id"),
        "unit_id": tip.get("unit_id"), "channel": tip.get("channel"),
        "text": redact(triage_text(tip)),
        "category": out.get("category"), "urgency": out.get("urgency"), "ward": out.get("ward"),
        "before": {k: tip.get(k) for k in TRIAGE_FIELDS},
        "changed": sorted(changed),
        "suggested_category": suggestion.get("suggested_category"),
        "reason": reason,
    }
    return out, correction


def label_row(correction):
    """A stored correction as a row of the labelled data files (data/tips-*.jsonl)."""
    return {"id": f"officer-{correction['tip_code'] or correction['tip_id']}",
            "channel": correction.get("channel"), "text": correction["text"],
            "category": correction["category"], "urgency": correction["urgency"], "ward": correction["ward"],
            "is_anonymous_request": False,
            "note": f"officer correction of {', '.join(correction['changed'])}"
                    f" ({correction['at']:%Y-%m-%d})"}


def correction_report(corrections):
    """Corrections counted per (field, from, to), most frequent first."""
    counts = {}
    for c in corrections:
        for field in c.get("changed", ()):
            key = (field, (c.get("before") or {}).get(field), c.get(field))
            counts[key] = counts.get(key, 0) + 1
    return sorted(((f, a, b, n) for (f, a, b), n in counts.items()), key=lambda r: (-r[3], r[0], str(r[1])))


# ---------------------------------------------------------------------------
# Reply templates (admin-edited, per category; "*" for every category)
# ---------------------------------------------------------------------------

TEMPLATE_TITLE_MAX = 200


def reply_template(data, partial=False):
    """A template's fields as stored: title and text NFC-cleaned (the text is a reply, so the
    reply's rules apply), the category one of CATEGORIES or ANY. ``partial``: only the fields given."""
    out, errors = {}, {}
    if "category" in data or not partial:
        if data.get("category") not in (ANY, *CATEGORIES):
            errors["category"] = [f"Một trong / One of: {ANY}, {', '.join(CATEGORIES)}"]
        out["category"] = data.get("category")
    if "title" in data or not partial:
        title = clean_text(data.get("title") or "").strip()
        if not has_words(title) or len(title) > TEMPLATE_TITLE_MAX:
            errors["title"] = [f"Từ 1 đến {TEMPLATE_TITLE_MAX} ký tự / 1 to {TEMPLATE_TITLE_MAX} characters"]
        out["title"] = title
    if "text" in data or not partial:
        try:
            out["text"] = clean_body(data.get("text"), "text", MESSAGE_MAX)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput("Mẫu trả lời có trường không hợp lệ / The reply template has invalid fields", errors)
    return out


def templates_for(category, templates):
    """The templates a reply to a tip of ``category`` is offered: its category's first, then those
    for every category, each group by title."""
    def title(t):
        return t["title"].casefold()
    own = sorted((t for t in templates if t["category"] == category), key=title)
    general = sorted((t for t in templates if t["category"] == ANY and category != ANY), key=title)
    return own + general
