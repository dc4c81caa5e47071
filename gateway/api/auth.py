"""Staff login: username + password -> bearer JWT."""
from flask import current_app, g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from contracts.groups import Officer
from gateway.auth import Unauthorized, issue_token, public, require

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff authentication")


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class TokenResponse(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    roles = fields.List(fields.String(), required=True)
    unit_id = fields.String(allow_none=True)


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.alt_response(401, description="Wrong username or password")
@public
def token(credentials):
    officer = current_app.extensions["rpc"].call("groups", "authenticate",
                                                 credentials["username"], credentials["password"])
    if officer is None:
        raise Unauthorized("Sai tên đăng nhập hoặc mật khẩu / wrong username or password")
    access_token, expires_in = issue_token(officer)
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in,
            "roles": officer["roles"], "unit_id": officer.get("unit_id")}


@blp.route("/me")
@blp.response(200, Officer)
@blp.doc(security=[{"bearer": []}])
@require()
def me():
    """The officer the bearer token belongs to."""
    return g.officer
