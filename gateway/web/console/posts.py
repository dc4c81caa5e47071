"""Posts: the admin board's queue, a post's page and the editor.

The queue lists posts by status with the API's filters and cursor. A post's page shows what
each channel type of its audience would show (the posts domain's rendering and limits, the
part a platform would cut marked), the audience count per type, the approvals (k of n), the
history with officers' names, and the actions the post's `allowed_actions` offer. The
editor writes and changes posts with the post's version (a stale copy is refused, and the
editor is shown what changed meanwhile), counts characters per channel as one types
(console-posts.js; the server counts the same way on the preview) and builds the audience
with a live count from groups.

Every rule is the services': views call the same RPCs as the API with `g.officer`.
"""
import base64
import json
import re
from datetime import date, datetime, time, timedelta
from difflib import SequenceMatcher

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from contracts.groups import CHANNEL_TYPES as DIRECTORY_CHANNEL_TYPES
from contracts.posts import (AUDIENCE_LISTS, CHANNEL_TYPES, KINDS, MEDIA_KEYS, OUTCOMES, STATUSES, TITLE_MAX,
                             WANTED_FIELDS, WANTED_KINDS)
from contracts.rpc import Conflict, InvalidInput
from gateway.api.media import media_max_bytes
from gateway.rpc import call
from gateway.web import VN_TZ
from gateway.web.console import bp, is_htmx, page

PAGE_SIZE = 25
AUDIENCE_SHOWN = 30          # channels listed under the live audience count
PICKER_SHOWN = 200           # channels a search in the single-channel picker lists
# Per-type variants the editor offers, in the order the domain looks for a family's variant.
OVERRIDE_TYPES = tuple(t for t in CHANNEL_TYPES if t in DIRECTORY_CHANNEL_TYPES)
# Each status's place in the queue's tabs: the board starts with what waits for it, writers
# with their drafts and rejected posts.
BOARD_TABS = ("in_review", "approved", "scheduled", "published", "draft", "rejected", "retracted", "archived")
WRITER_TABS = ("draft", "rejected", "in_review", "approved", "scheduled", "published", "retracted", "archived")
EDIT_FIELD = re.compile(r"changed: ([a-z_, ]+)$")
EDITOR_ENDPOINTS = ("console.new_post", "console.edit_post")


# --- calling the services ----------------------------------------------------------------------

def gather(calls, optional=()):
    """Several calls at once. A page cannot be shown without its required answers: their
    error is raised (and rendered by the blueprint); an optional one that failed is None."""
    results = current_app.extensions["rpc"].call_many(calls, timeout=current_app.config["RPC_TIMEOUT_SECONDS"])
    for key, value in results.items():
        if isinstance(value, Exception) and key not in optional:
            raise value
    return {key: (None if isinstance(value, Exception) else value) for key, value in results.items()}


def names_call(officer_ids):
    """The call naming these officers ({officers: {id: {username, full_name}}}), or None."""
    ids = sorted({i for i in officer_ids if i and not str(i).startswith("system:")})
    return ("groups", "relay_officers", (ids, [])) if ids else None


def officers_of(result):
    return (result or {}).get("officers") or {}


@bp.url_value_preprocessor
def allow_uploads(endpoint, values):
    """The editor's form carries media files: let its requests be as large as an upload may be.
    Set here because the CSRF check reads the form before any view runs."""
    if endpoint in EDITOR_ENDPOINTS and request.method == "POST":
        request.max_content_length = media_max_bytes()


# --- the queue ----------------------------------------------------------------------------------

def default_status(officer):
    if officer.may("posts.moderate"):
        return "in_review"
    if officer.may("posts.write"):
        return "draft"
    return "all"


def vn_day_start(value, days_after=0):
    """'2026-10-01' -> the aware start of that day (or of a later one) in Vietnam, ISO 8601."""
    day = date.fromisoformat(value) + timedelta(days=days_after)
    return datetime.combine(day, time(0), VN_TZ).isoformat()


def unit_tree(units):
    """Units in tree order with their depth (for indented lists)."""
    children = {}
    for unit in units or []:
        children.setdefault(unit.get("parent_id"), []).append(unit)
    ordered, ids = [], {u["id"] for u in units or []}

    def walk(parent, depth):
        for unit in sorted(children.get(parent, []), key=lambda u: (u.get("kind") == "partner", u["name"])):
            ordered.append(dict(unit, depth=depth))
            walk(unit["id"], depth + 1)
    walk(None, 0)
    # units whose parent is unknown still show, at the top level
    for parent in children:
        if parent is not None and parent not in ids:
            walk(parent, 0)
    return ordered


@bp.route("/posts")
@page()
def posts():
    args = request.args
    status = args.get("status") or default_status(g.officer)
    query, problems = {"limit": PAGE_SIZE}, {}
    if status != "all":
        query["status"] = status
    for key in ("kind", "unit", "q"):
        if args.get(key, "").strip():
            query[key] = args[key].strip()
    if args.get("mine"):
        query["author"] = g.officer["id"]
    elif args.get("author"):
        query["author"] = args["author"]
    for field, key, days_after in (("from", "created_from", 0), ("to", "created_to", 1)):
        if args.get(field):
            try:
                query[key] = vn_day_start(args[field], days_after)
            except ValueError:
                problems[field] = _("Ngày không hợp lệ.")
    if args.get("cursor"):
        query["cursor"] = args["cursor"]
    found = gather({"posts": ("posts", "list_posts", (query,)), "units": ("groups", "list_all_units", ())},
                   optional=("units",))
    items = found["posts"]["items"]
    authors = names_call(p.get("author") for p in items)
    names = officers_of(gather({"names": authors}, optional=("names",))["names"]) if authors else {}
    tabs = BOARD_TABS if g.officer.may("posts.moderate") else WRITER_TABS
    filters = {k: v for k, v in args.items() if k not in ("cursor", "status") and v}
    return render_template("console/posts.html", items=items, next_cursor=found["posts"]["next_cursor"],
                           status=status, tabs=tabs + ("all",), filters=filters, problems=problems,
                           units={u["id"]: u for u in found["units"] or []}, unit_tree=unit_tree(found["units"]),
                           names=names, kinds=KINDS)


# --- a post's page --------------------------------------------------------------------------------

def preview_groups(post, by_type):
    """One preview per distinct text of a channel family: the two Zalo group types usually show
    the same message once, with both counts."""
    groups = {}
    types = [t for t in sorted(by_type, key=lambda t: CHANNEL_TYPES.index(t) if t in CHANNEL_TYPES else 99)
             if by_type[t]]
    saved = {key: post.get(key) for key in ("title", "body", "channel_overrides", "media")}
    _post, previews, _problem = preview_post(post["kind"], saved, types) if types else (None, [], None)
    for channel_type, preview in zip(types, previews):
        key = (preview["family"], preview["text"], preview["title"])
        group = groups.setdefault(key, dict(preview, types=[]))
        group["types"].append((channel_type, by_type[channel_type]))
    return list(groups.values())


def edit_fields(reason):
    """The fields an edit changed, from its history reason ("... changed: body, audience")."""
    match = EDIT_FIELD.search(reason or "")
    return [f.strip() for f in match.group(1).split(",")] if match else []


CHECKED_STATES = ("draft", "in_review", "rejected")  # where the channel check before approval is shown


def channel_problems(refusal, check):
    """([(channel type or "audience", reason)], ids of the channels to leave out): from an
    approval's refusal, else from the same check asked before approving."""
    if refusal is not None:
        problems = [(key, reason) for key, reasons in refusal.errors.items() if key != "exclude_channels"
                    for reason in (reasons if isinstance(reasons, list) else [reasons])]
        return problems, refusal.errors.get("exclude_channels") or []
    if check:
        return [(p["channel_type"] or "audience", p["reason"]) for p in check["problems"]], check["exclude_channels"]
    return [], []


def render_post(post_id, status=200, **extra):
    """The post's page; `extra` carries what an action left to say (a refusal, a notice)."""
    found = gather({"post": ("posts", "get_post", (g.officer, post_id)), "history": ("posts", "history", (post_id,)),
                    "check": ("posts", "check_channels", (post_id,)), "units": ("groups", "list_all_units", ())},
                   optional=("check", "units"))
    post, history = found["post"], found["history"]
    people = [e.get("actor") for e in history] + [a["by"] for a in post.get("approvals", [])] + [post.get("author")]
    if post.get("resolution"):
        people.append(post["resolution"].get("by"))
    names_found = gather({"names": names_call(people)}, optional=("names",)) if names_call(people) else {}
    sent = post["status"] in ("published", "retracted") or (post["status"] == "archived" and post.get("published_at"))
    check = found["check"] if not sent else None
    by_type = (post.get("audience_by_type") if sent or check is None else check["audience_by_type"]) or {}
    problems, unfit = channel_problems(extra.get("refusal"), check if post["status"] in CHECKED_STATES else None)
    return render_template(
        "console/post.html", post=post, history=history, check=check, by_type=by_type,
        audience_count=sum(by_type.values()), previews=preview_groups(post, by_type),
        names=officers_of(names_found.get("names")), units={u["id"]: u for u in found["units"] or []},
        problems=problems, unfit=unfit, problem_types={key for key, _reason in problems}, actions=set(post.get("allowed_actions", [])), edit_fields=edit_fields, done=request.args.get("done"),
        outcomes=OUTCOMES, channel_types=DIRECTORY_CHANNEL_TYPES, now_local=datetime.now(VN_TZ), **extra), status


@bp.route("/posts/<post_id>")
@page()
def post(post_id):
    return render_post(post_id)


def vn_datetime(value):
    """A datetime-local value ("2026-11-01T08:30"), read as Vietnam's time, as aware ISO 8601."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput("Chọn ngày và giờ đăng / choose the date and time", {"publish_at": ["invalid"]})
    return moment.replace(tzinfo=VN_TZ).isoformat() if moment.tzinfo is None else moment.isoformat()


def form_reason(form):
    return {"reason": form.get("reason", "")}


def form_schedule(form):
    return {"publish_at": vn_datetime(form.get("publish_at"))}


def form_resolve(form):
    payload = {"outcome": form.get("outcome", ""), "create_follow_up": form.get("create_follow_up") == "1"}
    if form.get("learned_via"):
        payload["learned_via"] = form["learned_via"]
    return payload


# action -> (permission, what the form carries besides the version)
ACTIONS = {
    "submit": ("posts.write", None), "approve": ("posts.moderate", None), "reject": ("posts.moderate", form_reason),
    "schedule": ("posts.moderate", form_schedule), "publish": ("posts.moderate", None),
    "retract": ("posts.moderate", form_reason), "resolve": ("posts.moderate", form_resolve),
    "archive": ("posts.archive", None),
}


def form_version(form):
    value = form.get("version", "")
    return int(value) if value.isdigit() else None


def take_action(post_id, action, payload):
    """Do it and come back to the post; a refusal is shown on the post's page, beside the form."""
    version = form_version(request.form)
    if version is not None:
        payload = dict(payload, expected_version=version)
    try:
        result = call("posts", action, g.officer, post_id, payload)
    except InvalidInput as exc:
        if any(key in exc.errors for key in CHANNEL_TYPES + ("audience", "exclude_channels")):
            return render_post(post_id, 422, refusal=exc)  # the channels cannot take it: say which, offer the fix
        return render_post(post_id, 422, action_error=(action, exc))
    except Conflict as exc:
        return render_post(post_id, 409, conflict=exc)
    follow_up = (result.get("follow_up") or {}).get("id") if action == "resolve" else None
    return redirect(url_for("console.post", post_id=post_id, done=action, follow_up=follow_up))


def action_view(action, permission, read_form):
    def view(post_id):
        try:
            payload = read_form(request.form) if read_form else {}
        except InvalidInput as exc:
            return render_post(post_id, 422, action_error=(action, exc))
        return take_action(post_id, action, payload)
    view.__name__ = f"post_{action}"
    bp.route(f"/posts/<post_id>/{action}", methods=["POST"], endpoint=f"post_{action}")(page(permission)(view))


for _action, (_permission, _read_form) in ACTIONS.items():
    action_view(_action, _permission, _read_form)


@bp.route("/posts/<post_id>/exclude-channels", methods=["POST"])
@page("posts.write")
def exclude_unfit_channels(post_id):
    """The one-click fix of a refused approval: leave the channels that cannot take the post
    out of its audience (an edit with the version the page showed)."""
    current = call("posts", "get_post", g.officer, post_id)
    audience = dict(current.get("audience") or {})
    excluded = list(dict.fromkeys((audience.get("exclude_channels") or []) + request.form.getlist("channel")))
    audience["exclude_channels"] = excluded
    try:
        call("posts", "edit_post", g.officer, post_id, {"audience": audience}, form_version(request.form))
    except Conflict as exc:
        return render_post(post_id, 409, conflict=exc)
    return redirect(url_for("console.post", post_id=post_id, done="exclude"))


# --- the editor -----------------------------------------------------------------------------------

def audience_from(form):
    audience = {"include_descendants": form.get("include_descendants") == "1"}
    for key in AUDIENCE_LISTS:
        values = [v for v in dict.fromkeys(form.getlist(key)) if v]
        if values:
            audience[key] = values
    return audience


def same_order(new, old):
    """Keep the stored order of a list the form sends back unchanged (no edit for nothing)."""
    if not old:
        return new
    kept = dict(new)
    for key in AUDIENCE_LISTS:
        if key in new and key in old and set(new[key]) == set(old[key]):
            kept[key] = old[key]
    return kept


def wanted_from(form):
    wanted = {}
    for key in WANTED_FIELDS:
        value = form.get(f"w_{key}", "").strip()
        if value:
            wanted[key] = int(value) if key == "birth_year" and value.isdigit() else value
    return wanted


def media_from(form):
    """The media the form keeps (hidden JSON references), minus those marked for removal."""
    removed = set(form.getlist("remove_media"))
    media = []
    for raw in form.getlist("media"):
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict) and item.get("media_id") and item["media_id"] not in removed:
            media.append({k: item.get(k) for k in MEDIA_KEYS})
    return media


def content_from(form, kind):
    """The post's content as the form has it (no upload yet): what the editor shows and sends."""
    content = {"title": form.get("title", ""), "channel_overrides": {
        t: form.get(f"override_{t}", "") for t in OVERRIDE_TYPES if form.get(f"override_{t}", "").strip()},
        "media": media_from(form), "audience": audience_from(form)}
    wanted = wanted_from(form) if kind in WANTED_KINDS else {}
    if kind == "wanted_notice" or wanted:
        content["wanted"] = wanted
    else:
        content["body"] = form.get("body", "")
        if kind in WANTED_KINDS:
            content["wanted"] = None
    return content


def preview_post(kind, content, channel_types=()):
    """(post-shaped content, per-channel previews, the wanted fields' problem or None), as the
    posts service renders them (a wanted notice's body made from its fields, as saving would)."""
    found = call("posts", "preview", kind, content, list(channel_types))
    return found["post"], found["previews"], found["wanted_problem"]


def upload_from(files):
    """The file chosen in the form, stored by the posts service (its checks: type, size, bytes)."""
    upload = files.get("upload")
    if upload is None or not upload.filename:
        return None
    data = upload.read()
    return call("posts", "store_media", g.officer, upload.filename, upload.mimetype, base64.b64encode(data).decode())


def flat_errors(errors, prefix=""):
    """{"wanted": {"birth_year": [..]}} -> {"wanted.birth_year": [..]} (nested marshmallow errors)."""
    flat = {}
    for key, value in (errors or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_errors(value, f"{name}."))
        else:
            flat[name] = value if isinstance(value, list) else [value]
    return flat


def editor_reference():
    found = gather({"units": ("groups", "list_all_units", ()), "reference": ("groups", "get_reference", ())})
    return {"unit_tree": unit_tree(found["units"]), "units": {u["id"]: u for u in found["units"]},
            "wards": found["reference"].get("wards", []), "group_kinds": found["reference"].get("group_kinds", [])}


def audience_view(audience):
    """The live count: {count, by_type, channels (the first few), truncated, excluded: [channels]}."""
    calls = {"resolved": ("groups", "resolve_audience", (audience, AUDIENCE_SHOWN))}
    excluded = audience.get("exclude_channels") or []
    listed = audience.get("channels") or []
    if excluded or listed:  # their names, resolved on their own
        calls["named"] = ("groups", "resolve_audience", ({"channels": sorted(set(excluded) | set(listed))}, None))
    found = gather(calls, optional=("named",))
    named = {c["id"]: c for c in (found.get("named") or {}).get("channels") or []}
    result = dict(found["resolved"])
    result["excluded"] = [named.get(i, {"id": i, "name": i, "type": ""}) for i in excluded]
    result["listed"] = [named.get(i, {"id": i, "name": i, "type": ""}) for i in listed]
    return result


def render_editor(kind, content, post=None, status=200, errors=None, conflict=None, picked=None, upload_error=None,
                  base=None):
    """The editor. `base`: the content this copy started from (kept in the form, so a stale save
    can be merged with what others changed meanwhile): the post as loaded, or what the form kept."""
    reference = editor_reference()
    if base is None:
        base = base_from(request.form) if request.method == "POST" else (content_of(post) if post else None)
    preview, counts, wanted_problem = preview_post(kind, content, OVERRIDE_TYPES)
    return render_template(
        "console/post_editor.html", kind=kind, content=content, post=post, errors=flat_errors(errors),
        error_detail=errors and errors.get("_detail"), conflict=conflict, counts=counts, preview=preview,
        wanted_problem=wanted_problem, audience=audience_view(content["audience"]), picked=picked,
        override_types=OVERRIDE_TYPES, kinds=KINDS, wanted_kinds=WANTED_KINDS, title_max=TITLE_MAX,
        directory_types=DIRECTORY_CHANNEL_TYPES, wanted_fields=WANTED_FIELDS, upload_error=upload_error,
        images=[m for m in content["media"] if str(m.get("content_type", "")).startswith("image/")], edit_fields=edit_fields,
        base=base,
        **reference), status


def picker_results(args):
    """Channels of one type (and ward) to add one by one to an audience."""
    query = {"limit": PICKER_SHOWN, "status": "active"}
    if args.get("picker_type") in DIRECTORY_CHANNEL_TYPES:
        query["type"] = args["picker_type"]
    if args.get("picker_ward"):
        query["ward"] = args["picker_ward"]
    if "type" not in query and "ward" not in query:
        return None
    return call("groups", "list_channels", g.officer, query)["items"]


EMPTY = {"title": "", "body": "", "channel_overrides": {}, "media": [], "wanted": None,
         "audience": {"include_descendants": True}}


@bp.route("/posts/new", methods=["GET", "POST"])
@page("posts.write")
def new_post():
    kind = request.values.get("kind") if request.values.get("kind") in KINDS else "news"
    if request.method == "GET":
        return render_editor(kind, dict(EMPTY, wanted={} if kind == "wanted_notice" else None))
    content = content_from(request.form, kind)
    if request.form.get("intent") == "refresh":
        return render_editor(kind, content, picked=picker_results(request.form))
    try:
        uploaded = upload_from(request.files)
    except InvalidInput as exc:
        return render_editor(kind, content, status=422, upload_error=exc)
    if uploaded:
        content["media"].append({k: uploaded[k] for k in MEDIA_KEYS})
    payload = dict(content, kind=kind)
    if g.officer.is_admin and request.form.get("unit"):
        payload["unit"] = request.form["unit"]
    try:
        created = call("posts", "create_post", g.officer, payload)
    except InvalidInput as exc:
        return render_editor(kind, content, status=422, errors=dict(exc.errors, _detail=exc.detail))
    if request.form.get("intent") == "submit":
        try:
            call("posts", "submit", g.officer, created["id"], {"expected_version": created["version"]})
        except InvalidInput as exc:  # saved, but not complete enough for the board: say what is missing
            return render_editor(kind, content_of(created), post=created, status=422,
                                 errors=dict(exc.errors, _detail=exc.detail), base=content_of(created))
        return redirect(url_for("console.post", post_id=created["id"], done="submit"))
    return redirect(url_for("console.post", post_id=created["id"], done="create"))


def content_of(post):
    return {"title": post["title"], "body": post.get("body", ""), "channel_overrides": post.get("channel_overrides") or {},
            "media": post.get("media") or [], "wanted": post.get("wanted") if post["kind"] in WANTED_KINDS else None,
            "audience": post.get("audience") or {"include_descendants": True}}


MERGED_FIELDS = ("title", "body", "channel_overrides", "wanted", "media", "audience")


def comparable(field, value):
    """A field's value as two copies of a post are compared (order and blanks do not count)."""
    if field in ("title", "body"):
        return (value or "").strip()
    if field == "channel_overrides":
        return {k: v.strip() for k, v in (value or {}).items() if v and v.strip()}
    if field == "wanted":
        return {k: str(v) for k, v in (value or {}).items() if v not in (None, "")}
    if field == "media":
        return [m.get("media_id") for m in value or []]
    return {k: sorted(v) if isinstance(v, list) else v for k, v in (value or {}).items()}


def base_from(form):
    """The content the editor's copy started from (kept in the form), or None."""
    try:
        base = json.loads(form.get("base") or "null")
    except ValueError:
        return None
    return base if isinstance(base, dict) else None


def merge_stale(base, mine, theirs):
    """Three-way merge of a stale edit, field by field: (merged content, [(field, who)]) where
    who is "theirs" (only the other person changed it: their value is taken), or "both" (both
    changed it differently: the editor's is kept and shown against theirs). Without the base
    every differing field counts as changed by both."""
    merged, fields = dict(mine), []
    for field in MERGED_FIELDS:
        if field not in mine:  # not part of this kind's form (a wanted notice's body is made from its fields)
            continue
        a, b = comparable(field, mine.get(field)), comparable(field, theirs.get(field))
        if a == b:
            continue
        base_value = comparable(field, base.get(field)) if base is not None and field in base else None
        if base is not None and a == base_value:
            merged[field] = theirs.get(field)
            fields.append((field, "theirs"))
        elif base is None or b != base_value:
            fields.append((field, "both"))
    return merged, fields


def conflict_view(post_id, seen_version, mine, current, base):
    """What changed while the editor had an old copy: the history since their version, and the
    fields merged (the other person's changes taken where the editor left the field alone) or
    in conflict (both changed it: their text against the one saved now)."""
    history = call("posts", "history", post_id, seen_version) if seen_version else []
    names_needed = names_call(e.get("actor") for e in history)
    names = officers_of(gather({"names": names_needed}, optional=("names",))["names"]) if names_needed else {}
    theirs = content_of(current)
    merged, fields = merge_stale(base, mine, theirs)
    shown = []
    for field, who in fields:
        if who == "both" and field in ("title", "body"):
            shown.append((field, None, who) + word_diff(mine[field], theirs.get(field) or ""))
        elif who == "both" and field == "channel_overrides":
            for channel_type in OVERRIDE_TYPES:
                a, b = mine[field].get(channel_type, ""), theirs[field].get(channel_type, "")
                if a.strip() != b.strip():
                    shown.append((field, channel_type, who) + word_diff(a, b))
        else:
            shown.append((field, None, who, None, None))
    return merged, {"seen_version": seen_version, "current": current, "history": history, "names": names,
                    "fields": shown, "editable": "edit" in current.get("allowed_actions", [])}


TOKEN = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")  # words with the spaces after them: changed runs read as one
DIFF_TOKENS_MAX = 20000


def word_diff(mine, theirs):
    """(mine, theirs) as HTML with the words only one of them has marked."""
    a, b = TOKEN.findall(mine or ""), TOKEN.findall(theirs or "")
    if len(a) + len(b) > DIFF_TOKENS_MAX:  # too long to compare word by word: shown whole
        return escape(mine or ""), escape(theirs or "")
    left, right = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(escape("".join(a[i1:i2])))
            right.append(escape("".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(Markup('<mark class="diff">%s</mark>') % "".join(a[i1:i2]))
        if j2 > j1:
            right.append(Markup('<mark class="diff">%s</mark>') % "".join(b[j1:j2]))
    return Markup("").join(left), Markup("").join(right)


@bp.route("/posts/<post_id>/edit", methods=["GET", "POST"])
@page("posts.write")
def edit_post(post_id):
    current = call("posts", "get_post", g.officer, post_id)
    kind = current["kind"]
    if request.method == "GET":
        return render_editor(kind, content_of(current), post=current)
    content = content_from(request.form, kind)
    content["audience"] = same_order(content["audience"], current.get("audience"))
    seen = form_version(request.form)
    shown = dict(current, version=seen or current["version"])  # the form keeps the version it was loaded at
    if request.form.get("intent") == "refresh":
        return render_editor(kind, content, post=shown, picked=picker_results(request.form))
    try:
        uploaded = upload_from(request.files)
    except InvalidInput as exc:
        return render_editor(kind, content, post=shown, status=422, upload_error=exc)
    if uploaded:
        content["media"].append({k: uploaded[k] for k in MEDIA_KEYS})
    try:
        saved = call("posts", "edit_post", g.officer, post_id, content, seen)
        if request.form.get("intent") == "submit" and "submit" in saved.get("allowed_actions", []):
            saved = call("posts", "submit", g.officer, post_id, {"expected_version": saved["version"]})
    except Conflict as exc:
        latest = call("posts", "get_post", g.officer, post_id)
        merged, conflict = conflict_view(post_id, seen, content, latest, base_from(request.form))
        return render_editor(kind, merged, post=latest, status=409, conflict=dict(conflict, detail=exc.detail),
                             base=content_of(latest))
    except InvalidInput as exc:
        latest = call("posts", "get_post", g.officer, post_id)
        return render_editor(kind, content, post=latest if latest["version"] != current["version"] else shown,
                             status=422, errors=dict(exc.errors, _detail=exc.detail))
    done = "submit" if saved["status"] == "in_review" and request.form.get("intent") == "submit" else "edit"
    return redirect(url_for("console.post", post_id=post_id, done=done))


# --- the editor's live parts (htmx fragments) --------------------------------------------------------

@bp.route("/posts/audience-count", methods=["POST"])
@page("posts.write")
def audience_count():
    return render_template("console/_audience_count.html", audience=audience_view(audience_from(request.form)))


@bp.route("/posts/channel-picker")
@page("posts.write")
def channel_picker():
    return render_template("console/_channel_picker.html", picked=picker_results(request.args) or [])


@bp.route("/posts/wanted-preview", methods=["POST"])
@page("posts.write")
def wanted_preview():
    kind = request.form.get("kind") if request.form.get("kind") in WANTED_KINDS else "wanted_notice"
    preview, _counts, problem = preview_post(kind, content_from(request.form, kind))
    return render_template("console/_wanted_body.html", preview=preview, wanted_problem=problem)
