"""The citizens' site: the police's verified news (/), sending a tip (/gui-tin-bao) and following
it up (/tra-cuu). Vietnamese only, built for a phone on a slow connection: plain HTML forms
(POST, then a redirect), no JavaScript at all, nothing loaded from another host, each page a
few kB gzipped besides the shared stylesheets.

One module per part (news, tips). Every view is `@public`; the services decide what a citizen
may see (published posts; a tip's status only with its code and secret).
"""
from flask import Blueprint, g, render_template
from werkzeug.exceptions import HTTPException

from contracts.rpc import ServiceError
from gateway.limits import RateLimited
from gateway.rpc import ServiceUnavailable

bp = Blueprint("site", __name__)

EMERGENCY = "Nếu sự việc đang xảy ra hoặc có người gặp nguy hiểm: hãy gọi ngay 113."


def first_half(text):
    """The Vietnamese half of a service's "Tiếng Việt / English" message (the site is Vietnamese only)."""
    return text.partition(" / ")[0] if isinstance(text, str) else text


def render_error(status, message, retry_after=None):
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return render_template("site/error.html", status=status, message=message), status, headers


@bp.errorhandler(RateLimited)
def too_many(exc):
    if exc.kind == "read":
        message = "Bạn xem trạng thái quá nhiều lần trong một phút. Hãy đợi một lát rồi xem lại."
    else:
        message = "Bạn gửi quá nhanh. Hãy đợi một lát rồi gửi lại."
    return render_error(429, f"{message} {EMERGENCY}", retry_after=exc.retry_after)


@bp.errorhandler(ServiceUnavailable)
def unavailable(exc):
    return render_error(503, "Hệ thống đang bận hoặc mất kết nối, chưa có gì được gửi đi. Hãy thử lại sau ít "
                             f"giây. {EMERGENCY}", retry_after=exc.retry_after)


@bp.errorhandler(ServiceError)
def refused(exc):
    return render_error(exc.status, first_half(exc.detail))


@bp.errorhandler(HTTPException)
def http_error(exc):
    if exc.code == 404:
        return render_error(404, "Không có trang này.")
    if exc.code == 413:
        return render_error(413, "Ảnh quá lớn (tối đa 10 MB). Hãy quay lại, chọn ảnh nhỏ hơn hoặc gửi không kèm ảnh.")
    return render_error(exc.code or 500, "Yêu cầu không hợp lệ.")


@bp.app_context_processor
def site_context():
    if g.get("site_page"):
        return {"emergency": EMERGENCY}
    return {}


@bp.before_request
def mark_site_page():
    g.site_page = True


from gateway.web.site import news, tips  # noqa: E402,F401  (the parts register their routes)
