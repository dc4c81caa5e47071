"""RPC payload schemas shared by the gateway and the services."""
import json

from marshmallow import RAISE, Schema, fields, validate


# --- errors that cross RPC as themselves (the gateway maps each to an HTTP status) -------
from nameko.exceptions import deserialize_to_instance  # noqa: E402


class ServiceError(Exception):
    """Base of the domain errors a service returns to its caller.

    args: (detail, errors) where errors maps a field name to a list of messages.
    """
    status = 400
    title = "Bad request"

    def __init__(self, detail, errors=None):
        if isinstance(errors, str):  # arriving over RPC
            errors = json.loads(errors)
        # nameko turns non-string values inside exception args into strings; a JSON
        # string keeps line numbers and other values as they were.
        super().__init__(detail, json.dumps(errors or {}, ensure_ascii=False, default=str))
        self.detail = detail
        self.errors = errors or {}


@deserialize_to_instance
class InvalidInput(ServiceError):
    status = 422
    title = "Dữ liệu không hợp lệ / Invalid input"


@deserialize_to_instance
class NotFound(ServiceError):
    status = 404
    title = "Không tìm thấy / Not found"


@deserialize_to_instance
class Conflict(ServiceError):
    status = 409
    title = "Xung đột / Conflict"


@deserialize_to_instance
class Forbidden(ServiceError):
    status = 403
    title = "Không có quyền / Forbidden"


@deserialize_to_instance
class TooManyAttempts(ServiceError):
    """Refused for a while (errors["retry_after"]: seconds); the gateway sends Retry-After."""
    status = 429
    title = "Quá nhiều lần thử / Too many attempts"


class PageQuery(Schema):
    """`limit` + opaque `cursor` on every list."""
    class Meta:
        unknown = RAISE

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 200))
