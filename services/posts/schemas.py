"""Posts: the shapes of RPC input, validated at the service boundary.

The service loads them with `service_runtime.validation.load(schema, payload)`, which
NFC-normalises every string first and turns errors into InvalidInput (422). Unknown
fields are refused. The domain checks again what only it can know (state, roles,
wanted fields per kind, channel limits).

`expected_version` (optional everywhere a post changes) is the version the client last
saw: pop it from the loaded data and pass it to the domain function.
"""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.posts import domain

ID = validate.Length(1, 64)


def _text_validator(max_length, multiline=True):
    def check(value):
        problem = domain.text_problem(value, max_length, multiline)
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


class AudienceSpec(_Strict):
    """Who receives the post, as the groups service resolves it."""
    units = fields.List(fields.String(validate=ID))
    include_descendants = fields.Boolean(load_default=True)
    channel_types = fields.List(fields.String(validate=validate.OneOf(domain.CHANNEL_TYPES)))
    kinds = fields.List(fields.String(validate=ID))
    wards = fields.List(fields.String(validate=ID))
    channels = fields.List(fields.String(validate=ID))
    exclude_channels = fields.List(fields.String(validate=ID))


def _overrides():
    return fields.Dict(keys=fields.String(validate=validate.OneOf(domain.CHANNEL_TYPES)),
                       values=fields.String(validate=[_not_blank, _text_validator(domain.BODY_MAX)]))


def _title(required=False):
    return fields.String(required=required, validate=[_not_blank, _text_validator(domain.TITLE_MAX, multiline=False)])


def _body():
    return fields.String(validate=_text_validator(domain.BODY_MAX))


def _expected_version():
    return fields.Integer(strict=True, validate=validate.Range(min=1))


class PostCreate(_Strict):
    kind = fields.String(required=True, validate=validate.OneOf(domain.KINDS))
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
    outcome = fields.String(required=True, validate=validate.OneOf(domain.OUTCOMES))
    # `learned_via` on the wire; loads as the domain's parameter name.
    learned_via_channel_type = fields.String(data_key="learned_via", allow_none=True,
                                             load_default=None,
                                             validate=validate.OneOf(domain.CHANNEL_TYPES))
    create_follow_up = fields.Boolean(load_default=True)
    expected_version = _expected_version()
