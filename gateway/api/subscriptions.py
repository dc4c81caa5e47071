"""Inter-unit subscriptions: a unit asks to receive other units' events on its own channel."""
from flask import g
from flask_smorest import Blueprint
from marshmallow import fields

from contracts.groups import Subscription, SubscriptionInput
from contracts.rpc import PageQuery
from gateway.api.schemas import body, list_of
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("subscriptions", __name__, url_prefix="/api/v1/subscriptions", description="Subscriptions")
AUTH = {"security": [{"bearer": []}]}


class SubscriptionQuery(PageQuery):
    unit_id = fields.String()


@blp.route("")
@blp.arguments(SubscriptionQuery, location="query")
@blp.response(200, list_of(Subscription, "SubscriptionList"))
@blp.doc(**AUTH)
@require()
def list_subscriptions(query):
    return call("groups", "list_subscriptions", query)


@blp.route("", methods=["POST"])
@blp.arguments(SubscriptionInput)
@blp.response(201, Subscription)
@blp.doc(**AUTH)
@require("subscriptions.manage")
def create_subscription(_):
    return call("groups", "create_subscription", g.officer, body())


@blp.route("/<subscription_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(**AUTH)
@require("subscriptions.manage")
def delete_subscription(subscription_id):
    call("groups", "delete_subscription", g.officer, subscription_id)
