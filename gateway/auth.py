"""Staff authentication: bearer JWTs signed by the gateway, roles checked per endpoint.

Passwords are checked by the groups service (the hashes never leave it); the gateway
only signs what groups says about the officer. Tokens are HS256 with a secret from the
environment; any other algorithm (including `none`) is refused.
"""
import functools
import time

import jwt
from flask import current_app, g, request

from contracts.permissions import PERMISSIONS, ROLES, Actor
from contracts.rpc import ServiceError

ALGORITHM = "HS256"
ISSUER = "binhyen"


class Unauthorized(ServiceError):
    status = 401
    title = "Chưa xác thực / Unauthorized"


def issue_token(officer):
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": officer["id"],
        "username": officer["username"],
        "roles": officer["roles"],
        "unit_id": officer.get("unit_id"),
        "full_name": officer.get("full_name"),
        "iat": now,
        "exp": now + current_app.config["TOKEN_TTL_SECONDS"],
    }
    return jwt.encode(claims, current_app.config["JWT_SECRET"], algorithm=ALGORITHM), claims["exp"] - now


def current_officer():
    """The officer of this request from its bearer token, or raise Unauthorized."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Cần đăng nhập / a bearer token is required")
    try:
        claims = jwt.decode(token, current_app.config["JWT_SECRET"], algorithms=[ALGORITHM],
                            issuer=ISSUER, options={"require": ["exp", "iat", "sub", "iss"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Phiên đăng nhập đã hết hạn / token expired")
    except jwt.InvalidTokenError:
        raise Unauthorized("Mã đăng nhập không hợp lệ / invalid token")
    roles = claims.get("roles")
    if not (isinstance(roles, list) and all(isinstance(r, str) for r in roles) and set(roles) <= set(ROLES)):
        raise Unauthorized("Mã đăng nhập không hợp lệ / invalid token")
    return {"id": claims["sub"], "username": claims.get("username"), "roles": roles,
            "unit_id": claims.get("unit_id"), "full_name": claims.get("full_name")}


def authorize(permission):
    """The officer of this request, who must hold `permission` (contracts/permissions.py), in
    `g.officer`; Unauthorized or Forbidden otherwise. The token is read once a request."""
    officer = g.get("officer") or Actor.of(current_officer())
    officer.require(permission)
    g.officer = officer
    return officer


def require(permission="staff"):
    """Endpoint decorator: a valid token whose roles hold `permission` ("staff": any officer).

    The officer is in `g.officer`. The permission is also kept on the view
    (`required_permission`, carried outwards by functools.wraps through the argument/response
    decorators), so the app checks the token before the request's arguments are parsed: a
    caller without a valid token learns nothing from 422s.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}: add it to contracts/permissions.py")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            authorize(permission)
            return view(*args, **kwargs)
        wrapper.required_permission = permission
        return wrapper

    return decorate


def public(view):
    """Endpoint decorator: no login (citizens, platforms' webhooks, health, the catalog). Every
    endpoint is either `public` or `require`s a permission; a test walks them all."""
    view.public = True
    return view


def accepts(*media_types):
    """Endpoint decorator: the request bodies this endpoint reads (default: JSON; "*": any, for
    platforms' webhooks, which are checked byte for byte against their signature). Any other
    Content-Type gets 415 before anything is parsed."""
    def decorate(view):
        view.accepted_types = media_types
        return view
    return decorate
