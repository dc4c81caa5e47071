"""The staff console: the board, triage officers, relay officers and unit operators at work.

One module per screen (home, posts, relay, tips, directory, stats); each view says the
permission it needs with `@page(...)`, the same names the JSON API uses
(contracts/permissions.py). The services check role and unit scope again on every call.
"""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from contracts.permissions import PERMISSIONS, ROLE_LABELS, Actor
from contracts.rpc import ServiceError
from gateway.auth import public
from gateway.rpc import ServiceUnavailable, call
from gateway.web import LOCALES, in_language, signin

bp = Blueprint("console", __name__, url_prefix="/console")

# The navigation bar: (endpoint, label, permission). An entry shows when its screen exists and
# the officer holds the permission.
NAV = (
    ("console.home", _l("Việc của tôi"), "staff"),
    ("console.posts", _l("Kiểm duyệt bài"), "staff"),
    ("console.relay_tasks", _l("Đăng tay vào nhóm Zalo"), "staff"),
    ("console.tips", _l("Tin báo"), "tips.read"),
    ("console.directory", _l("Danh bạ"), "staff"),
    ("console.stats", _l("Thống kê"), "staff"),
)
OPEN_ENDPOINTS = {"console.login", "console.language"}


def page(permission="staff"):
    """Console view decorator: the permission the screen needs (checked before the view runs)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view):
        view.required_permission = permission
        return view
    return decorate


def is_htmx():
    return request.headers.get("HX-Request") == "true"


def safe_next(target):
    """Only a path of this console to go back to after signing in (never another site)."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console"):
        return url_for("console.home")
    return target


@bp.before_request
def signed_in_and_allowed():
    g.private_page = True
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    officer = signin.signed_in_officer()
    if officer is None:
        target = url_for("console.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if is_htmx():  # a fragment request: send the whole page to the login screen
            return "", 401, {"HX-Redirect": target}
        return redirect(target)
    g.officer = Actor.of(officer)
    if request.method == "POST" and not signin.csrf_ok():
        return render_error(403, _("Phiên làm việc đã đổi hoặc hết hạn. Hãy tải lại trang rồi làm lại."))
    view = current_app.view_functions.get(request.endpoint)
    permission = getattr(view, "required_permission", None)
    if permission is None:
        return render_error(404, _("Không có trang này."))
    if not g.officer.may(permission):
        return render_error(403, _("Tài khoản của bạn không có quyền: %(what)s.",
                                   what=in_language(" / ".join(PERMISSIONS[permission][1:]))))
    return None


def render_error(status, message, retry_after=None):
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if is_htmx():
        headers.update({"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"})
        return render_template("console/_notice.html", message=message, kind="error"), status, headers
    return render_template("console/error.html", status=status, message=message), status, headers


@bp.errorhandler(ServiceError)
def service_refused(exc):
    return render_error(exc.status, exc.detail)


@bp.errorhandler(ServiceUnavailable)
def service_unavailable(exc):
    return render_error(503, _("Hệ thống đang bận hoặc mất kết nối. Dữ liệu của bạn chưa bị thay đổi; "
                               "hãy thử lại sau ít giây."), retry_after=exc.retry_after)


@bp.errorhandler(HTTPException)
def http_error(exc):
    if exc.code == 404:
        return render_error(404, _("Không có trang này."))
    if exc.code == 413:
        return render_error(413, _("Tệp quá lớn."))
    return render_error(exc.code or 500, exc.description)


@bp.app_context_processor
def console_context():
    if request.blueprint != "console":
        return {}
    officer = g.get("officer")
    nav = []
    if officer is not None:
        nav = [(endpoint, label) for endpoint, label, permission in NAV
               if endpoint in current_app.view_functions and officer.may(permission)]
    return {"officer": officer, "nav": nav, "csrf_token": signin.csrf_token(), "screen_url": screen_url,
            "role_label": lambda role: in_language(" / ".join(ROLE_LABELS.get(role, (role, role)))),
            "locales": LOCALES,
            "is_htmx": is_htmx()}


# --- signing in and out ---------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    error = None
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        if not username or not password:
            error = _("Nhập tên đăng nhập và mật khẩu.")
        else:
            try:
                officer = call("groups", "authenticate", username, password)
            except ServiceError as exc:  # locked after too many wrong passwords
                error = exc.detail
            else:
                if officer is None:
                    error = _("Sai tên đăng nhập hoặc mật khẩu.")
                else:
                    signin.sign_in(officer)
                    return redirect(target)
    status = 401 if error else 200
    return render_template("console/login.html", error=error, next=target,
                           username=request.form.get("username", "")), status


@bp.route("/logout", methods=["POST"])
@page()
def logout():
    signin.sign_out()
    return redirect(url_for("console.login"))


@bp.route("/language/<code>", methods=["POST"])
@public
def language(code):
    """Switch the console's language (Vietnamese first, English second)."""
    if code in LOCALES:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))


def screen_url(endpoint, **values):
    """The URL of a console screen, or None where that screen is not part of this console."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def fan_out(calls):
    """Several service calls at once (a screen with figures from several services); a call that
    failed shows as None, the page says which figure is missing."""
    results = current_app.extensions["rpc"].call_many(calls, timeout=current_app.config["RPC_TIMEOUT_SECONDS"])
    return {key: (None if isinstance(value, Exception) else value) for key, value in results.items()}


from gateway.web.console import deliveries, directory, home, posts, relay, stats, tips  # noqa: E402,F401  (the screens register their routes)
