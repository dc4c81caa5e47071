"""Delivery statistics: where posts went, by channel type and outcome (one post or a period)."""
from flask import request
from flask_smorest import Blueprint

from contracts.notify import DeliveryStats, DeliveryStatsQuery
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("delivery_stats", __name__, url_prefix="/api/v1/stats", description="Delivery statistics (notify)")
AUTH = {"security": [{"bearer": []}]}


@blp.route("/deliveries")
@blp.arguments(DeliveryStatsQuery, location="query")
@blp.response(200, DeliveryStats)
@blp.doc(summary="Deliveries of posts by channel type and outcome: one post (post_id) and/or the posts "
                 "published in [from, to); with neither, every post", **AUTH)
@require()
def delivery_stats(_):
    # The service loads the same query again: pass it as the client sent it.
    return call("notify", "delivery_stats", request.args.to_dict())
