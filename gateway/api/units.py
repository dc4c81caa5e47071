"""Units: the police organisation tree (city police → teams, ward police; partner units)."""
from flask import g
from flask_smorest import Blueprint

from contracts.groups import Unit, UnitInput, UnitPatch
from contracts.rpc import PageQuery
from gateway.api.schemas import body, list_of
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="Units (org tree)")
AUTH = {"security": [{"bearer": []}]}


@blp.route("")
@blp.arguments(PageQuery, location="query")
@blp.response(200, list_of(Unit, "UnitList"))
@blp.doc(**AUTH)
@require()
def list_units(query):
    return call("groups", "list_units", query)


@blp.route("", methods=["POST"])
@blp.arguments(UnitInput)
@blp.response(201, Unit)
@blp.doc(**AUTH)
@require("units.manage")
def create_unit(_):
    return call("groups", "create_unit", g.officer, body())


@blp.route("/<unit_id>")
@blp.response(200, Unit)
@blp.doc(**AUTH)
@require()
def get_unit(unit_id):
    return call("groups", "get_unit", unit_id)


@blp.route("/<unit_id>", methods=["PATCH"])
@blp.arguments(UnitPatch)
@blp.response(200, Unit)
@blp.doc(**AUTH)
@require("units.manage")
def update_unit(_, unit_id):
    return call("groups", "update_unit", g.officer, unit_id, body())
