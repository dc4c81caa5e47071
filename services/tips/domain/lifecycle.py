"""A tip's lifecycle: the transitions officers (and the service) make, each with its audit entry."""
import copy

from contracts.rpc import Conflict, Forbidden, InvalidInput
from contracts.tip_intake import clean_text
from contracts.tips import ACKNOWLEDGED_STATUSES, CLOSE_REASONS, REASON_MAX, STATUS_LABELS
from services.tips.domain.permissions import can_act, can_reveal


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


def status_label(status):
    vi, en = STATUS_LABELS.get(status, (status, status))
    return {"code": status, "label": vi, "label_en": en}


def audit_entry(at, actor, action, from_status, to_status, reason=None, unit_id=None):
    entry = {"at": at, "actor": (actor or {}).get("id"), "action": action,
             "from": from_status, "to": to_status, "reason": reason}
    if unit_id is not None:
        entry["unit_id"] = unit_id
    return entry


def clean_reason(reason, field="reason"):
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
    reason = clean_reason(reason)
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
    out["audit"].append(audit_entry(now, actor, action, current, new_status, reason, audit_unit))
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
    reason = clean_reason(reason)
    if not reason or len(reason) < 10:
        raise InvalidInput("Cần nêu rõ lý do (ít nhất 10 ký tự) / State a reason (10+ characters)",
                           {"reason": ["Ít nhất 10 ký tự / At least 10 characters"]})
    out = copy.deepcopy(tip)
    out.setdefault("audit", []).append(
        audit_entry(now, actor, "reveal_identity", tip.get("status"), tip.get("status"), reason))
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
