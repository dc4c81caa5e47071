"""The web pages the gateway serves: the staff console (/console/) and the citizens' site.

Server-rendered Jinja templates (gateway/web/templates), htmx 2 for partial updates, Pico CSS
and Chart.js as vendored files (gateway/web/static/vendor, see NOTICE.md). Pages call the
services through the same RPC pool, and check the same permission table, as the JSON API.
No script is inline and nothing is loaded from another host: the Content-Security-Policy
below says so to the browser too.
"""
import gzip
import hashlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app, g, request, session
from flask_babel import Babel, get_locale
from markupsafe import Markup, escape

STATIC = Path(__file__).resolve().parent / "static"
LOCALES = ("vi", "en")
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
COMPRESSIBLE = ("text/html", "text/css", "text/javascript", "application/javascript", "text/csv",
                "application/atom+xml", "application/rss+xml", "image/svg+xml")
COMPRESS_MIN_BYTES = 1024


def select_locale():
    """The console's language: the officer's choice (kept in the session), Vietnamese first."""
    if request.blueprint == "console" and session.get("lang") in LOCALES:
        return session["lang"]
    return "vi"


def static_url(filename):
    """/static/<file>?v=<content hash>: browsers may keep a file until it changes."""
    versions = current_app.extensions.setdefault("static_versions", {})
    if filename not in versions:
        versions[filename] = hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]
    return f"/static/{filename}?v={versions[filename]}"


def local_time(value, fmt="%H:%M %d/%m/%Y"):
    """A stored UTC time (datetime or ISO string) as Ninh Bình reads it (UTC+7)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(VN_TZ).strftime(fmt)


def in_language(text):
    """The services answer "Tiếng Việt / English": show the half the reader reads."""
    if not isinstance(text, str) or " / " not in text:
        return text
    vi, _, en = text.partition(" / ")
    return en if str(get_locale()) == "en" else vi


def number(value):
    """12345 -> "12.345" (Vietnamese) or "12,345"."""
    try:
        text = f"{int(value):,}"
    except (TypeError, ValueError):
        return value
    return text if str(get_locale()) == "en" else text.replace(",", ".")


def dom_id(value):
    """An id usable in HTML and CSS selectors (htmx targets) from any service id ("abc:post")."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", str(value))


def nl2br(text):
    return Markup("<br>").join(escape(text or "").split("\n"))


def security_headers(response):
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("private_page"):  # staff data and tip codes: never cached on the way
            response.headers["Cache-Control"] = "no-store"
    return response


def compress(response):
    """gzip text responses (pages, CSS, JS): a phone on slow 3G gets a page in a few kB."""
    streamed = response.is_streamed and not response.direct_passthrough  # server-sent events, exports
    if (not 200 <= response.status_code < 300 or streamed or response.mimetype not in COMPRESSIBLE
            or "gzip" not in request.headers.get("Accept-Encoding", "") or "Content-Encoding" in response.headers):
        return response
    response.direct_passthrough = False
    data = response.get_data()
    if len(data) < COMPRESS_MIN_BYTES:
        return response
    if request.endpoint == "static":  # the same few files again and again: compress each once
        cache = current_app.extensions.setdefault("gzipped_static", {})
        key = hashlib.sha256(data).digest()
        if key not in cache:
            cache[key] = gzip.compress(data, compresslevel=9, mtime=0)
        response.set_data(cache[key])
    else:
        response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.headers.add("Vary", "Accept-Encoding")
    return response


def page_for_unmatched(exc):
    """A URL outside the API that no route matched: the console's or the citizens' error page."""
    if request.path.startswith("/console"):
        from gateway.web.console import render_error as console_error
        g.private_page = True
        return console_error(exc.code or 404, exc.description if exc.code != 404 else "Không có trang này.")
    from gateway.web.site import render_error as site_error
    return site_error(exc.code or 404, "Không có trang này." if exc.code == 404 else "Yêu cầu không hợp lệ.")


def register(app):
    """Templates, static files, catalogs and the page blueprints on the gateway's app."""
    from gateway.web import console, signin, site

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).resolve().parent / "translations"))
    Babel(app, locale_selector=select_locale)
    signin.configure(app)
    app.jinja_env.globals.update(static_url=static_url, get_locale=get_locale)
    app.jinja_env.filters.update(local_time=local_time, in_language=in_language, number=number, nl2br=nl2br,
                               dom_id=dom_id)
    app.register_blueprint(console.bp)
    app.register_blueprint(site.bp)
    app.after_request(security_headers)
    app.after_request(compress)
