"""Posts: pure rules (no I/O): the post lifecycle, four-eyes moderation, per-channel
checks, wanted-person notices, the delivery summary and search tokens.

A post is a plain dict as stored. Every operation takes `(post, actor, now, ...)`, never
mutates its input and returns a new dict; `actor` is `{id, username, roles, unit_id}`
and `now` a timezone-aware datetime (stored as UTC).

Errors (contracts.rpc, args `(detail, errors)`), in the order they are checked:
  Forbidden   403  the actor's roles do not allow the action (auditor, wrong unit,
                   approving a post one wrote or edited)
  Conflict    409  `expected_version` differs from the post's version (errors["version"])
                   or the action is not possible in the post's current state
                   (errors["status"]): both mean "reload the post and look again"
  InvalidInput 422 the input is wrong: missing reason, publish_at naive or in the past,
                   text too long or with control characters, channel problems at approval
"""
import copy
import uuid
from datetime import date, datetime, timedelta, timezone

from contracts.posts import (  # noqa: F401  (the vocabulary is part of the contract)
    AUDIENCE_LISTS, BODY_MAX, CHANNEL_FAMILY, CHANNEL_TYPES, FACEBOOK_MAX, KINDS, MEDIA_KEYS, OUTCOMES, STATUSES,
    TITLE_MAX, WANTED_FIELDS, WANTED_KINDS,
    YOUTUBE_DESCRIPTION_MAX_BYTES, YOUTUBE_TITLE_MAX, ZALO_MAX, clean_text, text_problem,
)
from contracts.notify import STILL_OUT_COUNTERS, SUMMARY_COUNTERS
from contracts.permissions import Actor, refusal
from contracts.rpc import Conflict, Forbidden, InvalidInput
from contracts.text import normalise, search_tokens

# --- vocabulary ----------------------------------------------------------------------

# The board's default: how many distinct moderators must approve a post of each kind.
DEFAULT_REQUIRED_APPROVALS = {"wanted_notice": 2}

# Vietnam has no daylight saving: a fixed offset needs no tz database.
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

# Publishes scheduled posts when they fall due.
SCHEDULER_ACTOR = {"id": "system:scheduler", "username": "scheduler", "roles": ["moderator"],
                   "unit_id": None}

# --- the state machine, as data -------------------------------------------------------

WRITE, MODERATE, ARCHIVE = "posts.write", "posts.moderate", "posts.archive"

# (state, action) -> (new state, permission needed; contracts/permissions.py). `approve`
# reaches "approved" only with enough distinct approvals; until then the post stays in_review
# with approvals recorded. Editing in_review/approved/scheduled clears approvals (and any
# schedule): the board must see the content it approves.
TRANSITIONS = {
    (None, "create"): ("draft", WRITE),
    ("draft", "edit"): ("draft", WRITE),
    ("rejected", "edit"): ("draft", WRITE),
    ("in_review", "edit"): ("in_review", WRITE),
    ("approved", "edit"): ("in_review", WRITE),
    ("scheduled", "edit"): ("in_review", WRITE),
    ("draft", "submit"): ("in_review", WRITE),
    ("rejected", "submit"): ("in_review", WRITE),
    ("in_review", "approve"): ("approved", MODERATE),
    ("in_review", "reject"): ("rejected", MODERATE),
    ("approved", "reject"): ("rejected", MODERATE),
    ("scheduled", "reject"): ("rejected", MODERATE),
    ("approved", "schedule"): ("scheduled", MODERATE),
    ("scheduled", "schedule"): ("scheduled", MODERATE),      # move the time
    ("approved", "publish"): ("published", MODERATE),
    ("scheduled", "publish"): ("published", MODERATE),       # due, or "publish now"
    ("published", "retract"): ("retracted", MODERATE),
    ("published", "resolve"): ("retracted", MODERATE),
    ("draft", "archive"): ("archived", ARCHIVE),
    ("rejected", "archive"): ("archived", ARCHIVE),
    # A published post is retracted (taken down from the channels) before it is archived:
    # an archived notice must not still be live in hundreds of Zalo groups.
    ("retracted", "archive"): ("archived", MODERATE),
}

ACTIONS = ("edit", "submit", "approve", "reject", "schedule", "publish", "retract", "resolve",
           "archive")

# Every permission that allows the action in some state (to answer 403 before 409), the
# first one met in the table first (the one a refusal names).
ACTION_PERMISSIONS = {}
for (_state, _action), (_to, _permission) in TRANSITIONS.items():
    ACTION_PERMISSIONS.setdefault(_action, {})[_permission] = None

STATUS_LABELS = {
    "draft": "bản nháp", "in_review": "đang chờ duyệt", "approved": "đã duyệt",
    "scheduled": "đã hẹn giờ đăng", "published": "đã đăng", "retracted": "đã gỡ",
    "rejected": "bị từ chối", "archived": "đã lưu trữ",
}
ACTION_LABELS = {
    "create": "tạo", "edit": "sửa", "submit": "gửi duyệt", "approve": "duyệt",
    "reject": "từ chối", "schedule": "hẹn giờ đăng", "publish": "đăng", "retract": "gỡ",
    "resolve": "kết thúc truy nã", "archive": "lưu trữ",
}


def _text(field, value, max_length, multiline=True, required=False):
    problem = text_problem(value, max_length, multiline)
    if problem:
        raise InvalidInput(f"{field}: {problem}", {field: [problem]})
    value = clean_text(value)
    value = value.strip() if not multiline else value.rstrip()
    if required and not value.strip():
        message = "Không được để trống / must not be empty"
        raise InvalidInput(f"{field}: {message}", {field: [message]})
    return value


# --- small helpers --------------------------------------------------------------------

def _aware(field, value):
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        message = "Thời điểm phải có múi giờ / must be a timezone-aware datetime"
        raise InvalidInput(f"{field}: {message}", {field: [message]})
    return value.astimezone(timezone.utc)


def _entry(now, actor, action, from_state, to_state, reason=None):
    return {"at": now.astimezone(timezone.utc), "actor": actor["id"], "action": action, "from": from_state,
            "to": to_state, "reason": reason}


def _moved(post, actor, now, action, to_state, reason=None):
    """The new post: version + 1 and one history entry appended (never rewritten)."""
    new = copy.deepcopy(post)
    new["status"] = to_state
    new["version"] = post["version"] + 1
    new["updated_at"] = now
    new["history"] = copy.deepcopy(post.get("history", [])) + [
        _entry(now, actor, action, post["status"], to_state, reason)]
    return new


def _reason(reason):
    if reason is None or not str(reason).strip():
        message = "Cần nêu lý do / a reason is required"
        raise InvalidInput(message, {"reason": [message]})
    return _text("reason", reason, 2000, required=True)


def history_since(history, version):
    """The history entries made after `version`: every change bumps the version by one and
    appends exactly one entry (create: version 1, one entry), so the entries after version v
    are those from index v on. What an editor with a stale copy missed."""
    return list(history[max(0, int(version)):])


def content_authors(post):
    """Who wrote the content now under review: the author and anyone who edited it."""
    names = {post.get("author")}
    names.update(e["actor"] for e in post.get("history", []) if e.get("action") in ("create", "edit"))
    return names


def _authorise(post, actor, action):
    """Role, version-independent checks: 403 when this actor may never do this here."""
    actor = Actor.of(actor)
    if not any(actor.may(p) for p in ACTION_PERMISSIONS[action]):
        raise Forbidden(f"Không có quyền {ACTION_LABELS[action]} bài viết / your roles do not allow "
                        f"'{action}'. " + refusal(next(iter(ACTION_PERMISSIONS[action])), actor.roles),
                        {"roles": [action]})
    step = TRANSITIONS.get((post["status"], action))
    if step is None:
        return None  # state is wrong: a 409, reported after the version check
    if not actor.may(step[1]):
        raise Forbidden(f"Không có quyền {ACTION_LABELS[action]} bài viết "
                        f"{STATUS_LABELS[post['status']]} / your roles do not allow "
                        f"'{action}' on a {post['status']} post. " + refusal(step[1], actor.roles),
                        {"roles": [action]})
    # Writers act for their own unit; the board and admins for every unit.
    unit_bound = step[1] == WRITE or (step[1] == ARCHIVE and not actor.may(MODERATE))
    if unit_bound and not actor.is_admin and (
            not actor.get("unit_id") or actor.get("unit_id") != post.get("unit")):
        raise Forbidden("Bài viết của đơn vị khác / the post belongs to another unit",
                        {"unit": ["other unit"]})
    if action == "approve" and actor["id"] in content_authors(post):
        raise Forbidden("Không được tự duyệt bài mình viết hoặc đã sửa: cần một thành viên Ban kiểm duyệt "
                        "khác duyệt (nguyên tắc bốn mắt) / you cannot approve a post you wrote or edited: "
                        "another moderator must approve it (four eyes)", {"approver": ["own post"]})
    return step


def _begin(post, actor, now, action, expected_version):
    """The checks every transition shares; returns the state to move to."""
    step = _authorise(post, actor, action)
    if expected_version is not None and expected_version != post["version"]:
        raise Conflict(f"Bài viết đã thay đổi (phiên bản {post['version']}), hãy tải lại / "
                       f"the post changed (version {post['version']}, you sent {expected_version}); "
                       "reload it", {"version": [f"expected {expected_version}, is {post['version']}"]})
    if step is None and action == "publish" and post["status"] == "in_review":
        have, needed = len({a["by"] for a in post.get("approvals", [])}), required_approvals(post["kind"])
        raise Conflict(f"Bài cần {needed} lượt duyệt của Ban kiểm duyệt trước khi đăng, mới có {have} / "
                       f"the post needs {needed} approvals before it is published, it has {have}",
                       {"status": [post["status"]], "approvals": [f"{have}/{needed}"]})
    if step is None:
        raise Conflict(f"Không thể {ACTION_LABELS[action]} bài viết "
                       f"{STATUS_LABELS[post['status']]} / cannot {action} a {post['status']} post",
                       {"status": [post["status"]]})
    return step[0]


def allowed_actions(post, actor):
    """The actions this actor may take on this post now (for the UI's buttons)."""
    result = []
    approvers = {a["by"] for a in post.get("approvals", [])}
    for action in ACTIONS:
        if action == "approve" and actor.get("id") in approvers:
            continue  # approving twice counts once: nothing to offer
        try:
            if _authorise(post, actor, action) is not None:
                result.append(action)
        except Forbidden:
            pass
    return result


# --- wanted-person notices -------------------------------------------------------------

# What a wanted notice cannot go out without (a surrender appeal needs only the name).
WANTED_NOTICE_REQUIRED = ("full_name", "birth_year", "hometown", "charge", "warrant_number",
                          "warrant_date", "issuing_authority")


def _one_line(value):
    return " ".join(normalise(str(value)).split())


def _date_iso(value):
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InvalidInput("Ngày không hợp lệ / invalid date", {"wanted.warrant_date": ["YYYY-MM-DD"]})


def clean_wanted(kind, wanted, now):
    """Wanted fields as stored: trimmed one-line strings, the warrant date as YYYY-MM-DD."""
    if not isinstance(wanted, dict):
        raise InvalidInput("Thông tin truy nã không hợp lệ / invalid wanted fields", {"wanted": ["object"]})
    unknown = set(wanted) - set(WANTED_FIELDS)
    if unknown:
        raise InvalidInput("Trường không xác định / unknown fields", {f"wanted.{k}": ["unknown"] for k in unknown})
    clean = {}
    for key in WANTED_FIELDS:
        value = wanted.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            clean[key] = None
        elif key == "birth_year":
            if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= now.year:
                raise InvalidInput("Năm sinh không hợp lệ / invalid birth year",
                                   {"wanted.birth_year": [f"1900..{now.year}"]})
            clean[key] = value
        elif key == "warrant_date":
            clean[key] = _date_iso(value)
        else:
            limit = 2000 if key == "description" else 300
            clean[key] = _one_line(_text(f"wanted.{key}", value, limit))
    required = WANTED_NOTICE_REQUIRED if kind == "wanted_notice" else ("full_name",)
    missing = [k for k in required if clean[k] is None]
    if missing:
        raise InvalidInput("Thiếu thông tin truy nã / wanted fields missing",
                           {f"wanted.{k}": ["Bắt buộc / required"] for k in missing})
    return clean


def _vn_date(iso):
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def render_wanted_notice(wanted):
    """The body of a wanted notice: the same fields always give the same text."""
    name = wanted["full_name"]
    lines = [
        "THÔNG BÁO TRUY NÃ",
        f"Họ và tên: {name}",
        f"Sinh năm: {wanted['birth_year']}",
        f"Quê quán: {wanted['hometown']}",
        f"Tội danh: {wanted['charge']}",
        f"Quyết định truy nã số {wanted['warrant_number']} ngày {_vn_date(wanted['warrant_date'])} "
        f"của {wanted['issuing_authority'].rstrip('.')}.",
    ]
    if wanted.get("description"):
        lines.append(f"Đặc điểm nhận dạng: {wanted['description']}")
    lines.append(f"Ai biết tin tức về đối tượng {name} đề nghị báo ngay cho cơ quan Công an "
                 "gần nhất hoặc gọi 113.")
    return "\n".join(lines)


def render_surrender_appeal(wanted):
    """The body of a surrender appeal made from wanted fields (only the name is required)."""
    name = wanted["full_name"]
    lines = ["THƯ KÊU GỌI ĐẦU THÚ", f"Họ và tên: {name}"]
    if wanted.get("birth_year"):
        lines.append(f"Sinh năm: {wanted['birth_year']}")
    if wanted.get("hometown"):
        lines.append(f"Quê quán: {wanted['hometown']}")
    if wanted.get("charge"):
        lines.append(f"Tội danh: {wanted['charge']}")
    if wanted.get("warrant_number"):
        line = f"Quyết định truy nã số {wanted['warrant_number']}"
        if wanted.get("warrant_date"):
            line += f" ngày {_vn_date(wanted['warrant_date'])}"
        if wanted.get("issuing_authority"):
            line += f" của {wanted['issuing_authority'].rstrip('.')}"
        lines.append(line + ".")
    if wanted.get("description"):
        lines.append(f"Đặc điểm nhận dạng: {wanted['description']}")
    lines.append(f"Cơ quan Công an kêu gọi đối tượng {name} sớm ra đầu thú để được hưởng chính "
                 "sách khoan hồng của pháp luật. Gia đình, người thân và ai biết tin tức về đối "
                 "tượng đề nghị động viên đối tượng ra đầu thú hoặc báo ngay cho cơ quan Công an "
                 "gần nhất, gọi 113.")
    return "\n".join(lines)


def render_wanted_body(kind, wanted):
    return render_wanted_notice(wanted) if kind == "wanted_notice" else render_surrender_appeal(wanted)


# --- content: create and edit ----------------------------------------------------------

EDITABLE = ("title", "body", "media", "audience", "channel_overrides", "wanted")


def clean_media(media):
    if not isinstance(media, list):
        raise InvalidInput("Tệp đính kèm không hợp lệ / media must be a list", {"media": ["list"]})
    clean, seen = [], set()
    for i, item in enumerate(media):
        if not isinstance(item, dict) or not isinstance(item.get("media_id"), str) or not item["media_id"]:
            raise InvalidInput("Tệp đính kèm không hợp lệ / invalid media item", {f"media.{i}": ["media_id"]})
        if item["media_id"] in seen:
            raise InvalidInput("Tệp đính kèm bị trùng / duplicate media item", {f"media.{i}": ["duplicate"]})
        seen.add(item["media_id"])
        clean.append({k: item.get(k) for k in MEDIA_KEYS})
    return clean


def clean_audience(audience):
    """The audience spec as stored (groups resolves it): include_descendants defaults to true."""
    audience = dict(audience or {})
    unknown = set(audience) - set(AUDIENCE_LISTS) - {"include_descendants"}
    if unknown:
        raise InvalidInput("Trường không xác định / unknown fields", {f"audience.{k}": ["unknown"] for k in unknown})
    clean = {"include_descendants": bool(audience.get("include_descendants", True))}
    for key in AUDIENCE_LISTS:
        if audience.get(key) is not None:
            if not isinstance(audience[key], list):
                raise InvalidInput("Phải là danh sách / must be a list", {f"audience.{key}": ["list"]})
            clean[key] = list(dict.fromkeys(audience[key]))  # de-duplicated, order kept
    return clean


def clean_overrides(overrides):
    clean = {}
    for channel_type, text in (overrides or {}).items():
        if channel_type not in CHANNEL_TYPES:
            raise InvalidInput("Loại kênh không xác định / unknown channel type",
                               {f"channel_overrides.{channel_type}": ["unknown channel type"]})
        clean[channel_type] = _text(f"channel_overrides.{channel_type}", text, BODY_MAX, required=True)
    return clean


def _apply_content(post, changes, now):
    """Clean and apply content fields; re-render the body of a post with wanted fields."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput("Trường không sửa được / fields cannot be changed",
                           {k: ["Không sửa được / not editable"] for k in sorted(unknown)})
    if "title" in changes:
        post["title"] = _text("title", changes["title"], TITLE_MAX, multiline=False, required=True)
    if "body" in changes:
        post["body"] = _text("body", changes["body"] or "", BODY_MAX)
    if "media" in changes:
        post["media"] = clean_media(changes["media"] or [])
    if "audience" in changes:
        post["audience"] = clean_audience(changes["audience"])
    if "channel_overrides" in changes:
        post["channel_overrides"] = clean_overrides(changes["channel_overrides"])
    if "wanted" in changes:
        if changes["wanted"] is None:
            if post["kind"] == "wanted_notice":
                raise InvalidInput("Thông báo truy nã cần thông tin đối tượng / a wanted notice "
                                   "needs the wanted fields", {"wanted": ["required"]})
            post["wanted"] = None
        elif post["kind"] not in WANTED_KINDS:
            raise InvalidInput("Chỉ thông báo truy nã hoặc kêu gọi đầu thú có thông tin truy nã / "
                               "only wanted notices and surrender appeals have wanted fields",
                               {"wanted": ["not for this kind"]})
        else:
            post["wanted"] = clean_wanted(post["kind"], changes["wanted"], now)
    if post.get("wanted"):
        # The body is rendered from the fields: a typed body would be overwritten.
        if changes.get("body"):
            raise InvalidInput("Nội dung được tạo từ thông tin truy nã, không nhập tay / the body "
                               "is rendered from the wanted fields", {"body": ["rendered"]})
        post["body"] = render_wanted_body(post["kind"], post["wanted"])
        photo = post["wanted"].get("photo_media_id")
        if photo and photo not in {m["media_id"] for m in post["media"]}:
            raise InvalidInput("Ảnh đối tượng phải nằm trong tệp đính kèm / the photo must be one "
                               "of the post's media", {"wanted.photo_media_id": ["not in media"]})
    if len(post["body"]) > BODY_MAX:
        raise InvalidInput(f"Nội dung dài quá {BODY_MAX} ký tự / body longer than {BODY_MAX}",
                           {"body": ["too long"]})
    return post


def create_draft(actor, now, data, post_id=None):
    """A new draft. data: {kind, title, body?, media?, audience?, channel_overrides?,
    wanted?, unit?}. An editor writes for their own unit; an admin for any unit."""
    now = _aware("now", now)
    actor = Actor.of(actor)
    if not actor.may(WRITE):
        raise Forbidden("Không có quyền viết bài / your roles do not allow writing posts. "
                        + refusal(WRITE, actor.roles), {"roles": ["create"]})
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in KINDS:
        raise InvalidInput("Loại bài viết không hợp lệ / invalid kind", {"kind": [f"one of {', '.join(KINDS)}"]})
    unit = data.pop("unit", None) or actor.get("unit_id")
    if not actor.is_admin and unit != actor.get("unit_id"):
        raise Forbidden("Chỉ viết bài cho đơn vị mình / you write for your own unit only",
                        {"unit": ["other unit"]})
    if not unit:
        raise InvalidInput("Cần chọn đơn vị / a unit is required", {"unit": ["required"]})
    if kind == "wanted_notice" and not data.get("wanted"):
        raise InvalidInput("Thông báo truy nã cần thông tin đối tượng / a wanted notice needs "
                           "the wanted fields", {"wanted": ["required"]})
    if "title" not in data:
        raise InvalidInput("Cần tiêu đề / a title is required", {"title": ["required"]})
    post = {
        "id": post_id or uuid.uuid4().hex,
        "kind": kind, "title": "", "body": "", "media": [], "audience": clean_audience({}),
        "channel_overrides": {}, "wanted": None,
        "author": actor["id"], "unit": unit,
        "status": "draft", "version": 1, "publish_at": None,
        "approvals": [], "created_at": now, "updated_at": now,
        "published_at": None, "publication_id": None,
        "rejection_reason": None, "retraction_reason": None, "resolution": None,
        "follow_up_of": None,
        "history": [_entry(now, actor, "create", None, "draft")],
    }
    return _apply_content(post, data, now)


def edit(post, actor, now, changes, expected_version=None):
    """Change content. Editing an approved or scheduled post sends it back to review and
    clears approvals and schedule; a rejected post becomes a draft again. No real change
    returns the post as it was (no new version)."""
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "edit", expected_version)
    new = _apply_content(copy.deepcopy(post), dict(changes), now)
    changed = [k for k in EDITABLE if new.get(k) != post.get(k)]
    if not changed:
        return copy.deepcopy(post)
    reason = "sửa / changed: " + ", ".join(changed)
    if post["status"] in ("approved", "scheduled"):
        reason = "Sửa sau khi duyệt, cần duyệt lại / edited after approval, back to review; " + reason
    moved = _moved(new, actor, now, "edit", to_state, reason)
    moved["approvals"] = []
    moved["publish_at"] = None if post["status"] == "scheduled" else moved.get("publish_at")
    return moved


# --- moderation ------------------------------------------------------------------------

def submission_problems(post):
    """What a post lacks before the board can look at it: {field: [message]}."""
    errors = {}
    if not post.get("title", "").strip():
        errors["title"] = ["Cần tiêu đề / a title is required"]
    if not post.get("body", "").strip():
        errors["body"] = ["Cần nội dung / a body is required"]
    if post["kind"] == "wanted_notice" and not post.get("wanted"):
        errors["wanted"] = ["Cần thông tin truy nã / the wanted fields are required"]
    if post["kind"] == "video" and not _has_video(post):
        errors["media"] = ["Bài video cần một tệp video / a video post needs a video file"]
    return errors


def submit(post, actor, now, expected_version=None):
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "submit", expected_version)
    errors = submission_problems(post)
    if errors:
        raise InvalidInput("Bài viết chưa đủ nội dung để gửi duyệt / the post is incomplete", errors)
    new = _moved(post, actor, now, "submit", to_state)
    new["approvals"] = []
    new["rejection_reason"] = None
    return new


def required_approvals(kind, policy=None):
    """Distinct approvals a post of this kind needs: the board's policy, else the default
    (wanted_notice 2, others 1). Never fewer than one: nothing skips the board."""
    policy = DEFAULT_REQUIRED_APPROVALS if policy is None else policy
    return max(1, int(policy.get(kind, DEFAULT_REQUIRED_APPROVALS.get(kind, 1))))


def approve(post, actor, now, audience_summary, expected_version=None, policy=None):
    """Record one moderator's approval; the post becomes `approved` once it has
    `required_approvals(kind, policy)` distinct approvers. The same moderator approving
    again counts once (the post is returned unchanged). Refused with InvalidInput when
    `channel_problems(post, audience_summary)` finds any."""
    now = _aware("now", now)   # stored as UTC
    _begin(post, actor, now, "approve", expected_version)
    problems = channel_problems(post, audience_summary)
    if problems:
        errors = {}
        for problem in problems:
            errors.setdefault(problem["channel_type"] or "audience", []).append(problem["reason"])
        unfit = unfit_channels(problems, audience_summary)
        if unfit:  # the one-click fix: leave these out of the audience
            errors["exclude_channels"] = unfit
        raise InvalidInput("Bài viết chưa phù hợp với các kênh nhận / the post does not fit "
                           "its channels: " + "; ".join(p["reason"] for p in problems), errors)
    approvers = [a["by"] for a in post.get("approvals", [])]
    if actor["id"] in approvers:
        return copy.deepcopy(post)
    needed = required_approvals(post["kind"], policy)
    count = len(set(approvers)) + 1
    to_state = "approved" if count >= needed else "in_review"
    new = _moved(post, actor, now, "approve", to_state, f"{count}/{needed}")
    new["approvals"] = copy.deepcopy(post.get("approvals", [])) + [{"by": actor["id"], "at": now}]
    return new


def reject(post, actor, now, reason, expected_version=None):
    """Back to the author with a reason; they edit (it becomes a draft) and resubmit."""
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "reject", expected_version)
    reason = _reason(reason)
    new = _moved(post, actor, now, "reject", to_state, reason)
    new["approvals"] = []
    new["publish_at"] = None
    new["rejection_reason"] = reason
    return new


def schedule(post, actor, now, publish_at, expected_version=None):
    """approved (or scheduled, to move the time) -> scheduled at an aware, future time."""
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "schedule", expected_version)
    publish_at = _aware("publish_at", publish_at)
    if publish_at <= now:
        message = "Thời điểm đăng đã qua / publish_at is in the past"
        raise InvalidInput(message, {"publish_at": [message]})
    new = _moved(post, actor, now, "schedule", to_state, publish_at.isoformat())
    new["publish_at"] = publish_at
    return new


def due(post, now):
    """True when a scheduled post should be published now."""
    return (post.get("status") == "scheduled" and post.get("publish_at") is not None
            and _aware("publish_at", post["publish_at"]) <= _aware("now", now))


def publish(post, actor, now, expected_version=None):
    """approved/scheduled -> published (a scheduled post may be published early by the
    board). Returns (post, snapshot): the snapshot is the posts.published event data."""
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "publish", expected_version)
    new = _moved(post, actor, now, "publish", to_state)
    new["publication_id"] = uuid.uuid4().hex
    new["published_at"] = now.astimezone(timezone.utc)
    snapshot = {
        "post_id": new["id"], "publication_id": new["publication_id"], "kind": new["kind"],
        "title": new["title"], "body": new["body"],
        "channel_overrides": copy.deepcopy(new["channel_overrides"]),
        "media": copy.deepcopy(new["media"]), "audience": copy.deepcopy(new["audience"]),
        "unit": new["unit"], "published_at": new["published_at"], "version": new["version"],
    }
    return new, snapshot


def retract(post, actor, now, reason, expected_version=None):
    """published -> retracted (notify takes it down from the channels)."""
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "retract", expected_version)
    reason = _reason(reason)
    new = _moved(post, actor, now, "retract", to_state, reason)
    new["retraction_reason"] = reason
    return new


def archive(post, actor, now, expected_version=None):
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "archive", expected_version)
    return _moved(post, actor, now, "archive", to_state)


# --- wanted person found ---------------------------------------------------------------

OUTCOME_LABELS = {
    "surrendered": ("đã ra đầu thú", "surrendered"),
    "arrested": ("đã bị bắt", "arrested"),
    "withdrawn": ("quyết định truy nã đã được đình nã / huỷ", "warrant withdrawn"),
}


def resolve(post, actor, now, outcome, learned_via_channel_type=None, create_follow_up=True,
            expected_version=None, follow_up_id=None):
    """A published wanted notice (or surrender appeal) whose person surrendered, was
    arrested, or whose warrant was withdrawn: record the outcome (and the channel through
    which the person learned of the notice, when known), retract it, and return
    (post, follow_up) where follow_up is a news DRAFT by the actor for the board to
    approve (None for withdrawn or when not asked for)."""
    now = _aware("now", now)   # stored as UTC
    to_state = _begin(post, actor, now, "resolve", expected_version)
    if post["kind"] not in WANTED_KINDS:
        raise InvalidInput("Chỉ áp dụng cho thông báo truy nã hoặc kêu gọi đầu thú / only for "
                           "wanted notices and surrender appeals", {"kind": [post["kind"]]})
    if outcome not in OUTCOMES:
        raise InvalidInput("Kết quả không hợp lệ / invalid outcome", {"outcome": [f"one of {', '.join(OUTCOMES)}"]})
    if learned_via_channel_type is not None and learned_via_channel_type not in CHANNEL_TYPES:
        raise InvalidInput("Loại kênh không xác định / unknown channel type",
                           {"learned_via_channel_type": ["unknown channel type"]})
    vi, en = OUTCOME_LABELS[outcome]
    follow_up = None
    if create_follow_up and outcome != "withdrawn":
        follow_up = _follow_up_draft(post, actor, now, outcome, follow_up_id)
    new = _moved(post, actor, now, "resolve", to_state, f"Đối tượng {vi} / {en}")
    new["retraction_reason"] = f"Đối tượng {vi} / {en}"
    new["resolution"] = {
        "outcome": outcome, "at": now, "by": actor["id"],
        "learned_via_channel_type": learned_via_channel_type,
        "follow_up_post_id": follow_up["id"] if follow_up else None,
    }
    return new, follow_up


def _follow_up_draft(post, actor, now, outcome, follow_up_id):
    wanted = post.get("wanted") or {}
    name = wanted.get("full_name") or post["title"]
    vi = OUTCOME_LABELS[outcome][0]
    day = now.astimezone(VN_TZ).strftime("%d/%m/%Y")
    who = f"đối tượng {name}"
    if wanted.get("birth_year"):
        who += f", sinh năm {wanted['birth_year']}"
    if wanted.get("hometown"):
        who += f", quê quán {wanted['hometown']}"
    sentence = f"Ngày {day}, {who}"
    if wanted.get("charge"):
        sentence += f", bị truy nã về tội {wanted['charge']}"
    if wanted.get("warrant_number"):
        sentence += f" theo Quyết định truy nã số {wanted['warrant_number']}"
    sentence += f", {vi}."
    body = (f"{sentence}\nThông báo truy nã trước đây về đối tượng này đã được gỡ bỏ. "
            "Cơ quan Công an cảm ơn nhân dân đã quan tâm, phối hợp cung cấp thông tin.")
    # The author is the actor, who did not write the notice and now writes this draft:
    # four-eyes still applies, another moderator approves it.
    follow_up = {
        "id": follow_up_id or uuid.uuid4().hex,
        "kind": "news", "title": f"THÔNG BÁO: đối tượng {name} {vi}"[:TITLE_MAX], "body": body,
        "media": [], "audience": copy.deepcopy(post.get("audience") or clean_audience({})),
        "channel_overrides": {}, "wanted": None,
        "author": actor["id"], "unit": post["unit"],
        "status": "draft", "version": 1, "publish_at": None,
        "approvals": [], "created_at": now, "updated_at": now,
        "published_at": None, "publication_id": None,
        "rejection_reason": None, "retraction_reason": None, "resolution": None,
        "follow_up_of": post["id"],
        "history": [_entry(now, actor, "create", None, "draft", f"Tin tiếp theo của {post['id']} / "
                                                                 f"follow-up of {post['id']}")],
    }
    return follow_up


# --- channels ----------------------------------------------------------------------------

def _has_video(post):
    return any(str(m.get("content_type") or "").startswith("video/") for m in post.get("media", []))


def _override(post, channel_type):
    """The text variant for this channel type; one written for the other Zalo type serves
    too (the board writes one short Zalo text, not one per Zalo type)."""
    overrides = post.get("channel_overrides") or {}
    if overrides.get(channel_type):
        return overrides[channel_type]
    family = CHANNEL_FAMILY.get(channel_type)
    for other in CHANNEL_TYPES:
        if CHANNEL_FAMILY[other] == family and overrides.get(other):
            return overrides[other]
    return None


def render_for_channel(post, channel_type):
    """{text, title, link?}: the channel's variant if given, else title and body."""
    text = _override(post, channel_type)
    if text is None:
        text = f"{post['title']}\n\n{post['body']}" if post.get("body") else post["title"]
    rendered = {"text": text, "title": post["title"]}
    if post.get("link"):
        rendered["link"] = post["link"]
    return rendered


# The text each platform takes: (largest size, unit). Other channel types (e-mail, webhooks,
# manual relay) take any text up to BODY_MAX.
TEXT_LIMITS = {"zalo": (ZALO_MAX, "characters"), "facebook": (FACEBOOK_MAX, "characters"),
               "youtube": (YOUTUBE_DESCRIPTION_MAX_BYTES, "bytes")}


def text_size(text, unit):
    return len(text.encode("utf-8")) if unit == "bytes" else len(text)


def kept_characters(text, limit, unit):
    """How many characters of `text` fit in `limit` (characters, or UTF-8 bytes)."""
    if unit != "bytes":
        return min(len(text), limit)
    size = 0
    for i, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > limit:
            return i
    return len(text)


def channel_preview(post, channel_type):
    """What one channel type would show: {channel_type, family, text, title, size, limit, unit,
    kept, over, title_limit, title_over}. `kept` characters of the text fit; the rest would be
    cut (the board sees it marked). limit None: no limit we know of."""
    rendered = render_for_channel(post, channel_type)
    family = CHANNEL_FAMILY.get(channel_type, channel_type)
    limit, unit = TEXT_LIMITS.get(family, (None, "characters"))
    text = rendered["text"]
    size = text_size(text, unit)
    title_limit = YOUTUBE_TITLE_MAX if family == "youtube" else None
    return {"channel_type": channel_type, "family": family, "text": text, "title": rendered["title"],
            "size": size, "limit": limit, "unit": unit,
            "kept": kept_characters(text, limit, unit) if limit is not None else len(text),
            "over": limit is not None and size > limit,
            "title_limit": title_limit, "title_over": title_limit is not None and len(rendered["title"]) > title_limit}


def preview(kind, content, channel_types, now):
    """What unsaved (or saved) content would look like on each of `channel_types`: {post (the
    post-shaped content, a wanted notice's body rendered from its fields as saving would),
    previews: [channel_preview], wanted_problem: {detail, errors} saying why the wanted fields
    cannot make a body yet, or None}."""
    body, wanted_problem = content.get("body") or "", None
    if content.get("wanted"):
        try:
            body = render_wanted_body(kind, clean_wanted(kind, content["wanted"], now))
        except InvalidInput as exc:
            body, wanted_problem = "", {"detail": exc.detail, "errors": exc.errors}
    elif kind == "wanted_notice":
        wanted_problem = {"detail": "Điền thông tin đối tượng để tạo nội dung / fill in the wanted fields", "errors": {}}
    post = {"kind": kind, "title": (content.get("title") or "").strip(), "body": body.rstrip(),
            "channel_overrides": {t: (v or "").rstrip() for t, v in (content.get("channel_overrides") or {}).items()},
            "media": content.get("media") or []}
    return {"post": post, "previews": [channel_preview(post, t) for t in channel_types],
            "wanted_problem": wanted_problem}


def channel_problems(post, audience_summary):
    """Why the post cannot go to the channels its audience resolved to:
    [{channel_type, code, reason}]. audience_summary: {count, by_type: {type: n}, channels?:
    {type: [{id, name}]}} (the channels, where known, are named in the reason)."""
    summary = audience_summary or {}
    problems = []
    if not summary.get("count"):
        problems.append({"channel_type": None, "code": "empty_audience",
                         "reason": "Không có kênh nào nhận bài viết / the audience is empty"})
    for channel_type in sorted(t for t, n in (summary.get("by_type") or {}).items() if n):
        family = CHANNEL_FAMILY.get(channel_type)
        rendered = render_for_channel(post, channel_type)
        text, has_override = rendered["text"], _override(post, channel_type) is not None

        def problem(code, reason):
            problems.append({"channel_type": channel_type, "code": code, "reason": reason})

        limit, unit = TEXT_LIMITS.get(family, (None, "characters"))
        over = limit is not None and text_size(text, unit) > limit
        if family == "zalo" and over:
            if has_override:
                problem("zalo_too_long", f"Bản rút gọn cho Zalo dài {len(text)} ký tự, tối đa "
                        f"{ZALO_MAX} / the Zalo variant is {len(text)} characters, at most {ZALO_MAX}")
            else:
                problem("zalo_too_long", f"Nội dung dài {len(text)} ký tự, Zalo nhận tối đa {ZALO_MAX}: "
                        f"cần bản rút gọn cho Zalo / the text is {len(text)} characters, Zalo takes "
                        f"{ZALO_MAX}: add a Zalo variant")
        elif family == "facebook" and over:
            problem("facebook_too_long", f"Nội dung dài {len(text)} ký tự, Facebook nhận tối đa "
                    f"{FACEBOOK_MAX} / the text is {len(text)} characters, Facebook takes {FACEBOOK_MAX}")
        elif family == "youtube":
            if not _has_video(post):
                names = [c["name"] for c in (summary.get("channels") or {}).get(channel_type, [])]
                named = f" ({', '.join(names)})" if names else ""
                problem("youtube_no_video", f"Kênh YouTube{named} cần một tệp video: thêm video, hoặc bỏ các kênh "
                        "này khỏi đối tượng nhận (exclude_channels, hay bỏ youtube_channel khỏi channel_types) / "
                        f"a YouTube channel{named} needs a video file: add a video, or drop these channels from "
                        "the audience (exclude_channels, or leave youtube_channel out of channel_types)")
            if len(rendered["title"]) > YOUTUBE_TITLE_MAX:
                problem("youtube_title_too_long", f"Tiêu đề YouTube tối đa {YOUTUBE_TITLE_MAX} ký tự / "
                        f"a YouTube title takes at most {YOUTUBE_TITLE_MAX} characters")
            if over:
                problem("youtube_description_too_long", f"Mô tả YouTube tối đa "
                        f"{YOUTUBE_DESCRIPTION_MAX_BYTES} byte: cần bản rút gọn / a YouTube "
                        f"description takes at most {YOUTUBE_DESCRIPTION_MAX_BYTES} bytes: add a variant")
            if any(c in rendered["title"] + text for c in "<>"):
                problem("youtube_angle_brackets", "YouTube không nhận ký tự < hoặc > / YouTube "
                        "refuses < and > in titles and descriptions")
    return problems


def unfit_channels(problems, audience_summary):
    """Ids of the channels (named in audience_summary["channels"]) whose type has a problem:
    leaving them out of the audience is the fix the board is offered."""
    named = (audience_summary or {}).get("channels") or {}
    return sorted({c["id"] for p in problems if p["channel_type"] for c in named.get(p["channel_type"], [])})


def channel_fit(post, audience_summary):
    """{problems, exclude_channels}: what approval would refuse now, and the channels to drop
    to fix it (the same answer `approve` gives, asked before approving)."""
    problems = channel_problems(post, audience_summary)
    return {"problems": problems, "exclude_channels": unfit_channels(problems, audience_summary)}


# --- delivery summary (from notify's publication_progress) -------------------------------

def initial_delivery_summary(by_type):
    """At publication: every resolved channel is one pending delivery."""
    return delivery_summary({channel_type: {"pending": int(count)} for channel_type, count in (by_type or {}).items()})


def delivery_summary(by_type):
    """{channel_type: {sent, failed, pending, relay_open, cancelled, retracted, take_down_pending}},
    every counter present."""
    return {channel_type: {counter: int(counts.get(counter, 0)) for counter in SUMMARY_COUNTERS}
            for channel_type, counts in by_type.items()}


def retracted_everywhere(summary):
    """True when no delivery of a retracted post is still on a platform or on its way there
    (sent and not deleted, a take-down task open, pending, a relay open); failed and cancelled
    ones never went out. Until notify reports the take-downs, the summary says sent: False."""
    return not any((counts or {}).get(counter, 0) for counts in (summary or {}).values()
                   for counter in STILL_OUT_COUNTERS)


# --- search --------------------------------------------------------------------------------

def is_public(post):
    """Shown to the public: a published post, or a wanted notice resolved since (marked so)."""
    return post["status"] == "published" or (post["status"] == "retracted" and bool(post.get("resolution")))


def search_tokens_for(post):
    """Diacritics-insensitive tokens of title, body and the wanted person's name:
    'canh bao lua dao' finds 'Cảnh báo lừa đảo'."""
    parts = [post.get("title") or "", post.get("body") or ""]
    if post.get("wanted") and post["wanted"].get("full_name"):
        parts.append(post["wanted"]["full_name"])
    return search_tokens(" ".join(parts))


def query_tokens(query):
    """The tokens a search box query must all match (same folding as the documents)."""
    return search_tokens(query)


# --- media uploads ------------------------------------------------------------------------

# content type -> (largest size in bytes, how the file must start). Checking the bytes, not
# only the declared type, keeps a script renamed to .jpg out of the channels.
MEDIA_TYPES = {
    "image/jpeg": (5 * 1024 * 1024, lambda b: b[:3] == b"\xff\xd8\xff"),
    "image/png": (5 * 1024 * 1024, lambda b: b[:8] == b"\x89PNG\r\n\x1a\n"),
    "image/webp": (5 * 1024 * 1024, lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    "video/mp4": (50 * 1024 * 1024, lambda b: b[4:8] == b"ftyp"),
}


def media_problem_check(filename, content_type, data):
    """The stored file name for an upload, or InvalidInput (type, size, content, name)."""
    rule = MEDIA_TYPES.get(content_type)
    if rule is None:
        raise InvalidInput("Chỉ nhận ảnh JPEG/PNG/WebP hoặc video MP4 / only JPEG, PNG, WebP images or MP4 "
                           "video", {"file": [f"type {content_type} not allowed"]})
    limit, looks_right = rule
    if not data:
        raise InvalidInput("Tệp rỗng / empty file", {"file": ["empty"]})
    if len(data) > limit:
        raise InvalidInput(f"Tệp lớn hơn {limit // (1024 * 1024)} MB / file larger than "
                           f"{limit // (1024 * 1024)} MB", {"file": ["too large"]})
    if not looks_right(data):
        raise InvalidInput("Nội dung tệp không đúng kiểu đã khai / the file is not what its type says",
                           {"file": ["content does not match type"]})
    # Only the last path component, no control characters: a name is never a path.
    name = normalise(str(filename or "")).replace("\\", "/").split("/")[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    if name in ("", ".", ".."):
        name = "upload"
    return name
