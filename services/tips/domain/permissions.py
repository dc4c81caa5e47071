"""Who may do what to a tip: officers by permission and unit scope, the service itself as SYSTEM_ACTOR."""
from contracts.permissions import Actor


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
