"""Every error the API returns is `application/problem+json` (RFC 9457)."""
import json
import logging

from flask import Response, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from contracts.rpc import ServiceError
from gateway.rpc import ServiceUnavailable

logger = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


class Problem(Schema):
    """application/problem+json (RFC 9457), as every error of this API (documented as such in OpenAPI)."""
    type = fields.String()
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "field -> messages"})

# Titles in Vietnamese with English alongside: API clients read the English, officers the Vietnamese.
TITLES = {
    400: "Yêu cầu không hợp lệ / Bad request",
    401: "Chưa xác thực / Unauthorized",
    403: "Không có quyền / Forbidden",
    404: "Không tìm thấy / Not found",
    405: "Phương thức không được hỗ trợ / Method not allowed",
    409: "Xung đột dữ liệu / Conflict",
    412: "Phiên bản không khớp / Precondition failed",
    413: "Dữ liệu gửi lên quá lớn / Payload too large",
    415: "Kiểu dữ liệu không được hỗ trợ / Unsupported media type",
    422: "Dữ liệu không hợp lệ / Invalid input",
    428: "Thiếu điều kiện phiên bản / Precondition required",
    429: "Quá nhiều yêu cầu / Too many requests",
    500: "Lỗi hệ thống / Internal error",
    503: "Dịch vụ tạm thời không sẵn sàng / Service unavailable",
}

# What to do next, for the errors Flask itself raises (its own texts are English pages' prose).
DETAILS = {
    404: "Không có địa chỉ này; xem danh sách tại /api/v1/openapi.json / no such URL: see /api/v1/openapi.json",
    405: "Địa chỉ này không nhận phương thức đó; xem /api/v1/openapi.json / this URL does not take that method: "
         "see /api/v1/openapi.json",
}


def problem(status, detail=None, errors=None, headers=None, title=None):
    body = {
        "type": "about:blank",
        "title": title or TITLES.get(status, HTTP_STATUS_CODES.get(status, "Error")),
        "status": status,
        "detail": detail or HTTP_STATUS_CODES.get(status, ""),
    }
    if errors:
        body["errors"] = errors
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM,
                    headers=headers or {})


def _field_errors(messages):
    """webargs nests errors by location ({"json": {...}}); clients want them by field."""
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "headers", "form", "files",
                                                        "view_args", "path", "querystring"}:
        merged = {}
        for value in messages.values():
            if isinstance(value, dict):
                merged.update(value)
            else:
                merged["_body"] = value
        return merged
    return messages


def http_exception(exc):
    if request.blueprint is None and not request.path.startswith("/api/"):
        from gateway.web import page_for_unmatched  # a URL no page matched: people get a page, not JSON
        return page_for_unmatched(exc)
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    status = exc.code or 500
    if status == 400 and messages:
        return problem(400, "Nội dung JSON không đọc được / malformed JSON body", _field_errors(messages))
    if status == 422 and messages:
        return problem(422, "Dữ liệu không hợp lệ / the request has invalid fields", _field_errors(messages))
    if status == 413:
        return problem(413, "Dữ liệu vượt quá giới hạn cho phép / the body exceeds the size limit")
    detail = data.get("message") or getattr(exc, "description", None)
    if detail == type(exc).description:  # werkzeug's default prose, not a message of ours
        detail = DETAILS.get(status, detail)
    return problem(status, detail, headers=dict(getattr(exc, "headers", None) or {}) or None)


def service_error(exc):
    headers = None
    if exc.status in (429, 503):
        wait = (exc.errors or {}).get("retry_after")
        headers = {"Retry-After": str(wait[0] if isinstance(wait, list) else wait or 5)}
    return problem(exc.status, exc.detail, exc.errors or None, headers=headers)


def service_unavailable(exc):
    logger.warning("service unavailable: %s", exc.what)
    return problem(503, "Hệ thống đang bận hoặc mất kết nối, vui lòng thử lại / "
                        "a backing service is unavailable, retry later",
                   headers={"Retry-After": str(exc.retry_after)})


def unexpected(exc):
    logger.exception("unhandled error")
    return problem(500, "Lỗi không mong muốn, đã được ghi lại / unexpected error, logged")


def register(app):
    app.register_error_handler(HTTPException, http_exception)
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(ServiceUnavailable, service_unavailable)
    app.register_error_handler(Exception, unexpected)
