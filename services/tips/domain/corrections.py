"""Officers' corrections of triage: the corrected tip, and the labelled example the triage model
learns from."""
import copy

from contracts.rpc import Conflict, Forbidden, InvalidInput
from contracts.tips import URGENCIES
from services.tips.domain.intake import triage_text
from services.tips.domain.lifecycle import audit_entry, clean_reason
from services.tips.domain.permissions import can_act
from services.tips.domain.sla import sla_due_at
from services.tips.triage import CATEGORIES, redact


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
    reason = clean_reason(changes.get("reason"))
    out = copy.deepcopy(tip)
    for field, (_, new) in changed.items():
        out[field] = new
    out["is_spam"] = out.get("category") == "spam"
    if "urgency" in changed:
        out["sla_due_at"] = sla_due_at(out["received_at"], out["urgency"], policy)
    out["updated_at"] = now
    entry = audit_entry(now, actor, "correct_triage", tip.get("status"), tip.get("status"), reason)
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
