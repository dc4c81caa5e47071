"""Deliveries: where each post (and each alert or subscribed event) went, and why not."""
from flask import g
from flask_smorest import Blueprint

from contracts.notify import Delivery, DeliveryQuery
from gateway.api.schemas import list_of
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1/deliveries", description="Deliveries (notify)")
AUTH = {"security": [{"bearer": []}]}


@blp.route("")
@blp.arguments(DeliveryQuery, location="query")
@blp.response(200, list_of(Delivery, "DeliveryList"))
@blp.doc(summary="Deliveries, filtered by post, publication, status, channel type or the channel's unit", **AUTH)
@require()
def list_deliveries(query):
    return call("notify", "list_deliveries", query)


@blp.route("/<delivery_id>")
@blp.response(200, Delivery)
@blp.doc(summary="One delivery with every attempt", **AUTH)
@require()
def get_delivery(delivery_id):
    return call("notify", "get_delivery", delivery_id)


@blp.route("/<delivery_id>/retry", methods=["POST"])
@blp.response(200, Delivery)
@blp.alt_response(409, description="Only a failed, dead or reauth-waiting delivery can be retried")
@blp.doc(summary="Send a failed or dead delivery again (after fixing its content or token)", **AUTH)
@require("deliveries.retry")
def retry_delivery(delivery_id):
    return call("notify", "retry_delivery", g.officer, delivery_id)
