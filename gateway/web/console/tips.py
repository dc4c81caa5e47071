"""Tip inbox: triage officers (and the ward police, who see their ward's tips) find what waits.

The inbox pins open emergencies nobody has taken up yet above the list, shows each tip's SLA
countdown (computed here from `sla_due_at`; console-tips.js only ticks it on), and filters as
the tips list RPC does. A tip's page has the text, triage's suggestion and reasons, near
duplicates, the wanted notice it names, FAQ answers, and every action on it. The tipster is an
alias everywhere; only an admin's reveal, with a reason and audited, shows who sent a tip.
"""
import math
from datetime import date, datetime, time, timedelta, timezone

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import get_locale
from werkzeug.routing import BuildError

from contracts.rpc import Conflict, InvalidInput
from contracts.tips import ANY, CATEGORIES, CLOSE_REASONS, SOURCES, STATUSES, URGENCIES, TipQuery
from gateway.rpc import call
from gateway.web import VN_TZ
from gateway.web.console import bp, fan_out, is_htmx, page
from contracts.tips import STATUS_LABELS, WAITING_STATUSES

PAGE_SIZE = 30
PINNED_MAX = 50
FILTERS = ("text", "status", "urgency", "category", "ward", "unit_id", "channel", "from", "to")
FLAGS = ("waiting", "past_sla")
# Closing from the console: a duplicate is closed by merging it into the original.
CLOSE_CHOICES = tuple(r for r in CLOSE_REASONS if r != "duplicate")


# --- what a page shows -------------------------------------------------------------------------------

def duration(seconds):
    """A span as precise as an officer needs it: "12 phút", "3 giờ 5 phút", "20 giờ", "3 ngày"
    (console-tips.js writes the same)."""
    minutes = max(1, math.ceil(abs(seconds) / 60))
    hours = minutes // 60
    if hours < 1:
        return _("%(n)s phút", n=minutes)
    if hours < 6:
        return _("%(h)s giờ %(m)s phút", h=hours, m=minutes % 60) if minutes % 60 else _("%(h)s giờ", h=hours)
    if hours < 48:
        return _("%(h)s giờ", h=hours)
    return _("%(d)s ngày", d=hours // 24)


def sla_clock(tip, now):
    """The SLA countdown of a tip still waiting to be taken up: {due, overdue, text}; None once it is
    acknowledged or closed (its clock stopped) or before triage gave it a deadline."""
    if tip.get("status") not in WAITING_STATUSES or not tip.get("sla_due_at"):
        return None
    due = datetime.fromisoformat(tip["sla_due_at"])
    left = (due - now).total_seconds()
    text = _("còn %(t)s", t=duration(left)) if left >= 0 else _("quá hạn %(t)s", t=duration(left))
    return {"due": tip["sla_due_at"], "overdue": left < 0, "text": text}


def status_label(status):
    """The status as the citizen reads it too (services.tips.domain.STATUS_LABELS)."""
    vi, en = STATUS_LABELS.get(status, (status, status))
    return en if str(get_locale()) == "en" else vi


def post_url(post_id):
    """The posts screen's page for a wanted notice, where this console has one."""
    try:
        return url_for("console.post", post_id=post_id)
    except BuildError:
        return None


def directory():
    """What names units and wards on every tips page (calls for fan_out)."""
    return {"units": ("groups", "list_all_units", ()), "reference": ("groups", "get_reference", ())}


def names_of(found):
    """{unit id: unit}, {ward id: name} from directory()'s results (empty when groups is slow: the
    page then shows ids)."""
    units = {u["id"]: u for u in found.get("units") or ()}
    wards = {w["id"]: w["name"] for w in (found.get("reference") or {}).get("wards", ())}
    return units, wards


def explained(errors):
    """The field errors of a refusal worth showing an officer: those written for people
    ("Tiếng Việt / English"), not the bare codes some carry for API clients."""
    shown = {field: [m for m in messages if isinstance(m, str) and " / " in m]
             for field, messages in (errors or {}).items() if isinstance(messages, list)}
    return {field: messages for field, messages in shown.items() if messages}


def vocabulary():
    return {"categories": CATEGORIES, "urgencies": URGENCIES, "statuses": STATUSES, "sources": SOURCES,
            "close_choices": CLOSE_CHOICES, "any_category": ANY, "status_label": status_label,
            "explained": explained}


# --- the inbox --------------------------------------------------------------------------------------

def local_day(text, field, errors, days_after=0):
    """A day picked in the form (YYYY-MM-DD, Ninh Bình time) as the list's ISO instant."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = [_("Ngày không hợp lệ (năm-tháng-ngày).")]
        return None
    return datetime.combine(day + timedelta(days=days_after), time(), VN_TZ).isoformat()


def list_query(filters):
    """The list RPC's query from the filter form, and the form's errors (the service checks again)."""
    errors = {}
    query = {k: v for k, v in filters.items() if k in FILTERS and k not in ("from", "to")}
    if filters.get("from"):
        query["from"] = local_day(filters["from"], "from", errors)
    if filters.get("to"):  # the whole of the last day
        query["to"] = local_day(filters["to"], "to", errors, days_after=1)
    query.update({flag: "true" for flag in FLAGS if filters.get(flag)})
    errors.update(TipQuery().validate({k: v for k, v in query.items() if k not in errors}))
    return query, errors


@bp.route("/tips")
@page("tips.read")
def tips():
    filters = {k: request.args.get(k, "").strip() for k in FILTERS + FLAGS}
    filters = {k: v for k, v in filters.items() if v}
    cursor = request.args.get("cursor") or None
    query, errors = list_query(filters)
    calls = directory()
    if not errors:
        listing = dict(query, limit=PAGE_SIZE, **({"cursor": cursor} if cursor else {}))
        calls["tips"] = ("tips", "list_tips", (g.officer, listing))
        if not cursor and query.get("urgency", "emergency") == "emergency":
            calls["pinned"] = ("tips", "list_tips", (g.officer, dict(query, urgency="emergency", waiting="true",
                                                                     limit=PINNED_MAX)))
    found = fan_out(calls)
    if not errors and found["tips"] is None:
        found["tips"] = call("tips", "list_tips", g.officer, listing)  # again: raises what went wrong
    now = datetime.now(timezone.utc)
    pinned = (found.get("pinned") or {}).get("items", [])
    pinned_ids = {t["id"] for t in pinned}
    items = [t for t in (found.get("tips") or {}).get("items", []) if t["id"] not in pinned_ids]
    for tip in pinned + items:
        tip["sla"] = sla_clock(tip, now)
    units, wards = names_of(found)
    next_cursor = (found.get("tips") or {}).get("next_cursor")
    return render_template("console/tips.html", items=items, pinned=pinned, filters=filters, errors=errors,
                           units=units, wards=wards, next_cursor=next_cursor, cursor=cursor,
                           pinned_missing="pinned" in calls and found["pinned"] is None,
                           **vocabulary()), 422 if errors else 200


# --- a tip's page ----------------------------------------------------------------------------------

def officer_ids(tip, reveals):
    ids = {e.get("actor") for e in tip.get("audit", ())} | {n.get("author_id") for n in tip.get("notes", ())}
    ids |= {m.get("author_id") for m in tip.get("messages", ())} | {r.get("actor") for r in reveals or ()}
    return sorted(i for i in ids if i and i != "system" and not i.startswith("system:"))


def render_tip(tip_id, status=200, **state):
    """The tip's page (or, for htmx, the part of it the actions replace), with what an action left:
    done (a notice), failed + error + form (the form again, with what was typed), revealed."""
    first = {"tip": ("tips", "get_tip", (g.officer, tip_id))}
    if g.officer.may("tips.reveal_identity"):
        first["reveals"] = ("tips", "list_reveals", (g.officer, tip_id))
    found = fan_out(first)
    tip = found["tip"] or call("tips", "get_tip", g.officer, tip_id)  # again: raises what went wrong
    reveals = found.get("reveals")
    template_query = {"category": tip["category"]} if tip.get("category") else {}
    found.update(fan_out(dict(directory(), templates=("tips", "list_reply_templates", (g.officer, template_query)),
                              names=("groups", "relay_officers", (officer_ids(tip, reveals),)))))
    templates = (found["templates"] or {}).get("items", [])
    officers = (found["names"] or {}).get("officers", {})
    units, wards = names_of(found)
    reply_text = state.pop("reply_text", None)
    if reply_text is None and request.args.get("template"):
        reply_text = next((t["text"] for t in templates if t["id"] == request.args["template"]), None)
    if reply_text is None and request.args.get("faq"):
        reply_text = next((f.get("answer") for f in tip.get("faq_suggestions") or ()
                           if f["faq_id"] == request.args["faq"]), None)
    tip["sla"] = sla_clock(tip, datetime.now(timezone.utc))
    context = dict(tip=tip, reveals=reveals, templates=templates, officers=officers, units=units, wards=wards,
                   reply_text=reply_text or "", done=state.pop("done", request.args.get("done")),
                   wanted_url=post_url(tip["wanted_notice"]["post_id"]) if tip.get("wanted_notice") else None,
                   can_handle=g.officer.may("tips.handle"), can_reveal=g.officer.may("tips.reveal_identity"),
                   **vocabulary(), **state)
    return render_template("console/_tip.html" if is_htmx() else "console/tip.html", **context), status


@bp.route("/tips/<tip_id>")
@page("tips.read")
def tips_detail(tip_id):
    return render_tip(tip_id)


def act(tip_id, section, action):
    """Run an action on the tip; then its page with a notice, or the form again with the refusal."""
    try:
        action()
    except (InvalidInput, Conflict) as exc:
        return render_tip(tip_id, status=exc.status, failed=section, error=exc, form=request.form)
    if is_htmx():
        return render_tip(tip_id, done=section)
    return redirect(url_for("console.tips_detail", tip_id=tip_id, done=section, _anchor=section), 303)


def form_text(name):
    return request.form.get(name, "").strip()


def with_reason(payload):
    """The action's payload with the reason the officer gave (left out when the field is empty)."""
    return dict(payload, reason=form_text("reason")) if form_text("reason") else payload


@bp.route("/tips/<tip_id>/acknowledge", methods=["POST"])
@page("tips.handle")
def tips_acknowledge(tip_id):
    return act(tip_id, "acknowledge", lambda: call("tips", "acknowledge_tip", g.officer, tip_id))


@bp.route("/tips/<tip_id>/triage", methods=["POST"])
@page("tips.handle")
def tips_correct(tip_id):
    """Category, urgency and ward as the officer set them (the ones unchanged are not a correction);
    no ward: the tip happened outside the city's wards."""
    payload = with_reason({"category": form_text("category"), "urgency": form_text("urgency"),
                           "ward": form_text("ward") or None})
    return act(tip_id, "triage", lambda: call("tips", "correct_triage", g.officer, tip_id, payload))


@bp.route("/tips/<tip_id>/assign", methods=["POST"])
@page("tips.handle")
def tips_assign(tip_id):
    payload = with_reason({"unit_id": form_text("unit_id")})
    return act(tip_id, "assign", lambda: call("tips", "assign_tip", g.officer, tip_id, payload))


@bp.route("/tips/<tip_id>/merge", methods=["POST"])
@page("tips.handle")
def tips_merge(tip_id):
    return act(tip_id, "merge", lambda: call("tips", "merge_tip", g.officer, tip_id, {"into": form_text("into")}))


@bp.route("/tips/<tip_id>/reply", methods=["POST"])
@page("tips.handle")
def tips_reply(tip_id):
    return act(tip_id, "reply", lambda: call("tips", "add_message", g.officer, tip_id, {"text": form_text("text")}))


@bp.route("/tips/<tip_id>/note", methods=["POST"])
@page("tips.handle")
def tips_note(tip_id):
    return act(tip_id, "note", lambda: call("tips", "add_message", g.officer, tip_id,
                                            {"text": form_text("text"), "internal": True}))


@bp.route("/tips/<tip_id>/status", methods=["POST"])
@page("tips.handle")
def tips_status(tip_id):
    """Resolve a tip being handled, or close one (unfounded, spam) with its reason."""
    payload = with_reason({"status": form_text("status")})
    return act(tip_id, "status", lambda: call("tips", "change_status", g.officer, tip_id, payload))


@bp.route("/tips/<tip_id>/reveal", methods=["POST"])
@page("tips.reveal_identity")
def tips_reveal(tip_id):
    """Who sent the tip, shown once in this answer (never in a URL, never kept by the page): the
    reason is required and the reveal is in the audit before the identity is read."""
    try:
        revealed = call("tips", "reveal_identity", g.officer, tip_id, {"reason": form_text("reason")})
    except InvalidInput as exc:
        return render_tip(tip_id, status=exc.status, failed="reveal", error=exc, form=request.form)
    return render_tip(tip_id, revealed=revealed, done="reveal")


# --- reply templates (admins) ----------------------------------------------------------------------

@bp.route("/tips/templates")
@page("reply_templates.edit")
def tips_templates(status=200, **state):
    templates = sorted(call("tips", "list_reply_templates", g.officer, {})["items"],
                       key=lambda t: (t["category"] != ANY, t["category"], t["title"].casefold()))
    return render_template("console/tip_templates.html", templates=templates, done=request.args.get("done"),
                           **vocabulary(), **state), status


def edit_template(action, template_id=None):
    try:
        action()
    except InvalidInput as exc:
        return tips_templates(status=exc.status, failed=template_id or "new", error=exc, form=request.form)
    return redirect(url_for("console.tips_templates", done=template_id or "new",
                            _anchor=f"template-{template_id}" if template_id else None), 303)


def template_form():
    return {"category": form_text("category"), "title": form_text("title"), "text": form_text("text")}


@bp.route("/tips/templates", methods=["POST"])
@page("reply_templates.edit")
def tips_template_create():
    return edit_template(lambda: call("tips", "create_reply_template", g.officer, template_form()))


@bp.route("/tips/templates/<template_id>", methods=["POST"])
@page("reply_templates.edit")
def tips_template_update(template_id):
    return edit_template(lambda: call("tips", "update_reply_template", g.officer, template_id, template_form()),
                         template_id)


@bp.route("/tips/templates/<template_id>/delete", methods=["POST"])
@page("reply_templates.edit")
def tips_template_delete(template_id):
    call("tips", "delete_reply_template", g.officer, template_id)
    return redirect(url_for("console.tips_templates", done="deleted"), 303)
