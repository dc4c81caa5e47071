"""A tip as first stored, and the triage result applied to it."""
import copy
from dataclasses import asdict, is_dataclass

from services.tips.domain.lifecycle import apply_action, audit_entry
from services.tips.domain.permissions import SYSTEM_ACTOR
from services.tips.domain.sla import sla_due_at


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
        "audit": [audit_entry(now, SYSTEM_ACTOR, "receive", None, "received")],
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
