"""Tips: the vocabulary, payloads, responses and events that cross the tips service's boundary.

The gateway validates requests with these schemas (and documents them in OpenAPI); the
tips service loads the same payloads again (`service_runtime.validation.load`). Shape
only: what a text means (NFC, control characters, emoji-only text, the 5,000-character
cap after NFC, ward lookup) is decided by `services.tips.domain`.

Events never carry who sent a tip (contact, Zalo or Facebook user id), and every text in
them is redacted (phone numbers, ID-card numbers, plates) because partner units may bind
their own queues to `tips.events`.

Web tips reach the tips service through a work queue, not RPC: the gateway validates a tip,
draws its code and secret, publishes an `IntakeMessage` to `INTAKE_QUEUE` (persistent,
confirmed, mandatory) and answers 202; the tips service stores it once per `intake_id`.
The queue is private to these two (not an event: partner units never bind to it).
"""
from kombu import Exchange, Queue
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema
from nameko.exceptions import deserialize_to_instance

from contracts.rpc import PageQuery, ServiceError
from contracts.times import iso

# --- vocabulary ------------------------------------------------------------------------------

CATEGORIES = ("theft_robbery", "violence", "drugs", "gambling", "fraud", "public_order", "traffic",
              "wanted_sighting", "urban_order", "procedure_question", "other", "spam")
# A citizen may suggest any category except spam.
CITIZEN_CATEGORIES = tuple(c for c in CATEGORIES if c != "spam")
URGENCIES = ("emergency", "high", "normal", "low")
STATUSES = ("received", "triaged", "assigned", "in_progress", "resolved", "closed")
OPEN_STATUSES = ("received", "triaged", "assigned", "in_progress")
# Reaching one of these stops the SLA clock ("acknowledged").
ACKNOWLEDGED_STATUSES = ("in_progress", "resolved", "closed")
# Open and not acknowledged: what the SLA clock runs on, and what the inbox calls "waiting".
WAITING_STATUSES = tuple(s for s in OPEN_STATUSES if s not in ACKNOWLEDGED_STATUSES)

# What the citizen (and the staff UI) reads: Vietnamese first, English alongside.
STATUS_LABELS = {
    "received": ("Đã tiếp nhận", "Received"),
    "triaged": ("Đã phân loại", "Triaged"),
    "assigned": ("Đã chuyển đơn vị xử lý", "Assigned to a unit"),
    "in_progress": ("Đang xác minh, xử lý", "Being handled"),
    "resolved": ("Đã xử lý xong", "Resolved"),
    "closed": ("Đã đóng", "Closed"),
}
# Statuses an officer moves a tip to with POST /tips/{id}/status (units: use /assign).
STAFF_TARGET_STATUSES = ("triaged", "in_progress", "resolved", "closed")
CLOSE_REASONS = ("unfounded", "duplicate", "spam")
SOURCES = ("web", "zalo", "facebook")

TEXT_MAX = 5000          # characters after NFC
MESSAGE_MAX = 2000
REASON_MAX = 500
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/webp", "video/mp4", "audio/mpeg", "application/pdf")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_MAX = 5
ANY = "*"                # routing rule wildcard

SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="chỉ chữ thường, số và dấu gạch / lower-case slug")
REQUIRED = {"required": "Bắt buộc / Required"}
# Generous shape-level cap on raw text: NFD input has more code points than its NFC
# form, so the real limit is applied by the domain after NFC.
RAW_TEXT_MAX = 4 * TEXT_MAX


# One declaration for both sides (a durable direct exchange and queue): the gateway declares
# them before its first publish, the tips service when it starts consuming.
INTAKE_EXCHANGE = Exchange("tips.intake", type="direct", durable=True, delivery_mode=2)
INTAKE_QUEUE = Queue("tips.intake", INTAKE_EXCHANGE, routing_key="tips.intake", durable=True)


# --- errors ------------------------------------------------------------------------------------

# The one answer to a wrong code, a wrong secret, and a tip still in the intake queue (its
# code cannot be checked before it is stored): saying which would tell a stranger whether
# a code exists.
ACCESS_DENIED = ("Mã tin báo hoặc mật mã không đúng. Nếu bạn vừa gửi tin, tin đang được ghi nhận: "
                 "hãy thử lại sau vài giây / wrong tip code or secret. If you sent your tip a moment "
                 "ago it is still being recorded: retry in a few seconds")


@deserialize_to_instance
class TipAccessDenied(ServiceError):
    """Wrong tip code or wrong secret (or not stored yet): one answer for all, never saying which."""
    status = 401
    title = "Chưa xác thực / Unauthorized"


@deserialize_to_instance
class VaultUnavailable(ServiceError):
    """The vault key is not configured: tips carrying an identity cannot be stored safely."""
    status = 503
    title = "Dịch vụ tạm thời không sẵn sàng / Service unavailable"


# --- input -------------------------------------------------------------------------------------

class _Strict(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def no_operator_keys(self, data, **kwargs):
        # "$where", "$set"... never reach a MongoDB query (gateway rule, repeated here).
        if isinstance(data, dict):
            bad = [k for k in data if isinstance(k, str) and k.startswith("$")]
            if bad:
                raise ValidationError({k: ["Trường không hợp lệ / Invalid field"] for k in bad})
        return data


class Location(_Strict):
    text = fields.String(allow_none=True, validate=validate.Length(max=500))
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lng = fields.Float(allow_none=True, validate=validate.Range(-180, 180))


class Contact(_Strict):
    name = fields.String(allow_none=True, validate=validate.Length(max=200))
    phone = fields.String(allow_none=True, validate=validate.Regexp(
        r"^\+?[0-9 .\-()]{6,20}$", error="Số điện thoại không hợp lệ / Invalid phone number"))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))

    @validates_schema
    def some_way_to_reach(self, data, **kwargs):
        if not (data.get("phone") or data.get("email")):
            raise ValidationError("Cần số điện thoại hoặc email / Phone or email required")


class Attachment(_Strict):
    upload_id = fields.String(validate=validate.Length(1, 100))
    filename = fields.String(allow_none=True, validate=validate.Length(max=255))
    content_type = fields.String(required=True, error_messages=REQUIRED,
                                 validate=validate.OneOf(ATTACHMENT_TYPES))
    size = fields.Integer(required=True, error_messages=REQUIRED, strict=True,
                          validate=validate.Range(1, ATTACHMENT_MAX_BYTES,
                                                  error="Tệp tối đa 10 MB / Each file at most 10 MB"))


class PublicTip(_Strict):
    """A tip from the public web form. Channel ids (Zalo/Facebook) are not accepted
    here: only the webhooks, which verified the platform's signature, may set them."""
    text = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, RAW_TEXT_MAX))
    category = fields.String(allow_none=True, validate=validate.OneOf(CITIZEN_CATEGORIES))
    ward = fields.String(allow_none=True, validate=validate.Length(max=200))
    location = fields.Nested(Location, allow_none=True)
    occurred_at = fields.AwareDateTime(allow_none=True, format="iso")
    anonymous = fields.Boolean(load_default=True)
    contact = fields.Nested(Contact, allow_none=True)
    attachments = fields.List(fields.Nested(Attachment), load_default=list,
                              validate=validate.Length(max=ATTACHMENTS_MAX))


class IntakeMessage(_Strict):
    """A web tip on INTAKE_QUEUE: validated by the gateway, which drew its code and secret
    and told the citizen both. Never the plaintext secret; `payload` is the request body."""
    intake_id = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(16, 64))
    received_at = fields.AwareDateTime(required=True, error_messages=REQUIRED, format="iso")
    tip_code = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(8, 20))
    secret_hash = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(16, 200))
    payload = fields.Nested(PublicTip, required=True, error_messages=REQUIRED)


class ChannelTip(_Strict):
    """A tip that arrived as a Zalo OA or Facebook page message (signature verified)."""
    text = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, RAW_TEXT_MAX))


class TipAccess(_Strict):
    """The tipster's follow-up credentials."""
    tip_code = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(8, 20))
    secret = fields.String(required=True, error_messages=REQUIRED, load_only=True,
                           validate=validate.Length(16, 200))


class PublicMessage(_Strict):
    """A citizen's follow-up message on their own tip."""
    text = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 4 * MESSAGE_MAX))


class StaffMessage(_Strict):
    """An officer's message: to the citizen, or an internal note when ``internal``."""
    text = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 4 * MESSAGE_MAX))
    internal = fields.Boolean(load_default=False)


class Assign(_Strict):
    unit_id = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 64))
    reason = fields.String(allow_none=True, validate=validate.Length(max=REASON_MAX))


class StatusChange(_Strict):
    status = fields.String(required=True, error_messages=REQUIRED, validate=validate.OneOf(STAFF_TARGET_STATUSES))
    reason = fields.String(allow_none=True, validate=validate.Length(max=REASON_MAX))
    merged_into = fields.String(allow_none=True, validate=validate.Length(1, 64))

    @validates_schema
    def close_needs_reason(self, data, **kwargs):
        if data.get("status") == "closed":
            if data.get("reason") not in CLOSE_REASONS:
                raise ValidationError(f"Một trong / One of: {', '.join(CLOSE_REASONS)}", "reason")
            if data["reason"] == "duplicate" and not data.get("merged_into"):
                raise ValidationError("Bắt buộc với tin trùng / Required for a duplicate", "merged_into")
        if data.get("merged_into") and not (data.get("status") == "closed" and data.get("reason") == "duplicate"):
            raise ValidationError("Chỉ dùng khi đóng tin trùng / Only when closing a duplicate", "merged_into")


class Merge(_Strict):
    """Close this tip as a duplicate of another (id or tip code); the other links back."""
    into = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 64))


def _reason_long_enough(value):
    # Counted after trimming: ten spaces are not a reason.
    if len(value.strip()) < 10:
        raise ValidationError("Ít nhất 10 ký tự / At least 10 characters")


class Reveal(_Strict):
    """Why an officer opens a tipster's identity (kept in the audit)."""
    reason = fields.String(required=True, error_messages=REQUIRED, validate=[
        _reason_long_enough, validate.Length(max=REASON_MAX)])


class TriageCorrection(_Strict):
    """An officer's correction of triage: any of category, urgency, ward (null: no ward of
    the city). The tip keeps its unit; the correction is kept as a labelled example."""
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    ward = fields.String(allow_none=True, validate=validate.Length(1, 64))
    reason = fields.String(allow_none=True, validate=validate.Length(max=REASON_MAX))

    @validates_schema
    def something_to_correct(self, data, **kwargs):
        if not any(k in data for k in ("category", "urgency", "ward")):
            raise ValidationError("Cần ít nhất một trong category, urgency, ward / "
                                  "At least one of category, urgency, ward", "category")


class ReplyTemplateInput(_Strict):
    """A reply officers start from: for one category, or "*" for every category."""
    category = fields.String(required=True, error_messages=REQUIRED, validate=validate.OneOf((ANY, *CATEGORIES)))
    title = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 200))
    text = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 4 * MESSAGE_MAX))


class ReplyTemplatePatch(_Strict):
    category = fields.String(validate=validate.OneOf((ANY, *CATEGORIES)))
    title = fields.String(validate=validate.Length(1, 200))
    text = fields.String(validate=validate.Length(1, 4 * MESSAGE_MAX))


class ReplyTemplateQuery(_Strict):
    category = fields.String(validate=validate.OneOf((ANY, *CATEGORIES)), metadata={
        "description": "the templates a reply to a tip of this category is offered: its own, then those for "
                       "every category (\"*\")"})


class CorrectionQuery(_Strict):
    """Which officers' corrections: received in [since, until)."""
    since = fields.AwareDateTime(format="iso")
    until = fields.AwareDateTime(format="iso")


class RoutingRule(_Strict):
    category = fields.String(required=True, error_messages=REQUIRED, validate=validate.OneOf((ANY, *CATEGORIES)))
    ward = fields.String(load_default=ANY, validate=validate.Length(1, 64))
    unit_id = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 64))


class RoutingRules(_Strict):
    rules = fields.List(fields.Nested(RoutingRule), required=True, error_messages=REQUIRED,
                        validate=validate.Length(max=2000))


class FaqEntry(_Strict):
    """One entry of the procedures FAQ knowledge base (data/procedures-faq.json)."""
    id = fields.String(required=True, error_messages=REQUIRED, validate=[validate.Length(1, 100), SLUG])
    title = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 300))
    question_variants = fields.List(
        fields.String(validate=validate.Length(1, 500)), required=True, error_messages=REQUIRED,
        validate=validate.Length(1, 50))
    answer = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 5000))
    procedure_code = fields.String(load_default="", validate=validate.Length(max=100))
    desk = fields.String(load_default="", validate=validate.Length(max=300))


class FaqPatch(_Strict):
    title = fields.String(validate=validate.Length(1, 300))
    question_variants = fields.List(fields.String(validate=validate.Length(1, 500)), validate=validate.Length(1, 50))
    answer = fields.String(validate=validate.Length(1, 5000))
    procedure_code = fields.String(validate=validate.Length(max=100))
    desk = fields.String(validate=validate.Length(max=300))


class TipQuery(PageQuery):
    """Filters of the staff list (all optional, combined with AND)."""
    status = fields.String(validate=validate.OneOf(STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    ward = fields.String(validate=validate.Length(1, 64))
    unit_id = fields.String(validate=validate.Length(1, 64))
    received_from = fields.AwareDateTime(data_key="from", format="iso",
                                         metadata={"description": "received at or after (ISO 8601 with offset)"})
    received_to = fields.AwareDateTime(data_key="to", format="iso",
                                       metadata={"description": "received before (ISO 8601 with offset)"})
    text = fields.String(validate=validate.Length(1, 200),
                         metadata={"description": "words in the tip, with or without diacritics"})
    channel = fields.String(validate=validate.OneOf(SOURCES), metadata={"description": "where the tip came from"})
    waiting = fields.Boolean(metadata={"description": "true: open and not yet acknowledged (the SLA clock runs)"})
    past_sla = fields.Boolean(metadata={"description": "true: waiting and past its SLA deadline"})
    wanted_post_id = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "the sightings linked to this wanted notice (the post's id)"})


class StatsQuery(Schema):
    class Meta:
        unknown = RAISE

    received_from = fields.AwareDateTime(data_key="from", format="iso")
    received_to = fields.AwareDateTime(data_key="to", format="iso")


# --- what the API returns -------------------------------------------------------------------

class When(fields.DateTime):
    """A moment in a response: ISO 8601 in UTC, JSON-native across RPC and HTTP alike. Dumps a
    datetime, or the ISO string the tips service already dumped (the gateway dumps the service's
    answer again, with the same schema)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return iso(value)


def _when(**kwargs):
    return When(allow_none=True, **kwargs)


class TipReceipt(Schema):
    tip_code = fields.String(required=True)
    secret = fields.String(allow_none=True, metadata={
        "description": "shown once; null when this message was already received (no new secret)"})
    status_url = fields.String(required=True)
    urgency = fields.String(allow_none=True, metadata={
        "description": "null until triaged (a web tip is triaged when stored, after this answer)"})
    message = fields.String(required=True, metadata={"description": "acknowledgement to show the citizen"})
    duplicate = fields.Boolean(required=True)


class StatusLabel(Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    label_en = fields.String(required=True)


class PublicThreadMessage(Schema):
    at = _when(required=True)
    sender = fields.String(data_key="from", attribute="from", required=True,
                           metadata={"description": "police | citizen"})
    text = fields.String(required=True)


class FaqAnswer(Schema):
    title = fields.String(required=True)
    answer = fields.String(required=True)


class PublicStatus(Schema):
    tip_code = fields.String(required=True)
    status = fields.Nested(StatusLabel, required=True)
    received_at = _when(required=True)
    public_messages = fields.List(fields.Nested(PublicThreadMessage), required=True)
    answers = fields.List(fields.Nested(FaqAnswer), metadata={
        "description": "a procedure question: the FAQ answers that may help, best first (shown as "
                       "\"Có thể bạn cần\"); the tip stays open for an officer"})


class ThreadMessage(Schema):
    id = fields.String()
    at = _when(required=True)
    sender = fields.String(data_key="from", attribute="from", required=True)
    text = fields.String(required=True)
    author_id = fields.String(allow_none=True)


class Note(Schema):
    at = _when(required=True)
    author_id = fields.String(allow_none=True)
    text = fields.String(required=True)


class AuditEntry(Schema):
    at = _when(required=True)
    actor = fields.String(allow_none=True)
    action = fields.String(required=True)
    from_status = fields.String(data_key="from", attribute="from", allow_none=True)
    to_status = fields.String(data_key="to", attribute="to", allow_none=True)
    reason = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    changes = fields.Dict(keys=fields.String(), values=fields.List(fields.String(allow_none=True)), metadata={
        "description": "an officer's correction of triage: field -> [before, after]"})


class Escalation(Schema):
    at = _when(required=True)
    to_unit = fields.String(required=True)
    level = fields.Integer(required=True)


class FaqSuggestion(Schema):
    faq_id = fields.String(required=True)
    title = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
    score = fields.Float(required=True)


class DuplicateCandidate(Schema):
    tip_id = fields.String(required=True)
    tip_code = fields.String(allow_none=True)
    score = fields.Float(required=True)


class LinkedTip(Schema):
    tip_id = fields.String(required=True)
    tip_code = fields.String(allow_none=True)
    at = _when()


class WantedLink(Schema):
    post_id = fields.String(required=True)
    title = fields.String(allow_none=True)
    full_name = fields.String(allow_none=True)


class Retriage(Schema):
    """Triage run again on request: its suggestion, kept beside the tip until an officer acts on it."""
    at = _when(required=True)
    by = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    urgency = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)
    is_spam = fields.Boolean()
    reasons = fields.List(fields.String())


class TipSummary(Schema):
    id = fields.String(required=True)
    tip_code = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.String(allow_none=True)
    urgency = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    channel = fields.String(required=True, metadata={"description": "web | zalo | facebook"})
    summary = fields.String(required=True, metadata={"description": "the first words of the tip"})
    received_at = _when(required=True)
    sla_due_at = _when()
    is_spam = fields.Boolean()


class Tip(Schema):
    """A tip as officers see it: the tipster is an alias, never who they are."""
    id = fields.String(required=True)
    tip_code = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.String(allow_none=True)
    chosen_category = fields.String(allow_none=True)
    urgency = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)
    ward_text = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    channel = fields.String(required=True)
    text = fields.String(required=True)
    location = fields.Dict(allow_none=True)
    occurred_at = _when()
    attachments = fields.List(fields.Dict())
    anonymous = fields.Boolean()
    is_spam = fields.Boolean()
    triage = fields.Dict(allow_none=True)
    received_at = _when(required=True)
    updated_at = _when()
    triaged_at = _when()
    sla_due_at = _when()
    acknowledged_at = _when()
    resolved_at = _when()
    closed_at = _when()
    close_reason = fields.String(allow_none=True)
    merged_into = fields.String(allow_none=True)
    linked_tips = fields.List(fields.Nested(LinkedTip))
    duplicate_candidates = fields.List(fields.Nested(DuplicateCandidate))
    faq_suggestions = fields.List(fields.Nested(FaqSuggestion))
    wanted_notice = fields.Nested(WantedLink, allow_none=True)
    retriage = fields.Nested(Retriage)
    escalations = fields.List(fields.Nested(Escalation))
    messages = fields.List(fields.Nested(ThreadMessage))
    notes = fields.List(fields.Nested(Note))
    audit = fields.List(fields.Nested(AuditEntry))
    has_identity = fields.Boolean(required=True)
    tipster_alias = fields.String(required=True)
    version = fields.Integer()


class Identity(Schema):
    contact = fields.Dict(allow_none=True)
    zalo_user_id = fields.String(allow_none=True)
    facebook_user_id = fields.String(allow_none=True)


class RevealedIdentity(Schema):
    tip_id = fields.String(required=True)
    identity = fields.Nested(Identity, allow_none=True, metadata={"description": "null: sent anonymously"})
    audit_id = fields.String(required=True)


class ReplyTemplate(Schema):
    id = fields.String(required=True)
    category = fields.String(required=True, metadata={"description": "a category, or \"*\" for every category"})
    title = fields.String(required=True)
    text = fields.String(required=True)
    updated_at = _when()
    updated_by = fields.String(allow_none=True)


class ReplyTemplateList(Schema):
    items = fields.List(fields.Nested(ReplyTemplate), required=True, metadata={
        "description": "all of them: admins keep a few dozen at most"})


class RevealRecord(Schema):
    """One opening of a tip's vault entry: an admin's reveal, or notify reading where a reply goes."""
    id = fields.String(required=True)
    tip_id = fields.String(required=True)
    at = _when(required=True)
    actor = fields.String(allow_none=True, metadata={"description": "officer id, or system:notify"})
    reason = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"description": "reveal | system_read"})


class RoutingTable(Schema):
    rules = fields.List(fields.Nested(RoutingRule), required=True)
    updated_at = _when()
    updated_by = fields.String(allow_none=True)


class Faq(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    question_variants = fields.List(fields.String(), required=True)
    answer = fields.String(required=True)
    procedure_code = fields.String()
    desk = fields.String()


class Percentiles(Schema):
    p50 = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)
    p99 = fields.Float(allow_none=True)
    count = fields.Integer(required=True)


class TipStats(Schema):
    total = fields.Integer(required=True)
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_ward = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_unit = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    time_to_triage_seconds = fields.Nested(Percentiles, required=True)
    time_to_resolve_seconds = fields.Nested(Percentiles, required=True)
    time_to_acknowledge_seconds = fields.Nested(Percentiles, required=True)
    by_week = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "tips received per week: the week's Monday (UTC+7, YYYY-MM-DD) -> count, quiet weeks as 0"})


class _LabelledText(Schema):
    """A tip's text (redacted) with the labels an officer gave it: what the triage model learns from."""
    channel = fields.String(allow_none=True)
    text = fields.String(required=True)
    category = fields.String(allow_none=True)
    urgency = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)


class TriageCorrectionRecord(_LabelledText):
    """An officer's correction of triage, kept as a labelled example."""
    tip_id = fields.String(required=True)
    tip_code = fields.String(allow_none=True)
    at = _when(required=True)
    actor = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    before = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), metadata={
        "description": "category, urgency and ward before the correction"})
    changed = fields.List(fields.String(), required=True)
    suggested_category = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class LabelledExample(_LabelledText):
    """A correction as a row of the labelled data files (data/tips-*.jsonl)."""
    id = fields.String(required=True)
    is_anonymous_request = fields.Boolean(required=True)
    note = fields.String(required=True)


class TriageCorrectionReport(Schema):
    corrections = fields.List(fields.Nested(TriageCorrectionRecord), required=True)
    labels = fields.List(fields.Nested(LabelledExample), required=True, metadata={
        "description": "the latest correction of each tip"})
    pairs = fields.List(fields.Tuple((fields.String(), fields.String(allow_none=True), fields.String(allow_none=True),
                                      fields.Integer())), required=True, metadata={
        "description": "[field, from, to, count], most frequent first"})


# --- events tips emits -------------------------------------------------------------------------
# Times are ISO 8601 strings with offset; no event names or reaches the tipster.

def _iso(**kwargs):
    return fields.AwareDateTime(format="iso", **kwargs)


class TipReceivedV1(Schema):
    tip_id = fields.String(required=True)
    tip_code = fields.String(required=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    received_at = _iso(required=True)
    ward = fields.String(allow_none=True, load_default=None, metadata={
        "description": "the tip's ward (a subscription filtered by ward matches on it)"})
    category = fields.String(allow_none=True, load_default=None)


class TipTriagedV1(Schema):
    tip_id = fields.String(required=True)
    tip_code = fields.String(required=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    ward = fields.String(allow_none=True, load_default=None)
    is_spam = fields.Boolean(required=True)
    category_disagreement = fields.Boolean(load_default=False)
    sla_due_at = _iso(allow_none=True, load_default=None)


class TipAssignedV1(Schema):
    tip_id = fields.String(required=True)
    tip_code = fields.String(required=True)
    unit_id = fields.String(required=True)
    category = fields.String(allow_none=True, load_default=None)
    urgency = fields.String(allow_none=True, load_default=None)
    ward = fields.String(allow_none=True, load_default=None)
    summary = fields.String(required=True, validate=validate.Length(max=300),
                            metadata={"description": "the start of the tip, redacted"})


class TipEscalatedV1(Schema):
    tip_id = fields.String(required=True)
    tip_code = fields.String(required=True)
    from_unit_id = fields.String(allow_none=True, load_default=None)
    to_unit_id = fields.String(required=True)
    level = fields.Integer(required=True, validate=validate.Range(min=1))
    urgency = fields.String(allow_none=True, load_default=None)
    due_at = _iso(required=True, metadata={"description": "the acknowledgement deadline that was missed"})
    ward = fields.String(allow_none=True, load_default=None, metadata={
        "description": "the tip's ward (a subscription filtered by ward matches on it)"})
    category = fields.String(allow_none=True, load_default=None)


class TipStatusChangedV1(Schema):
    tip_id = fields.String(required=True)
    tip_code = fields.String(required=True)
    from_status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    to_status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = fields.String(allow_none=True, load_default=None)
    merged_into = fields.String(allow_none=True, load_default=None)
    unit_id = fields.String(allow_none=True, load_default=None)
    ward = fields.String(allow_none=True, load_default=None, metadata={
        "description": "the tip's ward (a subscription filtered by ward matches on it)"})
    category = fields.String(allow_none=True, load_default=None)


class TipReplySentV1(Schema):
    """A message to the tipster; notify delivers it on Zalo/Facebook (asking tips for the
    recipient by RPC); web tipsters read it at their status URL."""
    tip_id = fields.String(required=True)
    tip_code = fields.String(required=True)
    message_id = fields.String(required=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    text = fields.String(required=True, metadata={"description": "redacted"})
    ward = fields.String(allow_none=True, load_default=None, metadata={
        "description": "the tip's ward (a subscription filtered by ward matches on it)"})
    category = fields.String(allow_none=True, load_default=None)


EVENTS = {
    ("tips.received", 1): TipReceivedV1,
    ("tips.triaged", 1): TipTriagedV1,
    ("tips.assigned", 1): TipAssignedV1,
    ("tips.escalated", 1): TipEscalatedV1,
    ("tips.status_changed", 1): TipStatusChangedV1,
    ("tips.reply_sent", 1): TipReplySentV1,
}
