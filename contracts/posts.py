"""Posts: the vocabulary, payloads and events that cross the posts service's boundary.

The gateway validates requests with these schemas (and documents them in OpenAPI); the
posts service loads the same payloads again with `service_runtime.validation.load`, which
NFC-normalises strings and turns errors into InvalidInput (422). Unknown fields are
refused. The domain checks what only it can know (state, roles, wanted fields per kind,
channel limits). `expected_version` (optional wherever a post changes) is the version the
client last saw: the service pops it and passes it to the domain.
"""
import unicodedata

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from contracts.groups import AudienceSpec  # noqa: F401  (part of this contract too)
from contracts.text import normalise

KINDS = ("news", "warning", "procedure_guide", "wanted_notice", "surrender_appeal", "video")
# Kinds whose body may be rendered from structured `wanted` fields (required for a notice).
WANTED_KINDS = ("wanted_notice", "surrender_appeal")

STATUSES = ("draft", "in_review", "approved", "scheduled", "published", "retracted",
            "rejected", "archived")

# Channel types as the groups registry and notify's adapters name them ("manual_relay":
# any other channel an officer posts to by hand; no length limit we know of).
CHANNEL_TYPES = ("facebook_page", "zalo_oa_group", "zalo_group_manual", "youtube_channel",
                 "webhook", "email", "manual_relay")
CHANNEL_FAMILY = {
    "facebook_page": "facebook",
    "zalo_oa_group": "zalo", "zalo_group_manual": "zalo", "manual_relay": "manual_relay",
    "youtube_channel": "youtube",
    "webhook": "webhook", "email": "email",
}

OUTCOMES = ("surrendered", "arrested", "withdrawn")
WANTED_FIELDS = ("full_name", "birth_year", "hometown", "charge", "warrant_number",
                 "warrant_date", "issuing_authority", "photo_media_id", "description")
MEDIA_KEYS = ("media_id", "content_type", "size", "filename")
AUDIENCE_LISTS = ("units", "channel_types", "kinds", "wards", "channels", "exclude_channels")

TITLE_MAX = 300
BODY_MAX = 63206                 # Facebook's post limit: the longest text any channel takes
FACEBOOK_MAX = 63206
ZALO_MAX = 2000
YOUTUBE_TITLE_MAX = 100          # YouTube Data API: title ≤ 100 characters,
YOUTUBE_DESCRIPTION_MAX_BYTES = 5000   # description ≤ 5000 bytes, neither with < or >

# --- text safety ----------------------------------------------------------------------

# Bidirectional overrides can make text read differently from what was approved.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value):
    """NFC, and CRLF/CR as LF (browsers send textarea newlines as CRLF)."""
    return normalise(value).replace("\r\n", "\n").replace("\r", "\n")


def text_problem(value, max_length, multiline=True):
    """Why `value` cannot be stored as post text, or None. Text is kept as TEXT: we
    never render it as HTML, so only control characters and length are refused."""
    if not isinstance(value, str):
        return "Phải là chuỗi ký tự / must be a string"
    value = clean_text(value)
    if len(value) > max_length:
        return f"Dài quá {max_length} ký tự / longer than {max_length} characters"
    for char in value:
        if char == "\t" or (char == "\n" and multiline):
            continue
        if char == "\n":
            return "Không được xuống dòng / must be a single line"
        if unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            return f"Có ký tự điều khiển U+{ord(char):04X} / contains a control character"
    return None



ID = validate.Length(1, 64)


def _text_validator(max_length, multiline=True):
    def check(value):
        problem = text_problem(value, max_length, multiline)
        if problem:
            raise ValidationError(problem)
    return check


def _not_blank(value):
    if not value.strip():
        raise ValidationError("Không được để trống / must not be empty")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class MediaRef(_Strict):
    media_id = fields.String(required=True, validate=ID)
    content_type = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z0-9.+-]+/[a-z0-9.+-]+$", error="Kiểu tệp không hợp lệ / invalid content type"))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    filename = fields.String(required=True, validate=[validate.Length(1, 255),
                                                      _text_validator(255, multiline=False)])


class WantedFields(_Strict):
    """Structured fields of a wanted person. A wanted_notice needs all but photo and
    description (the domain checks that per kind); a surrender_appeal needs the name."""
    full_name = fields.String(required=True, validate=[_not_blank, _text_validator(300, False)])
    birth_year = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1900, 2100))
    hometown = fields.String(allow_none=True, validate=_text_validator(300, False))
    charge = fields.String(allow_none=True, validate=_text_validator(300, False))
    warrant_number = fields.String(allow_none=True, validate=_text_validator(300, False))
    warrant_date = fields.Date(allow_none=True)
    issuing_authority = fields.String(allow_none=True, validate=_text_validator(300, False))
    photo_media_id = fields.String(allow_none=True, validate=ID)
    description = fields.String(allow_none=True, validate=_text_validator(2000))


# The audience is the groups service's audience spec, validated by the same schema.
def _overrides():
    return fields.Dict(keys=fields.String(validate=validate.OneOf(CHANNEL_TYPES)),
                       values=fields.String(validate=[_not_blank, _text_validator(BODY_MAX)]))


def _title(required=False):
    return fields.String(required=required, validate=[_not_blank, _text_validator(TITLE_MAX, multiline=False)])


def _body():
    return fields.String(validate=_text_validator(BODY_MAX))


def _expected_version():
    return fields.Integer(strict=True, validate=validate.Range(min=1))


class PostCreate(_Strict):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = _title(required=True)
    body = _body()
    media = fields.List(fields.Nested(MediaRef), validate=validate.Length(max=20))
    audience = fields.Nested(AudienceSpec)
    channel_overrides = _overrides()
    wanted = fields.Nested(WantedFields, allow_none=True)
    unit = fields.String(validate=ID)   # admins only; an editor writes for their own unit


class PostEdit(_Strict):
    """A partial update: only the fields given change."""
    title = _title()
    body = _body()
    media = fields.List(fields.Nested(MediaRef), validate=validate.Length(max=20))
    audience = fields.Nested(AudienceSpec)
    channel_overrides = _overrides()
    wanted = fields.Nested(WantedFields, allow_none=True)
    expected_version = _expected_version()


class Transition(_Strict):
    """submit, approve, publish, archive: nothing but the version the client saw."""
    expected_version = _expected_version()


class Reject(_Strict):
    reason = fields.String(required=True, validate=[_not_blank, _text_validator(2000)])
    expected_version = _expected_version()


class Schedule(_Strict):
    publish_at = fields.AwareDateTime(required=True, format="iso")
    expected_version = _expected_version()


class Retract(_Strict):
    reason = fields.String(required=True, validate=[_not_blank, _text_validator(2000)])
    expected_version = _expected_version()


class Resolve(_Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    # `learned_via` on the wire; loads as the domain's parameter name.
    learned_via_channel_type = fields.String(data_key="learned_via", allow_none=True,
                                             load_default=None,
                                             validate=validate.OneOf(CHANNEL_TYPES))
    create_follow_up = fields.Boolean(load_default=True)
    expected_version = _expected_version()


class PostFilter(_Strict):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    unit = fields.String(validate=ID)
    author = fields.String(validate=ID)
    created_from = fields.AwareDateTime(metadata={"description": "created at or after (ISO 8601 with zone)"})
    created_to = fields.AwareDateTime(metadata={"description": "created before (ISO 8601 with zone)"})
    q = fields.String(validate=validate.Length(1, 200),
                      metadata={"description": "words to find, with or without diacritics"})


class PublicPostFilter(_Strict):
    kind = fields.String(validate=validate.OneOf(KINDS))
    q = fields.String(validate=validate.Length(1, 200))


# --- what the API returns ---------------------------------------------------------------

class HistoryEntry(Schema):
    at = fields.AwareDateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(required=True)
    reason = fields.String(allow_none=True)


class DeliveryCounts(Schema):
    sent = fields.Integer()
    failed = fields.Integer()
    pending = fields.Integer()
    relay_open = fields.Integer()
    cancelled = fields.Integer()
    retracted = fields.Integer(metadata={"description": "taken down, or never to be taken down (e-mail)"})
    take_down_pending = fields.Integer(metadata={"description": "retracted post still in the group: the "
                                                               "officer's take-down task is open"})


class Approval(Schema):
    by = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class WantedResolution(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    at = fields.AwareDateTime(required=True)
    by = fields.String(required=True)
    learned_via_channel_type = fields.String(allow_none=True)
    follow_up_post_id = fields.String(allow_none=True)


class Post(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String()
    media = fields.List(fields.Nested(MediaRef))
    audience = fields.Nested(AudienceSpec)
    channel_overrides = fields.Dict(keys=fields.String(), values=fields.String())
    wanted = fields.Dict(allow_none=True)  # as stored: warrant_date is a YYYY-MM-DD string
    author = fields.String()
    unit = fields.String(allow_none=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    publish_at = fields.AwareDateTime(allow_none=True)
    published_at = fields.AwareDateTime(allow_none=True)
    publication_id = fields.String(allow_none=True)
    approvals = fields.List(fields.Nested(Approval))
    required_approvals = fields.Integer()
    audience_count = fields.Integer(allow_none=True)
    audience_by_type = fields.Dict(keys=fields.String(), values=fields.Integer())
    delivery_summary = fields.Dict(keys=fields.String(), values=fields.Nested(DeliveryCounts))
    retracted_everywhere = fields.Boolean(allow_none=True, metadata={
        "description": "for a retracted post: true once every delivery is taken down (or never went out); "
                       "false while any is still sent, pending or awaiting its take-down task; null otherwise"})
    resolution = fields.Nested(WantedResolution, allow_none=True)
    retraction_reason = fields.String(allow_none=True)
    follow_up_of = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    allowed_actions = fields.List(fields.String())


class PublicResolution(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    label = fields.String(required=True, metadata={"description": "the outcome in Vietnamese"})
    at = fields.AwareDateTime(required=True)


class PublicPost(Schema):
    """A published post as anyone may see it: no author, audience or workflow fields."""
    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    media = fields.List(fields.Nested(MediaRef))
    published_at = fields.AwareDateTime(required=True)
    resolved = fields.Nested(PublicResolution, metadata={
        "description": "a wanted notice whose person surrendered or was arrested, or whose warrant was "
                       "withdrawn: listed so, without its text and photos (taken down from the channels)"})


class Media(Schema):
    media_id = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    filename = fields.String(required=True)


class WantedStats(Schema):
    notices = fields.Integer(required=True)
    resolved = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    surrenders_by_channel_type = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    per_notice = fields.List(fields.Dict(), required=True)


# --- events posts emits ------------------------------------------------------------------

class PostRefV1(Schema):
    post_id = fields.String(required=True)
    kind = fields.String(required=True)
    unit = fields.String(allow_none=True, load_default=None)
    title = fields.String(required=True)
    version = fields.Integer(required=True)


class PostRejectedV1(PostRefV1):
    reason = fields.String(required=True)


class PostPublishedV1(Schema):
    post_id = fields.String(required=True)
    publication_id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    channel_overrides = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    media = fields.List(fields.Dict(), load_default=list)
    audience = fields.Dict(required=True)
    unit = fields.String(allow_none=True, load_default=None)
    published_at = fields.String(required=True)
    version = fields.Integer(required=True)
    wanted = fields.Dict(allow_none=True, load_default=None)


class PostRetractedV1(Schema):
    post_id = fields.String(required=True)
    publication_id = fields.String(required=True)
    kind = fields.String(required=True)
    reason = fields.String(required=True)


class WantedResolvedV1(Schema):
    post_id = fields.String(required=True)
    publication_id = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    learned_via_channel_type = fields.String(allow_none=True, load_default=None)
    follow_up_post_id = fields.String(allow_none=True, load_default=None)


EVENTS = {
    ("posts.submitted", 1): PostRefV1,
    ("posts.approved", 1): PostRefV1,
    ("posts.rejected", 1): PostRejectedV1,
    ("posts.published", 1): PostPublishedV1,
    ("posts.retracted", 1): PostRetractedV1,
    ("posts.wanted_resolved", 1): WantedResolvedV1,
}
