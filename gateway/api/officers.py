"""Officers: staff accounts (admin only). Passwords go to the groups service and stay there."""
from flask import g
from flask_smorest import Blueprint

from contracts.groups import Officer, OfficerInput
from contracts.rpc import PageQuery
from gateway.api.schemas import body, list_of
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("officers", __name__, url_prefix="/api/v1/officers", description="Officers (admin only)")
AUTH = {"security": [{"bearer": []}]}


@blp.route("")
@blp.arguments(PageQuery, location="query")
@blp.response(200, list_of(Officer, "OfficerList"))
@blp.doc(**AUTH)
@require("officers.manage")
def list_officers(query):
    return call("groups", "list_officers", g.officer, query)


@blp.route("", methods=["POST"])
@blp.arguments(OfficerInput)
@blp.response(201, Officer)
@blp.doc(**AUTH)
@require("officers.manage")
def create_officer(_):
    return call("groups", "create_officer", g.officer, body())
