"""marshmallow's validation messages in Vietnamese with English alongside, for every schema.

Officers read the Vietnamese, API clients the English. Set once, on marshmallow's own classes,
when `contracts` is imported (every schema of the project lives there or imports it).
"""
from marshmallow import Schema, fields, validate

FIELD_MESSAGES = {
    fields.Field: {"required": "Bắt buộc / Missing data for required field.",
                   "null": "Không được để trống (null) / Field may not be null.",
                   "validator_failed": "Giá trị không hợp lệ / Invalid value."},
    fields.String: {"invalid": "Phải là chuỗi ký tự / Not a valid string.",
                    "invalid_utf8": "Chuỗi không phải UTF-8 / Not a valid utf-8 string."},
    fields.Number: {"invalid": "Phải là số / Not a valid number.", "too_large": "Số quá lớn / Number too large."},
    fields.Integer: {"invalid": "Phải là số nguyên / Not a valid integer."},
    fields.Float: {"special": "Không nhận NaN hay vô cực / Special numeric values (nan or infinity) are not permitted."},
    fields.Boolean: {"invalid": "Phải là true hoặc false / Not a valid boolean."},
    fields.DateTime: {
        "invalid": "Thời điểm không hợp lệ, dùng ISO 8601 (VD 2026-12-03T08:00:00+07:00) / Not a valid {obj_type} "
                   "(ISO 8601, e.g. 2026-12-03T08:00:00+07:00).",
        "invalid_awareness": "Thời điểm phải có múi giờ (VD 2026-12-03T08:00:00+07:00) / Not a valid {awareness} "
                             "{obj_type}: give the time zone, e.g. 2026-12-03T08:00:00+07:00.",
        "format": "Không định dạng được \"{input}\" / \"{input}\" cannot be formatted as a {obj_type}."},
    fields.Date: {"invalid": "Ngày không hợp lệ, dùng YYYY-MM-DD / Not a valid date (YYYY-MM-DD).",
                  "format": "Không định dạng được \"{input}\" / \"{input}\" cannot be formatted as a date."},
    fields.List: {"invalid": "Phải là danh sách / Not a valid list."},
    fields.Tuple: {"invalid": "Phải là danh sách / Not a valid tuple."},
    fields.Mapping: {"invalid": "Phải là đối tượng JSON / Not a valid mapping type."},
    fields.Nested: {"type": "Phải là đối tượng JSON / Invalid type."},
    fields.Email: {"invalid": "Địa chỉ e-mail không hợp lệ / Not a valid email address."},
    fields.URL: {"invalid": "Địa chỉ URL không hợp lệ / Not a valid URL."},
    fields.UUID: {"invalid_uuid": "Mã UUID không hợp lệ / Not a valid UUID."},
    fields.Enum: {"unknown": "Phải là một trong: {choices} / Must be one of: {choices}."},
}
SCHEMA_MESSAGES = {"type": "Dữ liệu phải là đối tượng JSON / Invalid input type.",
                   "unknown": "Trường không được chấp nhận / Unknown field."}
VALIDATOR_MESSAGES = {
    validate.Length: {"message_min": "Ngắn hơn tối thiểu {min} / Shorter than minimum length {min}.",
                      "message_max": "Dài hơn tối đa {max} / Longer than maximum length {max}.",
                      "message_all": "Độ dài phải từ {min} đến {max} / Length must be between {min} and {max}.",
                      "message_equal": "Độ dài phải là {equal} / Length must be {equal}."},
    validate.Range: {"message_min": "Phải {min_op} {{min}} / Must be {min_op} {{min}}.",
                     "message_max": "Phải {max_op} {{max}} / Must be {max_op} {{max}}.",
                     "message_all": "Phải {min_op} {{min}} và {max_op} {{max}} / Must be {min_op} {{min}} and "
                                    "{max_op} {{max}}.",
                     "message_gte": "≥", "message_gt": ">", "message_lte": "≤", "message_lt": "<"},
    validate.OneOf: {"default_message": "Phải là một trong: {choices} / Must be one of: {choices}."},
    validate.Regexp: {"default_message": "Không đúng định dạng / String does not match expected pattern."},
    validate.Email: {"default_message": "Địa chỉ e-mail không hợp lệ / Not a valid email address."},
    validate.URL: {"default_message": "Địa chỉ URL không hợp lệ / Not a valid URL."},
    validate.Equal: {"default_message": "Phải bằng {other} / Must be equal to {other}."},
    validate.NoneOf: {"default_message": "Giá trị không được phép / Invalid input."},
    validate.ContainsOnly: {"default_message": "Có lựa chọn không thuộc: {choices} / One or more of the choices "
                                               "you made was not in: {choices}."},
}


def install():
    for cls, messages in FIELD_MESSAGES.items():
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}), **messages}
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA_MESSAGES}
    for cls, attributes in VALIDATOR_MESSAGES.items():
        for name, text in attributes.items():
            setattr(cls, name, text)


install()
