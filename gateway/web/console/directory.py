"""Directory: the units tree, the officers (admins), the channels with their CSV import, and the
subscriptions of my unit.

Lists and changes go through groups, which checks role and unit scope again on every call: a
ward's operator lists only their own units' channels (list_channels scopes by the actor) and
manages only those. The pages offer only what the officer may do.
"""
import csv
import io

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from contracts.events import REGISTRY
from contracts.groups import CHANNEL_TYPES
from contracts.permissions import ROLES
from contracts.posts import KINDS as POST_KINDS
from contracts.rpc import Conflict, InvalidInput
from contracts.tips import CATEGORIES
from gateway.rpc import call
from gateway.web.console import bp, page, render_error
from gateway.web.console import vocabulary as names
from gateway.web.console.stats import csv_download
from contracts.text import fold_for_search

# The screens of the directory, as tabs: (endpoint, label, permission).
TABS = (
    ("console.directory", "Đơn vị", "staff"),
    ("console.directory_channels", "Kênh", "staff"),
    ("console.directory_import", "Nhập kênh từ tệp CSV", "channels.manage"),
    ("console.directory_subscriptions", "Đăng ký sự kiện", "staff"),
    ("console.directory_officers", "Cán bộ", "officers.manage"),
)
CHANNELS_PER_PAGE = 50
OFFICERS_PER_PAGE = 100
CHANNEL_FILTERS = ("type", "ward", "kind", "unit_id", "status")
# Where a subscription may deliver (groups checks it too: domain.SUBSCRIPTION_TARGET_TYPES).
SUBSCRIPTION_TARGETS = ("webhook", "email", "zalo_oa_group", "zalo_group_manual")
SUBSCRIPTION_FILTERS = ("ward", "category", "kind")
EVENT_PATTERNS = ("posts.*", "tips.*") + tuple(sorted({t for t, _ in REGISTRY if t.split(".")[0] in ("posts", "tips")}))
CSV_TEMPLATE = ("name,type,unit_id,kind,ward,external_id,delivery,relay_officer_id,followers,status,credentials_ref\r\n"
                "Nhóm Zalo an toàn trường học – Ninh Khánh #9,zalo_oa_group,ca-ninh-khanh,school_safety,ninh-khanh,"
                "zg2000001,,,120,active,ZALO_OA_TOKEN\r\n"
                "Nhóm Zalo khu trọ – Ninh Khánh #9,zalo_group_manual,ca-ninh-khanh,boarding_house,ninh-khanh,"
                "zg2000002,manual_relay,canbo-ninh-khanh,80,active,\r\n")


def tabs():
    return [(endpoint, label) for endpoint, label, permission in TABS if g.officer.may(permission)]


def render(template, **context):
    return render_template(template, tabs=tabs(), names=names, **context)


def load_directory(*extra):
    """Units, wards and group kinds, the officer's scope, and any extra (key, call) pairs, in
    one round trip."""
    calls = {"units": ("groups", "list_all_units", ()), "reference": ("groups", "get_reference", ()),
             "scope": ("groups", "scope_of", (g.officer,))}
    calls.update(extra)
    d = every_answer(calls)
    units = sorted(d["units"], key=lambda u: fold_for_search(u["name"]))
    d.update(
        units=units,
        units_by_id={u["id"]: u for u in units},
        units_in_scope=[u for u in units if in_scope(d["scope"], u["id"])],
        wards={w["id"]: w["name"] for w in d["reference"].get("wards", [])},
        group_kinds={k["id"]: k["name"] for k in d["reference"].get("group_kinds", [])},
    )
    return d


def every_answer(calls):
    """Several calls at once, for a page that cannot be drawn without any of them: the first
    failure is raised (the console's error handlers show it)."""
    results = current_app.extensions["rpc"].call_many(calls, timeout=current_app.config["RPC_TIMEOUT_SECONDS"])
    for value in results.values():
        if isinstance(value, Exception):
            raise value
    return results


def in_scope(scope, unit_id):
    return scope is None or unit_id in scope


def sees_channels_of(d, unit_id):
    return g.officer.may("channels.read_all") or in_scope(d["scope"], unit_id)


def field_errors(exc):
    """{field: [message]} from a service's InvalidInput or Conflict, nested messages flattened,
    each as the officer reads it."""
    def flat(value):
        if isinstance(value, dict):
            return [m for v in value.values() for m in flat(v)]
        if isinstance(value, (list, tuple)):
            return [m for v in value for m in flat(v)]
        return [names.field_message(str(value))]
    return {field: flat(messages) for field, messages in (exc.errors or {}).items()}


# --- units --------------------------------------------------------------------------------------

@bp.route("/directory", endpoint="directory")
@page()
def directory_units():
    d = load_directory()
    children = {}  # parent id -> [(kind, [units of that kind])], teams before wards before partners
    for kind in names.UNIT_KINDS:
        for unit in d["units"]:
            if unit["kind"] == kind:
                groups = children.setdefault(unit.get("parent_id"), [])
                if not groups or groups[-1][0] != kind:
                    groups.append((kind, []))
                groups[-1][1].append(unit)
    return render("console/directory_units.html", roots=[u for u in d["units"] if not u.get("parent_id")],
                  children=children, wards=d["wards"], my_unit=g.officer.get("unit_id"),
                  sees_channels_of=lambda unit_id: sees_channels_of(d, unit_id))


# --- channels -----------------------------------------------------------------------------------

def channel_query(args):
    query = {key: args[key] for key in CHANNEL_FILTERS if args.get(key)}
    return query


@bp.route("/directory/channels")
@page()
def directory_channels():
    filters = channel_query(request.args)
    query = dict(filters, limit=CHANNELS_PER_PAGE)
    if request.args.get("cursor"):
        query["cursor"] = request.args["cursor"]
    d = load_directory(("channels", ("groups", "list_channels", (g.officer, query))))
    if filters.get("unit_id") and not sees_channels_of(d, filters["unit_id"]):
        # the service narrows the list to the officer's units: an empty list would say that unit has none
        return render_error(403, _("Bạn chỉ xem được kênh của các đơn vị mình phụ trách."))
    return render("console/directory_channels.html", channels=d["channels"]["items"],
                  next_cursor=d["channels"]["next_cursor"], filters=filters, d=d,
                  first_page=not request.args.get("cursor"), may_manage=g.officer.may("channels.manage"),
                  many_units=g.officer.may("channels.read_all") or len(d["units_in_scope"]) > 1,
                  sees_all=g.officer.may("channels.read_all"), channel_types=CHANNEL_TYPES)


def channel_form_values(form, editing=False):
    """The channel the form describes, as groups' ChannelInput / ChannelPatch takes it."""
    values = {"name": form.get("name", "").strip()}
    for key in ("kind", "ward", "relay_officer_id", "credentials_ref"):
        values[key] = form.get(key, "").strip() or None
    followers = form.get("followers", "").strip()
    if followers:
        values["followers"] = followers  # the schema says whether it is a number
    if editing:
        if form.get("status") in ("active", "inactive"):
            values["status"] = form["status"]
    else:
        for key in ("type", "unit_id", "external_id"):
            values[key] = form.get(key, "").strip()
    return values


def relay_officers(d):
    """The unit operators of the units in scope: who may run an ordinary Zalo group by hand."""
    found = call("groups", "relay_officers", [], [u["id"] for u in d["units_in_scope"]])
    return sorted(found["officers"].values(), key=lambda o: o["username"])


@bp.route("/directory/channels/new", methods=["GET", "POST"])
@page("channels.manage")
def directory_channel_new():
    d = load_directory()
    values, errors, status = {"type": "zalo_oa_group", "unit_id": g.officer.get("unit_id")}, {}, 200
    if request.method == "POST":
        values = channel_form_values(request.form)
        try:
            channel = call("groups", "create_channel", g.officer, values)
        except (InvalidInput, Conflict) as exc:
            errors, status = field_errors(exc), 422
            errors.setdefault("_detail", [exc.detail])
        else:
            return redirect(url_for("console.directory_channels", unit_id=channel["unit_id"], saved=channel["id"]))
    return render("console/directory_channel_form.html", d=d, values=values, errors=errors, channel=None,
                  officers=relay_officers(d), channel_types=CHANNEL_TYPES), status


@bp.route("/directory/channels/<channel_id>", methods=["GET", "POST"])
@page("channels.manage")
def directory_channel_edit(channel_id):
    d = load_directory(("channel", ("groups", "get_channel", (channel_id,))))
    channel = d["channel"]
    if not in_scope(d["scope"], channel["unit_id"]):
        return render_error(403, _("Kênh này thuộc đơn vị khác: bạn chỉ quản lý kênh của đơn vị mình."))
    values, errors, status = dict(channel), {}, 200
    if request.method == "POST":
        changes = channel_form_values(request.form, editing=True)
        try:
            if request.form.get("action") == "deactivate":
                call("groups", "deactivate_channel", g.officer, channel_id)
            else:
                call("groups", "update_channel", g.officer, channel_id, changes)
        except InvalidInput as exc:
            values, errors, status = dict(channel, **changes), field_errors(exc), 422
            errors.setdefault("_detail", [exc.detail])
        else:
            return redirect(url_for("console.directory_channels", unit_id=channel["unit_id"], saved=channel_id))
    return render("console/directory_channel_form.html", d=d, values=values, errors=errors, channel=channel,
                  officers=relay_officers(d), channel_types=CHANNEL_TYPES), status


# --- CSV import ---------------------------------------------------------------------------------

def uploaded_csv():
    """The CSV text of the upload (or of the checked file sent back to import its good rows).
    Returns (text, problem)."""
    upload = request.files.get("file")
    if upload and upload.filename:
        data = upload.read()
    else:
        data = request.form.get("csv", "").encode("utf-8")
    if not data.strip():
        return None, _("Chọn một tệp CSV để nhập.")
    try:
        return data.decode("utf-8-sig"), None  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        return None, _("Tệp không phải CSV mã UTF-8. Trong Excel, chọn Lưu thành › «CSV UTF-8 (phân cách bằng dấu phẩy)».")


def bad_rows(errors, text):
    """[{line, problems: [(column, message)], content}] for the table of rows that cannot be imported."""
    lines = text.splitlines()
    rows = []
    for row in errors:
        problems = [(column, message) for column, messages in field_errors(InvalidInput("", row["errors"])).items()
                    for message in messages]
        line = row["line"]
        rows.append({"line": line, "problems": problems,
                     "content": lines[line - 1] if isinstance(line, int) and 0 < line <= len(lines) else ""})
    return rows


def data_row_count(text):
    try:
        return sum(1 for _ in csv.DictReader(io.StringIO(text)))
    except csv.Error:
        return None


@bp.route("/directory/import", methods=["GET", "POST"])
@page("channels.manage")
def directory_import():
    # the codes the file may use, listed under the form: an operator knows names, not codes
    d = load_directory()
    context = {"report": None, "rows": [], "problem": None, "csv_text": None, "good": 0, "filename": None,
               "d": d, "officers": relay_officers(d)}
    status = 200
    if request.method == "POST":
        text, problem = uploaded_csv()
        upload = request.files.get("file")
        context["filename"] = (upload.filename if upload and upload.filename else request.form.get("filename"))
        partial = request.form.get("partial") == "1"
        if problem:
            context["problem"], status = problem, 422
        else:
            try:
                report = call("groups", "import_channels", g.officer, text, "text/csv", partial)
            except InvalidInput as exc:
                status = 422
                if "rows" in exc.errors:
                    context["rows"] = bad_rows(exc.errors["rows"], text)
                    total = data_row_count(text)
                    context["good"] = max(0, total - len(context["rows"])) if total is not None else 0
                    context["csv_text"] = text
                else:
                    context["problem"] = exc.detail
                    context["problem_fields"] = field_errors(exc)
            else:
                context["report"] = report
                context["rows"] = bad_rows(report["errors"], text)
    return render("console/directory_import.html", **context), status


@bp.route("/directory/import/kenh-mau.csv")
@page("channels.manage")
def directory_import_template():
    return csv_download(CSV_TEMPLATE, "kenh-mau.csv")


# --- subscriptions ------------------------------------------------------------------------------

def subscriptions_page(values=None, errors=None, status=200):
    """The subscriptions of one unit of the officer's scope (their own unit first), with the
    form to add one when they may."""
    def unit_calls(unit_id):
        return (("subscriptions", ("groups", "list_subscriptions", ({"unit_id": unit_id, "limit": 500},))),
                ("targets", ("groups", "list_channels", (g.officer, {"unit_id": unit_id, "limit": 500,
                                                                     "types": list(SUBSCRIPTION_TARGETS)}))))
    unit_id = request.values.get("unit_id") or g.officer.get("unit_id")
    # one round trip when the unit is known; an admin without a unit starts at the root
    d = load_directory(*unit_calls(unit_id)) if unit_id else load_directory()
    choices = [u for u in d["units_in_scope"] if u.get("active", True)]
    if not unit_id:
        unit_id = next((u["id"] for u in choices if not u.get("parent_id")), None)
        if unit_id:
            d.update(every_answer(dict(unit_calls(unit_id))))
    if unit_id is None or not in_scope(d["scope"], unit_id) or unit_id not in d["units_by_id"]:
        return render_error(403, _("Bạn chỉ xem được đăng ký sự kiện của các đơn vị mình phụ trách."))
    targets = d["targets"]["items"]
    return render("console/directory_subscriptions.html", d=d, choices=choices, unit_id=unit_id,
                  subscriptions=d["subscriptions"]["items"], targets={c["id"]: c for c in targets},
                  active_targets=[c for c in targets if c["status"] == "active"],
                  may_manage=g.officer.may("subscriptions.manage"), values=values or {}, errors=errors or {},
                  patterns=EVENT_PATTERNS, categories=CATEGORIES, post_kinds=POST_KINDS), status


@bp.route("/directory/subscriptions")
@page()
def directory_subscriptions():
    return subscriptions_page()


@bp.route("/directory/subscriptions", methods=["POST"])
@page("subscriptions.manage")
def directory_subscription_create():
    unit_id = request.form.get("unit_id", "")
    values = {key: request.form.get(key, "").strip() for key in ("event_pattern", "target_channel_id")}
    filters = {key: request.form.get(f"filter_{key}", "").strip() for key in SUBSCRIPTION_FILTERS}
    try:
        call("groups", "create_subscription", g.officer,
             dict(values, unit_id=unit_id, filters={k: v for k, v in filters.items() if v}))
    except InvalidInput as exc:
        errors = field_errors(exc)
        errors.setdefault("_detail", [exc.detail])
        return subscriptions_page(dict(values, filters=filters), errors, 422)
    return redirect(url_for("console.directory_subscriptions", unit_id=unit_id, saved="1"))


@bp.route("/directory/subscriptions/<subscription_id>/delete", methods=["POST"])
@page("subscriptions.manage")
def directory_subscription_delete(subscription_id):
    call("groups", "delete_subscription", g.officer, subscription_id)
    return redirect(url_for("console.directory_subscriptions", unit_id=request.form.get("unit_id"), deleted="1"))


# --- officers (admins) --------------------------------------------------------------------------

def officers_page(values=None, errors=None, status=200):
    query = {"limit": OFFICERS_PER_PAGE}
    if request.args.get("cursor"):
        query["cursor"] = request.args["cursor"]
    d = load_directory(("officers", ("groups", "list_officers", (g.officer, query))))
    return render("console/directory_officers.html", d=d, officers=d["officers"]["items"],
                  next_cursor=d["officers"]["next_cursor"], first_page="cursor" not in query,
                  values=values or {"roles": []}, errors=errors or {}, roles=ROLES), status


@bp.route("/directory/officers")
@page("officers.manage")
def directory_officers():
    return officers_page()


@bp.route("/directory/officers", methods=["POST"])
@page("officers.manage")
def directory_officer_create():
    values = {"username": request.form.get("username", "").strip(),
              "full_name": request.form.get("full_name", "").strip() or None,
              "password": request.form.get("password", ""),
              "roles": request.form.getlist("roles"),
              "unit_id": request.form.get("unit_id") or None}
    try:
        officer = call("groups", "create_officer", g.officer, values)
    except (InvalidInput, Conflict) as exc:
        errors = field_errors(exc)
        errors.setdefault("_detail", [exc.detail])
        values.pop("password")  # never sent back to the browser
        return officers_page(values, errors, 422)
    return redirect(url_for("console.directory_officers", created=officer["username"]))
