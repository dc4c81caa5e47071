"""Tips: pure rules (no I/O, no database). Plain dicts in, new plain dicts out.

One module per concern (lifecycle, permissions, scope, intake, sla, routing, conversation,
stats, corrections, templates; units: the unit tree they share); this package names them
all, so callers write ``domain.apply_action``.

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
(409, a transition the current state does not allow), Forbidden (403)."""
# The contracts' names the domain has always offered (the service and store use domain.as_utc,
# domain.prepare_intake, domain.OPEN_STATUSES...).
from contracts.times import as_utc, iso  # noqa: F401
from contracts.tip_intake import (  # noqa: F401  (the intake contract: the tips service applies it too)
    CITIZEN_CATEGORIES, HOTLINES, INTAKE_FIELDS, STATUS_PATH, VN_TZ, citizen_ack, clean_body, clean_text, has_words,
    hash_secret, new_secret, new_tip_code, parse_tip_code, prepare_intake, receipt, same_code, verify_secret)
# The vocabulary and limits are part of the contract (the gateway validates with them too).
from contracts.tips import (ACKNOWLEDGED_STATUSES, ANY, ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES,  # noqa: F401
                            ATTACHMENTS_MAX, CLOSE_REASONS, MESSAGE_MAX, OPEN_STATUSES, REASON_MAX, SOURCES,
                            STATUS_LABELS, STATUSES, TEXT_MAX, URGENCIES, WAITING_STATUSES)
from services.tips.triage import CATEGORIES  # noqa: F401

from services.tips.domain.conversation import (  # noqa: F401
    FAQ_FOLLOW_UP, FAQ_HEADING, add_message, add_note, faq_answers, faq_replies, public_status, staff_reply,
    staff_view)
from services.tips.domain.corrections import (  # noqa: F401
    TRIAGE_FIELDS, correct_triage, correction_report, label_row)
from services.tips.domain.intake import apply_triage, new_tip, triage_text  # noqa: F401
from services.tips.domain.lifecycle import (  # noqa: F401
    ACTION_FOR_STATUS, ACTIONS, TRANSITIONS, acknowledge, apply_action, assign, audit_entry, change_status,
    clean_reason, record_reveal, status_label)
from services.tips.domain.permissions import SYSTEM_ACTOR, SYSTEM_ROLE, can_act, can_read, can_reveal  # noqa: F401
from services.tips.domain.routing import (  # noqa: F401
    WARD_DEFAULT_CATEGORIES, route, route_explained, validate_rules)
from services.tips.domain.scope import tip_in_scope, tips_scope, ward_scope  # noqa: F401
from services.tips.domain.sla import (  # noqa: F401
    DEFAULT_SLA_SECONDS, SLA_ENV, acknowledged_at, escalate, escalation_target, is_acknowledged, is_breached,
    next_escalation, sla_due_at, sla_policy)
from services.tips.domain.stats import STATS_FIELDS, counts_by_week, percentiles, tip_stats, week_of  # noqa: F401
from services.tips.domain.templates import TEMPLATE_TITLE_MAX, reply_template, templates_for  # noqa: F401
from services.tips.domain.units import active_units, parent_of, root_unit_id  # noqa: F401
