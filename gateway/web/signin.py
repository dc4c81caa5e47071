"""The console's sign-in: a signed cookie session and a CSRF token on every change.

The cookie (HttpOnly, SameSite=Strict, Secure when the request came over https) holds the
officer as groups authenticated them, when they signed in, when they were last seen and
the CSRF token. It is signed with a key derived from the gateway's JWT secret, so it cannot
be forged; it expires after `CONSOLE_IDLE_SECONDS` without a request and after
`TOKEN_TTL_SECONDS` in any case, like an API token.
"""
import hashlib
import hmac
import secrets
import time

from flask import current_app, request, session
from flask.sessions import SecureCookieSessionInterface


CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class ConsoleSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app):
        return request.is_secure  # Secure over https; plain http only on a developer's machine

    def should_set_cookie(self, app, session):
        return session.modified  # the API and the citizens' pages never get a cookie


def configure(app):
    secret = app.config["JWT_SECRET"].encode()
    app.config.update(
        SECRET_KEY=hmac.new(secret, b"binhyen console session", hashlib.sha256).hexdigest(),
        SESSION_COOKIE_NAME="binhyen_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=app.config["TOKEN_TTL_SECONDS"],
    )
    app.session_interface = ConsoleSessionInterface()


def sign_in(officer):
    """Start a fresh session for this officer (a new CSRF token; nothing carried over)."""
    lang = session.get("lang")
    session.clear()
    now = int(time.time())
    session.permanent = True
    session.update(officer={k: officer.get(k) for k in ("id", "username", "full_name", "roles", "unit_id")},
                   csrf=secrets.token_urlsafe(32), signed_in_at=now, seen_at=now)
    if lang:
        session["lang"] = lang


def sign_out():
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def signed_in_officer():
    """The officer of this session, or None when there is none or it has expired. A request
    counts as activity (the idle clock restarts), at most once a minute to spare the cookie."""
    officer = session.get("officer")
    if not officer:
        return None
    now = int(time.time())
    idle = current_app.config["CONSOLE_IDLE_SECONDS"]
    if now - session.get("seen_at", 0) > idle or now - session.get("signed_in_at", 0) > \
            current_app.config["TOKEN_TTL_SECONDS"]:
        sign_out()
        return None
    if now - session.get("seen_at", 0) > 60:
        session["seen_at"] = now
    return officer


def csrf_token():
    return session.get("csrf", "")


def csrf_ok():
    """The form field or the htmx header carries this session's token."""
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())
