"""Groups: the payloads that cross the groups service's boundary.

The gateway validates requests with these (and documents them in OpenAPI); the groups
service validates the same payloads again with the same schemas when they arrive.
"""
import re

from marshmallow import RAISE, Schema, fields, pre_load, validate

from contracts.permissions import ROLES
from contracts.text import slugify

UNIT_KINDS = ("city_police", "team", "ward_police", "partner")
CHANNEL_TYPES = ("facebook_page", "zalo_oa_group", "zalo_group_manual", "youtube_channel", "webhook", "email")
# A credentials_ref names where a secret lives, never the secret itself.
CREDENTIALS_REF = re.compile(r"^([A-Z][A-Z0-9_]{1,63}|file:/[\w./-]{1,200})$")
EVENT_PATTERN = re.compile(r"^[a-z]+\.(\*|[a-z_]+)$")
# More followers than anyone has, and well inside MongoDB's 64-bit integers (a bigger JSON
# number would make the store fail, a 500, instead of a 422).
FOLLOWERS_MAX = 10 ** 10

SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="chỉ chữ thường, số và dấu gạch / lower-case slug")
ID = fields.String(validate=validate.Length(1, 100))


class Strict(Schema):
    class Meta:
        unknown = RAISE


class UnitInput(Strict):
    id = fields.String(validate=[validate.Length(1, 64), SLUG])
    name = fields.String(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    parent_id = fields.String(allow_none=True, load_default=None)
    ward = fields.String(allow_none=True, load_default=None)
    handles = fields.List(fields.String(validate=validate.Length(1, 64)), load_default=list)

    @pre_load
    def default_id(self, data, **kwargs):
        if isinstance(data, dict) and not data.get("id") and isinstance(data.get("name"), str):
            data = dict(data, id=slugify(data["name"])[:64].rstrip("-"))
        return data


class UnitPatch(Strict):
    name = fields.String(validate=validate.Length(1, 200))
    parent_id = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)
    handles = fields.List(fields.String(validate=validate.Length(1, 64)))
    active = fields.Boolean()


class OfficerInput(Strict):
    username = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9._-]{3,64}$"))
    password = fields.String(required=True, load_only=True, validate=validate.Length(10, 200))
    full_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1))
    unit_id = fields.String(allow_none=True, load_default=None)


class ChannelInput(Strict):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    type = fields.String(required=True, validate=validate.OneOf(CHANNEL_TYPES))
    unit_id = fields.String(required=True, validate=validate.Length(1, 64))
    kind = fields.String(allow_none=True, load_default=None)
    ward = fields.String(allow_none=True, load_default=None)
    external_id = fields.String(required=True, validate=validate.Length(1, 500))
    delivery = fields.String(validate=validate.OneOf(("api", "manual_relay")))
    relay_officer_id = fields.String(allow_none=True, load_default=None)
    followers = fields.Integer(load_default=0, validate=validate.Range(0, FOLLOWERS_MAX))
    status = fields.String(load_default="active", validate=validate.OneOf(("active", "inactive")))
    credentials_ref = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(
        CREDENTIALS_REF, error="tên biến môi trường (VD: ZALO_OA_TOKEN) hoặc file:/đường/dẫn, "
                                      "không phải mã bí mật / an environment variable name or file:/path, "
                                      "never the secret itself"))

    @pre_load
    def default_delivery(self, data, **kwargs):
        # The type decides how a channel is reached; say it once, not twice.
        if isinstance(data, dict) and not data.get("delivery") and isinstance(data.get("type"), str):
            data = dict(data, delivery="manual_relay" if data["type"] == "zalo_group_manual" else "api")
        return data


class ChannelPatch(Strict):
    name = fields.String(validate=validate.Length(1, 200))
    kind = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)
    relay_officer_id = fields.String(allow_none=True)
    followers = fields.Integer(validate=validate.Range(0, FOLLOWERS_MAX))
    status = fields.String(validate=validate.OneOf(("active", "inactive")))
    credentials_ref = fields.String(allow_none=True, validate=validate.Regexp(CREDENTIALS_REF))


class ChannelFilter(Strict):
    type = fields.String(validate=validate.OneOf(CHANNEL_TYPES))
    types = fields.List(fields.String(validate=validate.OneOf(CHANNEL_TYPES)))
    kind = fields.String()
    ward = fields.String()
    unit_id = fields.String()
    status = fields.String(validate=validate.OneOf(("active", "inactive")))


class AudienceSpec(Strict):
    units = fields.List(ID)
    include_descendants = fields.Boolean(load_default=True)
    channel_types = fields.List(fields.String(validate=validate.OneOf(CHANNEL_TYPES)))
    kinds = fields.List(ID)
    wards = fields.List(ID)
    channels = fields.List(ID)
    exclude_channels = fields.List(ID)


class SubscriptionInput(Strict):
    unit_id = fields.String(required=True)
    event_pattern = fields.String(required=True, validate=validate.Regexp(
        EVENT_PATTERN, error="VD: posts.published hoặc tips.* / e.g. posts.published or tips.*"))
    filters = fields.Dict(keys=fields.String(validate=validate.OneOf(("ward", "category", "kind"))),
                          values=fields.String(), load_default=dict)
    target_channel_id = fields.String(required=True)


# --- what the API returns -------------------------------------------------------------------

class Unit(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    parent_id = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)
    handles = fields.List(fields.String())
    active = fields.Boolean()


class Officer(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    full_name = fields.String(allow_none=True)
    roles = fields.List(fields.String(), required=True)
    unit_id = fields.String(allow_none=True)


class Channel(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    unit_id = fields.String(required=True)
    kind = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)
    external_id = fields.String(required=True)
    delivery = fields.String(required=True)
    relay_officer_id = fields.String(allow_none=True)
    followers = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    credentials_ref = fields.String(allow_none=True, metadata={"description": "where the token lives, never the token"})


class AudienceChannel(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    unit_id = fields.String(required=True)
    kind = fields.String(allow_none=True)
    ward = fields.String(allow_none=True)


class Audience(Schema):
    count = fields.Integer(required=True)
    by_type = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    channels = fields.List(fields.Nested(AudienceChannel), required=True)
    truncated = fields.Boolean(required=True)


class Subscription(Schema):
    id = fields.String(required=True)
    unit_id = fields.String(required=True)
    event_pattern = fields.String(required=True)
    filters = fields.Dict(keys=fields.String(), values=fields.String())
    target_channel_id = fields.String(required=True)
    active = fields.Boolean()


class ImportReport(Schema):
    rows = fields.Integer(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    errors = fields.List(fields.Dict(), required=True)


# --- events groups emits ----------------------------------------------------------------

class UnitCreatedV1(Schema):
    unit_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    parent_id = fields.String(allow_none=True, load_default=None)
    ward = fields.String(allow_none=True, load_default=None)
    handles = fields.List(fields.String(), load_default=list)


class ChannelRegisteredV1(Schema):
    channel_id = fields.String(required=True)
    type = fields.String(required=True)
    unit_id = fields.String(required=True)
    kind = fields.String(allow_none=True, load_default=None)
    ward = fields.String(allow_none=True, load_default=None)
    delivery = fields.String(required=True, validate=validate.OneOf(["api", "manual_relay"]))


class ChannelDeactivatedV1(Schema):
    channel_id = fields.String(required=True)
    type = fields.String(required=True)
    unit_id = fields.String(required=True)


class SubscriptionChangedV1(Schema):
    subscription_id = fields.String(required=True)
    unit_id = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(["created", "deleted"]))
    event_pattern = fields.String(required=True)
    target_channel_id = fields.String(required=True)


EVENTS = {
    ("groups.unit_created", 1): UnitCreatedV1,
    ("groups.channel_registered", 1): ChannelRegisteredV1,
    ("groups.channel_deactivated", 1): ChannelDeactivatedV1,
    ("groups.subscription_changed", 1): SubscriptionChangedV1,
}
