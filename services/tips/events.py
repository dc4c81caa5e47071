"""What the tips service announces (contracts/tips.py): built from a tip, never with the tipster's
identity, the text redacted."""
from contracts.times import iso
from services.tips.triage import redact

SUMMARY_CHARS = 200


def received_event(tip):
    return ("tips.received", {"tip_id": tip["id"], "tip_code": tip["tip_code"], "source": tip["channel"],
                              "received_at": iso(tip["received_at"]), **where(tip)})


def where(tip):
    """What every tips event carries so that units' subscriptions can filter on it."""
    return {"ward": tip.get("ward"), "category": tip.get("category")}


def triaged_event(tip):
    return ("tips.triaged", {"tip_id": tip["id"], "tip_code": tip["tip_code"], "source": tip["channel"],
                             "category": tip["category"], "urgency": tip["urgency"], "ward": tip.get("ward"),
                             "is_spam": bool(tip.get("is_spam")),
                             "category_disagreement": bool((tip.get("triage") or {}).get("category_disagreement")),
                             "sla_due_at": iso(tip.get("sla_due_at"))})


def assigned_event(tip):
    return ("tips.assigned", {"tip_id": tip["id"], "tip_code": tip["tip_code"], "unit_id": tip["unit_id"],
                              "category": tip.get("category"), "urgency": tip.get("urgency"),
                              "ward": tip.get("ward"), "summary": redact(tip["text"])[:SUMMARY_CHARS]})


def escalated_event(tip, escalation, missed_deadline):
    previous = tip["escalations"][-1]["to_unit"] if tip.get("escalations") else tip.get("unit_id")
    return ("tips.escalated", {"tip_id": tip["id"], "tip_code": tip["tip_code"], "from_unit_id": previous,
                               "to_unit_id": escalation["to_unit"], "level": escalation["level"],
                               "urgency": tip.get("urgency"), "due_at": iso(missed_deadline), **where(tip)})


def status_event(before, after):
    return ("tips.status_changed", {"tip_id": after["id"], "tip_code": after["tip_code"],
                                    "from_status": before["status"], "to_status": after["status"],
                                    "reason": after["audit"][-1].get("reason"),
                                    "merged_into": after.get("merged_into"), "unit_id": after.get("unit_id"),
                                    **where(after)})


def reply_event(tip, message):
    return ("tips.reply_sent", {"tip_id": tip["id"], "tip_code": tip["tip_code"], "message_id": message["id"],
                                "source": tip.get("channel", "web"), "text": redact(message["text"]), **where(tip)})
