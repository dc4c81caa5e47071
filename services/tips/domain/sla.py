"""The SLA: how long a tip may wait to be taken up, per urgency, and the escalation one unit up per
missed window."""
import copy
from datetime import timedelta

from contracts.times import as_utc
from contracts.tips import ACKNOWLEDGED_STATUSES, OPEN_STATUSES, URGENCIES
from services.tips.domain.lifecycle import audit_entry
from services.tips.domain.permissions import SYSTEM_ACTOR
from services.tips.domain.units import parent_of, root_unit_id


# Seconds to acknowledge (reach in_progress/resolved/closed), per urgency.
DEFAULT_SLA_SECONDS = {"emergency": 5 * 60, "high": 60 * 60, "normal": 24 * 3600,
                       "low": 72 * 3600}
SLA_ENV = {u: f"SLA_{u.upper()}_SECONDS" for u in URGENCIES}


def sla_policy(settings=None, overrides=None):
    """Defaults, then SLA_<URGENCY>_SECONDS from ``settings`` (the service's), then ``overrides``."""
    settings = settings or {}
    policy = dict(DEFAULT_SLA_SECONDS)
    for urgency, name in SLA_ENV.items():
        raw = settings.get(name)
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


def escalation_target(unit_id, units_by_id):
    """The parent unit of ``unit_id``; None at the root or for an unknown unit."""
    unit = units_by_id.get(unit_id)
    if unit is None:
        return None
    parent = parent_of(unit)
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
        audit_entry(now, SYSTEM_ACTOR, "escalate", tip.get("status"), tip.get("status"),
               f"SLA quá hạn, cấp {escalation['level']} / SLA breached, level {escalation['level']}",
               escalation["to_unit"]))
    return out, escalation
