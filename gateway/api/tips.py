"""Tips for staff: the triage queue, assignment, lifecycle, replies, identity reveal,
routing rules, the procedures FAQ and statistics.

Roles: triage_officer and unit_operator read and act on the tips of their unit subtree (a ward
police unit also on every tip of its ward, whichever unit handles it); admin does everything;
auditor reads everything and changes nothing; revealing who sent a tip is for admins only
(with a reason, audited). The tips service checks the unit scope (a tip outside it is 404),
so every caller gets the same rules.
"""
import base64

from flask import Response, g, request
from flask_smorest import Blueprint

from contracts.rpc import PageQuery
from contracts.tips import (Assign, Faq, FaqEntry, FaqPatch, Merge, Reveal, RevealedIdentity, RoutingRules,
                            RoutingTable, StaffMessage, StatsQuery, StatusChange, Tip, TipQuery, TipStats,
                            TipSummary)
from contracts.tips import TriageCorrection
from contracts.tips import (ReplyTemplate, ReplyTemplateInput, ReplyTemplateList, ReplyTemplatePatch,
                            ReplyTemplateQuery, RevealRecord)
from gateway.api.public_tips import problem_doc
from gateway.api.schemas import body, list_of
from gateway.auth import require
from gateway.rpc import call

blp = Blueprint("tips", __name__, url_prefix="/api/v1", description="Tin báo (cán bộ) / tips for staff")
AUTH = {"security": [{"bearer": []}]}
UNAUTHORIZED = problem_doc(401, "No or invalid token")
FORBIDDEN = problem_doc(403, "Your role may not do this")
NOT_FOUND = problem_doc(404, "No such tip in your units")
INVALID = problem_doc(422, "Invalid input (errors by field)")
CONFLICT = problem_doc(409, "The tip's state does not allow this, or it changed meanwhile: reload")


def documented(*extra):
    """The errors every staff endpoint may answer, plus `extra`."""
    def decorate(view):
        for doc in (UNAUTHORIZED, FORBIDDEN, *extra):
            view = blp.alt_response(**doc)(view)
        return view
    return decorate


# --- tips ----------------------------------------------------------------------------------------

@blp.route("/tips")
@blp.arguments(TipQuery, location="query")
@blp.response(200, list_of(TipSummary, "TipList"))
@documented(INVALID)
@blp.doc(summary="Tips of your units, newest first (filters combine)", **AUTH)
@require("tips.read")
def list_tips(_):
    # The service loads the same query again: pass it as the client sent it.
    return call("tips", "list_tips", g.officer, request.args.to_dict())


@blp.route("/tips/<tip_id>")
@blp.response(200, Tip)
@documented(NOT_FOUND)
@blp.doc(summary="A tip (the tipster appears as an alias)", **AUTH)
@require("tips.read")
def get_tip(tip_id):
    return call("tips", "get_tip", g.officer, tip_id)


@blp.route("/tips/<tip_id>/attachments/<upload_id>")
@documented(NOT_FOUND)
@blp.doc(summary="A photo sent with the tip (stored without EXIF: no GPS position, no device)",
         responses={"200": {"description": "the image (JPEG, PNG or WebP)"}}, **AUTH)
@require("tips.read")
def attachment(tip_id, upload_id):
    found = call("tips", "get_attachment", g.officer, tip_id, upload_id)
    return Response(base64.b64decode(found["data"]), mimetype=found["content_type"],
                    headers={"Content-Disposition": "inline", "Cache-Control": "private, no-store"})


@blp.route("/tips/<tip_id>/assign", methods=["POST"])
@blp.arguments(Assign)
@blp.response(200, Tip)
@documented(NOT_FOUND, CONFLICT, INVALID)
@blp.doc(summary="Assign to a unit (reassigning needs a reason)", **AUTH)
@require("tips.handle")
def assign_tip(_, tip_id):
    return call("tips", "assign_tip", g.officer, tip_id, body())


@blp.route("/tips/<tip_id>/status", methods=["POST"])
@blp.arguments(StatusChange)
@blp.response(200, Tip)
@documented(NOT_FOUND, CONFLICT, INVALID)
@blp.doc(summary="Move a tip on: in_progress, resolved, or closed with a reason", **AUTH)
@require("tips.handle")
def change_status(_, tip_id):
    return call("tips", "change_status", g.officer, tip_id, body())


@blp.route("/tips/<tip_id>/merge", methods=["POST"])
@blp.arguments(Merge)
@blp.response(200, Tip)
@documented(NOT_FOUND, CONFLICT, INVALID)
@blp.doc(summary="Close as a duplicate of another tip (id or tip code), which links back", **AUTH)
@require("tips.handle")
def merge_tip(_, tip_id):
    return call("tips", "merge_tip", g.officer, tip_id, body())


@blp.route("/tips/<tip_id>/messages", methods=["POST"])
@blp.arguments(StaffMessage)
@blp.response(201, Tip)
@documented(NOT_FOUND, CONFLICT, INVALID)
@blp.doc(summary="Reply to the tipster (through the channel the tip came in on) or add an internal note",
         **AUTH)
@require("tips.handle")
def add_message(_, tip_id):
    return call("tips", "add_message", g.officer, tip_id, body())


@blp.route("/tips/<tip_id>/reveal", methods=["POST"])
@blp.arguments(Reveal)
@blp.response(200, RevealedIdentity)
@documented(NOT_FOUND, INVALID, problem_doc(503, "The vault key is not configured"))
@blp.doc(summary="Who sent this tip: admin only, with a reason of 10+ characters; audited", **AUTH)
@require("tips.reveal_identity")
def reveal_identity(_, tip_id):
    return call("tips", "reveal_identity", g.officer, tip_id, body())


@blp.route("/tips/<tip_id>/triage", methods=["POST"])
@blp.arguments(TriageCorrection)
@blp.response(200, Tip)
@documented(NOT_FOUND, CONFLICT, INVALID)
@blp.doc(summary="Correct the category, urgency and/or ward triage suggested (the tip keeps its unit; "
                 "the correction becomes a labelled example for retraining)", **AUTH)
@require("tips.handle")
def correct_triage(_, tip_id):
    return call("tips", "correct_triage", g.officer, tip_id, body())


@blp.route("/tips/<tip_id>/acknowledge", methods=["POST"])
@blp.response(200, Tip)
@documented(NOT_FOUND, CONFLICT)
@blp.doc(summary="Take the tip up: it moves to in_progress, which stops its SLA clock (no escalation)", **AUTH)
@require("tips.handle")
def acknowledge_tip(tip_id):
    return call("tips", "acknowledge_tip", g.officer, tip_id)


@blp.route("/tips/<tip_id>/reveals")
@blp.response(200, RevealRecord(many=True))
@documented(NOT_FOUND)
@blp.doc(summary="The reveal audit: every opening of the tipster's identity, oldest first (admins)", **AUTH)
@require("tips.reveal_identity")
def list_reveals(tip_id):
    return call("tips", "list_reveals", g.officer, tip_id)


# --- routing rules -----------------------------------------------------------------------------------

@blp.route("/routing-rules")
@blp.response(200, RoutingTable)
@documented()
@blp.doc(summary="The routing table: category × ward → unit (most specific rule wins; "
                 "without a rule, units' `handles` decide)", **AUTH)
@require("routing.read")
def get_routing_rules():
    return call("tips", "get_routing_rules", g.officer)


@blp.route("/routing-rules", methods=["PUT"])
@blp.arguments(RoutingRules)
@blp.response(200, RoutingTable)
@documented(INVALID)
@blp.doc(summary="Replace the routing table (every row checked against units and wards)", **AUTH)
@require("routing.edit")
def put_routing_rules(_):
    return call("tips", "put_routing_rules", g.officer, body())


# --- FAQ -------------------------------------------------------------------------------------------------

@blp.route("/faq")
@blp.arguments(PageQuery, location="query")
@blp.response(200, list_of(Faq, "FaqList"))
@documented(INVALID)
@blp.doc(summary="The procedures knowledge base", **AUTH)
@require()
def list_faq(query):
    return call("tips", "list_faq", query)


@blp.route("/faq", methods=["POST"])
@blp.arguments(FaqEntry)
@blp.response(201, Faq)
@documented(INVALID, problem_doc(409, "An entry with this id exists"))
@blp.doc(summary="Add an entry", **AUTH)
@require("faq.edit")
def create_faq(_):
    return call("tips", "create_faq", g.officer, body())


@blp.route("/faq/<faq_id>", methods=["PATCH"])
@blp.arguments(FaqPatch)
@blp.response(200, Faq)
@documented(INVALID, problem_doc(404, "No such entry"))
@blp.doc(summary="Edit an entry", **AUTH)
@require("faq.edit")
def update_faq(_, faq_id):
    return call("tips", "update_faq", g.officer, faq_id, body())


# --- reply templates ----------------------------------------------------------------------------------

@blp.route("/reply-templates")
@blp.arguments(ReplyTemplateQuery, location="query")
@blp.response(200, ReplyTemplateList)
@documented(INVALID)
@blp.doc(summary="Reply templates; ?category= gives those offered for a tip of that category (its own, "
                 "then those for every category)", **AUTH)
@require("tips.read")
def list_reply_templates(_):
    return call("tips", "list_reply_templates", g.officer, request.args.to_dict())


@blp.route("/reply-templates", methods=["POST"])
@blp.arguments(ReplyTemplateInput)
@blp.response(201, ReplyTemplate)
@documented(INVALID)
@blp.doc(summary="Add a reply template (category \"*\": offered for every category)", **AUTH)
@require("reply_templates.edit")
def create_reply_template(_):
    return call("tips", "create_reply_template", g.officer, body())


@blp.route("/reply-templates/<template_id>", methods=["PATCH"])
@blp.arguments(ReplyTemplatePatch)
@blp.response(200, ReplyTemplate)
@documented(INVALID, problem_doc(404, "No such template"))
@blp.doc(summary="Edit a reply template", **AUTH)
@require("reply_templates.edit")
def update_reply_template(_, template_id):
    return call("tips", "update_reply_template", g.officer, template_id, body())


@blp.route("/reply-templates/<template_id>", methods=["DELETE"])
@blp.response(204)
@documented(problem_doc(404, "No such template"))
@blp.doc(summary="Delete a reply template", **AUTH)
@require("reply_templates.edit")
def delete_reply_template(template_id):
    call("tips", "delete_reply_template", g.officer, template_id)


# --- stats -------------------------------------------------------------------------------------------------

@blp.route("/stats/tips")
@blp.arguments(StatsQuery, location="query")
@blp.response(200, TipStats)
@documented(INVALID)
@blp.doc(summary="Counts by category, ward, unit, status and week; time to triage, to acknowledge and to "
                 "resolve (seconds)",
         **AUTH)
@require("tips.read")
def tip_stats(_):
    return call("tips", "tip_stats", g.officer, request.args.to_dict())
