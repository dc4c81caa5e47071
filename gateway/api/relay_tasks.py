"""Relay tasks: posts (and take-downs) an officer does by hand in Zalo groups no API reaches."""
from flask import g
from flask_smorest import Blueprint

from contracts.notify import RelayConfirm, RelayTask, RelayTaskQuery
from gateway.api.schemas import body, list_of
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("relay_tasks", __name__, url_prefix="/api/v1/relay-tasks", description="Manual relay tasks (notify)")
AUTH = {"security": [{"bearer": []}]}


@blp.route("")
@blp.arguments(RelayTaskQuery, location="query")
@blp.response(200, list_of(RelayTask, "RelayTaskList"))
@blp.doc(summary="My relay tasks (named to me, or unnamed ones of my unit); ?all=true for the admin board",
         **AUTH)
@require()
def list_relay_tasks(query):
    return call("notify", "list_relay_tasks", g.officer, query)


@blp.route("/<task_id>")
@blp.response(200, RelayTask)
@blp.doc(**AUTH)
@require()
def get_relay_task(task_id):
    return call("notify", "get_relay_task", g.officer, task_id)


@blp.route("/<task_id>/confirm", methods=["POST"])
@blp.arguments(RelayConfirm)
@blp.response(200, RelayTask)
@blp.alt_response(409, description="The task is already done or cancelled")
@blp.doc(summary="I posted it (or took it down): the https permalink of the message", **AUTH)
@require()
def confirm_relay_task(_, task_id):
    return call("notify", "confirm_relay_task", g.officer, task_id, body() or {})
