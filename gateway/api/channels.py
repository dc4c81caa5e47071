"""Channels: fanpages, Zalo groups, the YouTube channel, partner webhooks and email."""
from flask import g, request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from contracts.groups import CHANNEL_TYPES, Channel, ChannelInput, ChannelPatch, ImportReport
from contracts.rpc import PageQuery
from gateway.api.schemas import body, list_of
from gateway.auth import accepts, require
from gateway.rpc import call

blp = Blueprint("channels", __name__, url_prefix="/api/v1/channels", description="Channel registry")
AUTH = {"security": [{"bearer": []}]}


class ChannelQuery(PageQuery):
    type = fields.List(fields.String(validate=validate.OneOf(CHANNEL_TYPES)),
                       metadata={"description": "repeat for several: ?type=zalo_oa_group&type=zalo_group_manual"})
    kind = fields.String()
    ward = fields.String()
    unit_id = fields.String()
    status = fields.String(validate=validate.OneOf(("active", "inactive")))


class ImportQuery(Schema):
    class Meta:
        unknown = RAISE

    partial = fields.Boolean(load_default=False,
                             metadata={"description": "import the good rows even if some are bad"})


@blp.route("")
@blp.arguments(ChannelQuery, location="query")
@blp.response(200, list_of(Channel, "ChannelList"))
@blp.doc(**AUTH)
@require()
def list_channels(query):
    types = query.pop("type", None)
    if types:
        query["types"] = types
    return call("groups", "list_channels", g.officer, query)


@blp.route("", methods=["POST"])
@blp.arguments(ChannelInput)
@blp.response(201, Channel)
@blp.doc(**AUTH)
@require("channels.manage")
def create_channel(_):
    return call("groups", "create_channel", g.officer, body())


@blp.route("/<channel_id>")
@blp.response(200, Channel)
@blp.doc(**AUTH)
@require()
def get_channel(channel_id):
    return call("groups", "get_channel", channel_id)


@blp.route("/<channel_id>", methods=["PATCH"])
@blp.arguments(ChannelPatch)
@blp.response(200, Channel)
@blp.doc(**AUTH)
@require("channels.manage")
def update_channel(_, channel_id):
    return call("groups", "update_channel", g.officer, channel_id, body())


@blp.route("/<channel_id>", methods=["DELETE"])
@blp.response(200, Channel)
@blp.doc(summary="Deactivate a channel (it stays in the registry, inactive)", **AUTH)
@require("channels.manage")
def deactivate_channel(channel_id):
    return call("groups", "deactivate_channel", g.officer, channel_id)


@blp.route("/import", methods=["POST"])
@blp.arguments(ImportQuery, location="query")
@blp.response(200, ImportReport)
@blp.alt_response(422, description="Bad rows, each with its line number; nothing imported")
@blp.doc(summary="Bulk import from CSV (text/csv, header row) or JSON (an array of channels)",
         requestBody={"required": True, "content": {
             "text/csv": {"schema": {"type": "string"}},
             "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
         **AUTH)
@require("channels.manage")
@accepts("text/csv", "application/json")
def import_channels(query):
    text = request.get_data(as_text=True)
    return call("groups", "import_channels", g.officer, text, request.mimetype, query["partial"])
