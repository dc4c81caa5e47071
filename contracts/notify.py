"""Notify: the events it emits about deliveries and relay tasks, and its API payloads."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from contracts.rpc import PageQuery

DELIVERY_STATUSES = ("pending", "sending", "sent", "retry_wait", "reauth_wait", "relay_pending", "failed",
                     "dead", "cancelled", "retract_pending", "retracted")
RELAY_TASK_STATUSES = ("open", "overdue", "done", "cancelled")
RELAY_PURPOSES = ("post", "take_down")
# What a post's delivery summary counts per channel type (notify.publication_progress).
# take_down_pending: sent, the post since retracted, and an officer's take-down task still open
# (the message is still in the group); retracted counts only what is really gone.
SUMMARY_COUNTERS = ("sent", "failed", "pending", "relay_open", "cancelled", "retracted", "take_down_pending")
# Counters of deliveries that are, or may yet be, on a platform. A retracted post is gone
# everywhere only when every one of them is zero for every channel type.
STILL_OUT_COUNTERS = ("sent", "pending", "relay_open", "take_down_pending")
# Which counter of the summary each delivery status adds to.
SUMMARY_COUNTER_OF = {"pending": "pending", "sending": "pending", "retry_wait": "pending", "sent": "sent",
                      "relay_pending": "relay_open", "failed": "failed", "dead": "failed", "reauth_wait": "failed",
                      "cancelled": "cancelled", "retract_pending": "take_down_pending", "retracted": "retracted"}
assert set(SUMMARY_COUNTER_OF.values()) == set(SUMMARY_COUNTERS)

# Events a unit may receive through a subscription (groups decides who, notify delivers).
# Not tips.received (before triage and redaction) nor tips.reply_sent (for the tipster only);
# not notify's own events (a delivery of one would announce itself again, forever). A unit
# gets notify's alerts (dead deliveries, expired tokens, relay tasks) by subscribing to
# the pseudo-event "notify.alert".
SUBSCRIBABLE_EVENTS = ("posts.published", "posts.retracted", "posts.wanted_resolved", "tips.triaged",
                       "tips.assigned", "tips.escalated", "tips.status_changed")
ALERT_EVENT = "notify.alert"


class DeliveryOutcomeV1(Schema):
    delivery_id = fields.String(required=True)
    publication_id = fields.String(allow_none=True, load_default=None)
    post_id = fields.String(allow_none=True, load_default=None)
    channel_id = fields.String(required=True)
    channel_type = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATUSES))
    attempts = fields.Integer(required=True)
    external_id = fields.String(allow_none=True, load_default=None)
    error_class = fields.String(allow_none=True, load_default=None)
    error = fields.String(allow_none=True, load_default=None)
    # added: the unit that published (for alerts and subscriptions filtering on it)
    unit = fields.String(allow_none=True, load_default=None)


class RelayTaskCreatedV1(Schema):
    relay_task_id = fields.String(required=True)
    delivery_id = fields.String(required=True)
    publication_id = fields.String(allow_none=True, load_default=None)
    post_id = fields.String(allow_none=True, load_default=None)
    channel_id = fields.String(required=True)
    channel_type = fields.String(required=True)
    # None for a take-down in an OA group (no named officer): the channel's unit handles it.
    officer_id = fields.String(required=True, allow_none=True)
    purpose = fields.String(required=True, validate=validate.OneOf(RELAY_PURPOSES))
    unit_id = fields.String(allow_none=True, load_default=None)
    due_at = fields.String(allow_none=True, load_default=None)


class RelayTaskOverdueV1(Schema):
    relay_task_id = fields.String(required=True)
    delivery_id = fields.String(required=True)
    publication_id = fields.String(allow_none=True, load_default=None)
    post_id = fields.String(allow_none=True, load_default=None)
    channel_id = fields.String(required=True)
    channel_type = fields.String(required=True)
    officer_id = fields.String(allow_none=True, load_default=None)
    unit_id = fields.String(allow_none=True, load_default=None)
    purpose = fields.String(required=True, validate=validate.OneOf(RELAY_PURPOSES))
    created_at = fields.String(required=True)


class PublicationProgressV1(Schema):
    """Where one publication stands, recomputed from its deliveries (not a running tally, so
    retries and cancellations never drift it). A consumer keeps the one with the latest as_of."""
    publication_id = fields.String(required=True)
    post_id = fields.String(required=True)
    as_of = fields.String(required=True)
    total = fields.Integer(required=True)
    open = fields.Integer(required=True, metadata={"description": "deliveries not yet settled"})
    by_channel_type = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                                  required=True, metadata={"description": "{channel type: {counter: n}}, "
                                                                          "counters: " + ", ".join(SUMMARY_COUNTERS)})


EVENTS = {
    ("notify.publication_progress", 1): PublicationProgressV1,
    ("notify.delivery_failed", 1): DeliveryOutcomeV1,
    ("notify.delivery_dead", 1): DeliveryOutcomeV1,
    ("notify.relay_task_created", 1): RelayTaskCreatedV1,
    ("notify.relay_task_overdue", 1): RelayTaskOverdueV1,
}


# --- API payloads ---------------------------------------------------------------------------

def _https_url(value):
    if not isinstance(value, str) or not value.startswith("https://") or len(value) < 12 or " " in value:
        raise ValidationError("Cần đường dẫn https:// tới bài đã đăng / must be the https:// permalink of the post")


class DeliveryQuery(PageQuery):
    post_id = fields.String(validate=validate.Length(1, 100))
    publication_id = fields.String(validate=validate.Length(1, 200))
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    channel_type = fields.String(validate=validate.Length(1, 40))
    unit_id = fields.String(validate=validate.Length(1, 100))


class DeliveryAttempt(Schema):
    at = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"description": "ok | retry | reauthorize | permanent | "
                                                                    "relay_required | relay_confirmed | retracted"})
    error_class = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)
    by = fields.String(allow_none=True, metadata={"description": "the notify process that made it"})


class Delivery(Schema):
    id = fields.String(required=True)
    publication_id = fields.String(required=True)
    post_id = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"description": "post | event | alert | reply"})
    event_type = fields.String(allow_none=True)
    title = fields.String(allow_none=True, metadata={"description": "what was delivered: the post's title, or "
                                                                    "the event's or alert's (in lists only)"})
    channel_id = fields.String(required=True)
    channel_type = fields.String(required=True)
    channel_name = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True, metadata={"description": "the channel's unit"})
    publishing_unit = fields.String(allow_none=True)
    status = fields.String(required=True)
    attempt_count = fields.Integer(required=True)
    external_id = fields.String(allow_none=True)
    last_error_class = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True)
    relay_task_id = fields.String(allow_none=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(allow_none=True)
    sent_at = fields.String(allow_none=True)
    attempts = fields.List(fields.Nested(DeliveryAttempt), metadata={"description": "only on GET /deliveries/{id}"})


class DeliveryCountsByStatus(Schema):
    total = fields.Integer(required=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class DeliverySummary(Schema):
    post_id = fields.String(required=True)
    total = fields.Integer(required=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_channel_type = fields.Dict(keys=fields.String(), values=fields.Nested(DeliveryCountsByStatus), required=True)
    relay_open = fields.Integer(required=True)


class DeliveryStatsQuery(Schema):
    class Meta:
        unknown = RAISE

    post_id = fields.String(validate=validate.Length(1, 100), metadata={"description": "one post"})
    published_from = fields.AwareDateTime(data_key="from", format="iso", metadata={
        "description": "posts published at or after (ISO 8601 with offset, e.g. 2026-03-01T00:00:00%2B07:00)"})
    published_to = fields.AwareDateTime(data_key="to", format="iso", metadata={
        "description": "posts published before (ISO 8601 with offset)"})

    @validates_schema
    def _period_in_order(self, data, **kwargs):
        if "published_from" in data and "published_to" in data and data["published_to"] <= data["published_from"]:
            raise ValidationError("'to' phải sau 'from' / 'to' must be after 'from'", "to")


class DeliveryOutcomeCounts(Schema):
    total = fields.Integer(required=True)
    by_outcome = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "the post summary's counters: " + ", ".join(SUMMARY_COUNTERS)})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "the deliveries' own statuses (dead apart from failed, reauth_wait, ...)"})


class DeliveryStats(DeliveryOutcomeCounts):
    post_id = fields.String(allow_none=True)
    published_from = fields.String(data_key="from", allow_none=True)
    published_to = fields.String(data_key="to", allow_none=True)
    publications = fields.Integer(required=True, metadata={"description": "publications of posts counted"})
    by_channel_type = fields.Dict(keys=fields.String(), values=fields.Nested(DeliveryOutcomeCounts), required=True)


class RelayTaskQuery(PageQuery):
    all = fields.Boolean(load_default=False, metadata={"description": "every officer's tasks (admin, moderator)"})
    status = fields.String(validate=validate.OneOf(RELAY_TASK_STATUSES))
    purpose = fields.String(validate=validate.OneOf(RELAY_PURPOSES))
    post_id = fields.String(validate=validate.Length(1, 100), metadata={"description": "one post's tasks"})


class TaskOfficer(Schema):
    id = fields.String(required=True)
    username = fields.String(allow_none=True, metadata={"description": "what the officer logs in with"})
    full_name = fields.String(allow_none=True)


class RelayTask(Schema):
    id = fields.String(required=True)
    purpose = fields.String(required=True)
    status = fields.String(required=True)
    delivery_id = fields.String(required=True)
    publication_id = fields.String(allow_none=True)
    post_id = fields.String(allow_none=True)
    channel_id = fields.String(required=True)
    channel_type = fields.String(required=True)
    channel_name = fields.String(allow_none=True)
    group_id = fields.String(allow_none=True, metadata={"description": "the Zalo group (external id)"})
    officer_id = fields.String(allow_none=True, metadata={"description": "the officer who does it; null: the "
                                                                        "unit's officers (unit_officers)"})
    officer_username = fields.String(allow_none=True)
    officer_name = fields.String(allow_none=True, metadata={"description": "full name"})
    unit_officers = fields.List(fields.Nested(TaskOfficer), metadata={
        "description": "a task with no named officer (an OA group): the unit's operators, who do it"})
    unit_id = fields.String(allow_none=True)
    post_title = fields.String(allow_none=True)
    text = fields.String(allow_none=True, metadata={"description": "what to post (purpose post); what was "
                                                                  "posted, to find and delete (take_down)"})
    external_id = fields.String(allow_none=True, metadata={"description": "the platform's id of the message to "
                                                                         "take down (purpose take_down)"})
    sent_at = fields.String(allow_none=True, metadata={"description": "when the message to take down was "
                                                                     "sent (purpose take_down)"})
    created_at = fields.String(required=True)
    remind_at = fields.String(allow_none=True)
    overdue_at = fields.String(allow_none=True)
    reminded_at = fields.String(allow_none=True)
    permalink = fields.String(allow_none=True)
    confirmed_by = fields.String(allow_none=True)
    confirmed_by_username = fields.String(allow_none=True)
    confirmed_at = fields.String(allow_none=True)


class RelayConfirm(Schema):
    class Meta:
        unknown = RAISE

    permalink = fields.String(validate=_https_url, metadata={
        "description": "https link to the message posted in the group (required for a post task)"})
