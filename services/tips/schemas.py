"""Tips: the shapes of input, validated at the boundary (gateway and RPC).

Every schema raises on unknown fields. Shape only: the meaning (NFC, control
characters, emoji-only text, the 5,000-character cap, ward lookup) is decided by
``domain.prepare_intake`` and friends, which the service calls after loading.
"""
from marshmallow import (RAISE, Schema, ValidationError, fields, pre_load, validate,
                         validates_schema)

from services.tips import domain

SLUG = validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$",
                       error="chỉ chữ thường, số và dấu gạch / lower-case slug")
REQUIRED = {"required": "Bắt buộc / Required"}
# Generous shape-level cap on raw text: NFD input has more code points than its NFC
# form, so the real 5,000-character limit is applied by the domain after NFC.
RAW_TEXT_MAX = 4 * domain.TEXT_MAX


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
                                 validate=validate.OneOf(domain.ATTACHMENT_TYPES))
    size = fields.Integer(required=True, error_messages=REQUIRED, strict=True,
                          validate=validate.Range(1, domain.ATTACHMENT_MAX_BYTES,
                                                  error="Tệp tối đa 10 MB / Each file at most 10 MB"))


class PublicTip(_Strict):
    """A tip from the public web form. Channel ids (Zalo/Facebook) are not accepted
    here: only the webhooks, which verified the platform's signature, may set them."""
    text = fields.String(required=True, error_messages=REQUIRED,
                         validate=validate.Length(1, RAW_TEXT_MAX))
    category = fields.String(allow_none=True, validate=validate.OneOf(domain.CITIZEN_CATEGORIES))
    ward = fields.String(allow_none=True, validate=validate.Length(max=200))
    location = fields.Nested(Location, allow_none=True)
    occurred_at = fields.AwareDateTime(allow_none=True, format="iso")
    anonymous = fields.Boolean(load_default=True)
    contact = fields.Nested(Contact, allow_none=True)
    attachments = fields.List(fields.Nested(Attachment), load_default=list,
                              validate=validate.Length(max=domain.ATTACHMENTS_MAX))


class TipAccess(_Strict):
    """The tipster's follow-up credentials."""
    tip_code = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(8, 20))
    secret = fields.String(required=True, error_messages=REQUIRED, load_only=True,
                           validate=validate.Length(16, 200))


class PublicMessage(_Strict):
    """A citizen's follow-up message on their own tip."""
    text = fields.String(required=True, error_messages=REQUIRED,
                         validate=validate.Length(1, 4 * domain.MESSAGE_MAX))


class StaffMessage(_Strict):
    """An officer's message: to the citizen, or an internal note when ``internal``."""
    text = fields.String(required=True, error_messages=REQUIRED,
                         validate=validate.Length(1, 4 * domain.MESSAGE_MAX))
    internal = fields.Boolean(load_default=False)


class Assign(_Strict):
    unit_id = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(1, 64))
    reason = fields.String(allow_none=True, validate=validate.Length(max=domain.REASON_MAX))


class StatusChange(_Strict):
    status = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.OneOf(tuple(domain.ACTION_FOR_STATUS)))
    reason = fields.String(allow_none=True, validate=validate.Length(max=domain.REASON_MAX))
    merged_into = fields.String(allow_none=True, validate=validate.Length(1, 64))

    @validates_schema
    def close_needs_reason(self, data, **kwargs):
        if data.get("status") == "closed":
            if data.get("reason") not in domain.CLOSE_REASONS:
                raise ValidationError(
                    f"Một trong / One of: {', '.join(domain.CLOSE_REASONS)}", "reason")
            if data["reason"] == "duplicate" and not data.get("merged_into"):
                raise ValidationError("Bắt buộc với tin trùng / Required for a duplicate",
                                      "merged_into")
        if data.get("merged_into") and not (data.get("status") == "closed"
                                            and data.get("reason") == "duplicate"):
            raise ValidationError("Chỉ dùng khi đóng tin trùng / Only when closing a duplicate",
                                  "merged_into")


def _reason_long_enough(value):
    # Counted after trimming: ten spaces are not a reason.
    if len(value.strip()) < 10:
        raise ValidationError("Ít nhất 10 ký tự / At least 10 characters")


class Reveal(_Strict):
    """Why an officer opens a tipster's identity (kept in the audit)."""
    reason = fields.String(required=True, error_messages=REQUIRED, validate=[
        _reason_long_enough, validate.Length(max=domain.REASON_MAX)])


class RoutingRule(_Strict):
    category = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.OneOf((domain.ANY, *domain.CATEGORIES)))
    ward = fields.String(load_default=domain.ANY, validate=validate.Length(1, 64))
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
