"""Groups: the shapes of RPC input, validated at the service boundary."""
from marshmallow import RAISE, Schema, fields, pre_load, validate

from contracts.rpc import ROLES
from services.groups import domain

SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="chỉ chữ thường, số và dấu gạch / lower-case slug")


class UnitInput(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(validate=[validate.Length(1, 64), SLUG])
    name = fields.String(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(domain.UNIT_KINDS))
    parent_id = fields.String(allow_none=True, load_default=None)
    ward = fields.String(allow_none=True, load_default=None)
    handles = fields.List(fields.String(validate=validate.Length(1, 64)), load_default=list)

    @pre_load
    def default_id(self, data, **kwargs):
        if isinstance(data, dict) and not data.get("id") and isinstance(data.get("name"), str):
            data = dict(data, id=domain.slugify(data["name"]))
        return data


class OfficerInput(Schema):
    class Meta:
        unknown = RAISE

    username = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9._-]{3,64}$"))
    password = fields.String(required=True, load_only=True, validate=validate.Length(10, 200))
    full_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1))
    unit_id = fields.String(allow_none=True, load_default=None)
