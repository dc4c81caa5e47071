"""Notify: pure rules for deliveries — error classes, back-off, rate limits, states (no I/O).

Everything that decides "what happens after a platform answered" is a table here, so an
adapter only says *which* code it saw and this module says what that means.
"""
import random
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlsplit

from contracts.notify import SUMMARY_COUNTER_OF, SUMMARY_COUNTERS  # noqa: F401  (the vocabulary is part of the contract)


class ErrorClass(StrEnum):
    RETRY = "retry"              # transient: try again after a back-off
    REAUTHORIZE = "reauthorize"  # the token is missing, invalid or expired: an operator must renew it
    PERMANENT = "permanent"      # content, permission or address problem: retrying cannot help


RETRY, REAUTHORIZE, PERMANENT = ErrorClass.RETRY, ErrorClass.REAUTHORIZE, ErrorClass.PERMANENT

# --- the error table -------------------------------------------------------------------
# source -> rules, first match wins. A rule matches an exact code, an inclusive (low, high)
# range, or a string reason. Sources:
#   http      HTTP status of any platform
#   transport what went wrong before any answer (timeout, connection)
#   graph     Facebook Graph API `error.code`
#   zalo      Zalo OpenAPI `error` (a non-zero value arrives with HTTP 200)
#   youtube   Google API `error.errors[].reason`
#   smtp      SMTP reply code
ERROR_TABLE = {
    "http": [
        (429, RETRY),                # rate limited: honour Retry-After
        (408, RETRY),                # request timeout: the server gave up waiting, not a refusal
        (401, REAUTHORIZE),
        ((500, 599), RETRY),
        ((400, 499), PERMANENT),
    ],
    "transport": [
        ("timeout", RETRY),
        ("connection", RETRY),
    ],
    "graph": [
        (1, RETRY),                  # unknown error, "please retry"
        (2, RETRY),                  # service temporarily unavailable
        (4, RETRY),                  # application request limit reached
        (17, RETRY),                 # user request limit reached
        (32, RETRY),                 # page request limit reached
        (341, RETRY),                # application limit reached
        (368, RETRY),                # temporarily blocked (policy): lifts after a while
        (613, RETRY),                # calls within one hour exceeded
        (80001, RETRY),              # page-level rate limit (business use case)
        (190, REAUTHORIZE),          # access token invalid or expired (any subcode)
        (100, PERMANENT),            # invalid parameter
        ((200, 299), PERMANENT),     # permission errors
        (506, PERMANENT),            # duplicate post
    ],
    "zalo": [
        (-32, RETRY),                # request rate exceeded: retry later
        (-100, RETRY),               # unknown error, "vui lòng thử lại sau" (retry later)
        (-200, RETRY),               # sending failed (generic, server side)
        (-211, RETRY),               # feature quota exceeded for the period: it resets
        (-124, REAUTHORIZE),         # access token invalid
        (-216, REAUTHORIZE),         # access token invalid
        (-220, REAUTHORIZE),         # access token expired or no longer usable
        (-242, REAUTHORIZE),         # appsecret_proof invalid
        (-201, PERMANENT),           # invalid parameter
        (-210, PERMANENT),           # parameter exceeds the allowed limit
        (-205, PERMANENT),           # Official Account does not exist
        (-237, PERMANENT),           # group chat (GMF) expired
        (-403, PERMANENT),           # the group is not owned by this OA
    ],
    "youtube": [
        ("quotaExceeded", RETRY),    # daily quota: resets, so back off (then dead + alert)
        ("rateLimitExceeded", RETRY),
        ("userRateLimitExceeded", RETRY),
        ("uploadLimitExceeded", RETRY),
        ("backendError", RETRY),
        ("authError", REAUTHORIZE),
        ("forbidden", PERMANENT),
        ("invalidTitle", PERMANENT),
        ("invalidDescription", PERMANENT),
        ("videoNotFound", PERMANENT),
    ],
    "smtp": [
        ((530, 530), REAUTHORIZE),   # authentication required
        ((534, 535), REAUTHORIZE),   # authentication mechanism too weak / credentials invalid
        ((400, 499), RETRY),         # 4yz: transient negative completion
        ((500, 599), PERMANENT),     # 5yz: permanent negative completion
    ],
}

# What an unlisted code means. None: fall back to the HTTP status of the answer (Graph and
# Google codes refine a status); Zalo answers 200 even on failure, so its unknowns are
# permanent unless documented as transient above.
UNLISTED_CODE = {"http": PERMANENT, "transport": RETRY, "graph": None, "zalo": PERMANENT,
                 "youtube": None, "smtp": PERMANENT}


def _matches(rule, code):
    if isinstance(rule, tuple):
        return isinstance(code, int) and rule[0] <= code <= rule[1]
    return rule == code


def lookup_error(source, code):
    """The ErrorClass the table gives `code` of `source`, or None when it is not listed."""
    if isinstance(code, str) and source != "youtube" and source != "transport":
        try:
            code = int(code)
        except ValueError:
            return None
    for rule, error_class in ERROR_TABLE[source]:
        if _matches(rule, code):
            return error_class
    return None


def classify_failure(http_status=None, source=None, code=None):
    """One verdict for a failed call: the platform's own code first, then the HTTP status.

    e.g. classify_failure(400, "graph", 190) -> REAUTHORIZE; classify_failure(503) -> RETRY;
    classify_failure(200, "zalo", -32) -> RETRY.
    """
    if source is not None and code is not None:
        found = lookup_error(source, code)
        if found is not None:
            return found
        if UNLISTED_CODE[source] is not None:
            return UNLISTED_CODE[source]
    if http_status is not None and not 200 <= http_status < 300:
        return lookup_error("http", http_status) or UNLISTED_CODE["http"]
    return PERMANENT  # a failure nobody could name: do not loop on it


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


# --- back-off ----------------------------------------------------------------------------

MAX_ATTEMPTS = 6          # sends tried before a delivery is dead (overridable by the service)
BACKOFF_BASE_SECONDS = 2
BACKOFF_CAP_SECONDS = 300


def backoff_seconds(attempt, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS, rng=random.random):
    """Full-jitter exponential back-off: uniform(0, min(cap, base * 2**attempt)).

    Full jitter spreads a burst of failures (say 300 Zalo groups hitting the same outage)
    over the whole window instead of retrying them in lock-step.
    """
    ceiling = min(cap, base * (2 ** max(0, attempt)))
    return rng() * ceiling


def next_retry_at(now, attempt, retry_after=None, rng=random.random):
    """When to try again: the jittered back-off, but never sooner than the platform's Retry-After.

    `now` is a datetime (returns a datetime) or epoch seconds (returns seconds).
    """
    delay = max(backoff_seconds(attempt, rng=rng), retry_after or 0.0)
    if isinstance(now, datetime):
        return now + timedelta(seconds=delay)
    return now + delay


# --- rate limits -----------------------------------------------------------------------------

class RateLimit(NamedTuple):
    per_second: float
    burst: int


# Sends per second per bucket, and the burst a bucket may spend at once. Graph counts calls
# per page, Zalo per OA account (one token for all its groups), partners per endpoint.
RATE_LIMITS = {
    "facebook_page": RateLimit(3, 5),
    "zalo_oa_group": RateLimit(10, 10),
    "youtube_channel": RateLimit(0.2, 1),   # uploads are heavy and cost quota
    "webhook": RateLimit(50, 100),
    "email": RateLimit(10, 20),
}

# Which part of a channel names its bucket (what the platform counts against).
RATE_SCOPE = {
    "facebook_page": "external_id",       # the page
    "zalo_oa_group": "credentials_ref",   # the OA account behind the token
    "youtube_channel": "credentials_ref",
    "webhook": "endpoint",                # scheme://host:port of the partner's URL
    "email": "type",                      # one SMTP server
}


def rate_limit_for(channel_type, environ=None):
    """The RateLimit of a channel type, `RATE_<TYPE>` (per second) and `RATE_<TYPE>_BURST` in
    `environ` overriding the table; None when the type is not rate-limited (manual relay)."""
    default = RATE_LIMITS.get(channel_type)
    environ = environ or {}
    key = f"RATE_{channel_type.upper()}"
    per_second = environ.get(key)
    burst = environ.get(f"{key}_BURST")
    if default is None and per_second is None:
        return None
    per_second = float(per_second) if per_second not in (None, "") else default.per_second
    if burst not in (None, ""):
        burst = int(burst)
    elif default is not None and per_second == default.per_second:
        burst = default.burst
    else:
        burst = max(1, int(per_second))  # a raised rate brings a matching burst
    return RateLimit(per_second, burst)


def rate_bucket_key(channel):
    """The name of the token bucket a send to `channel` draws from."""
    channel_type = channel.get("type")
    scope = RATE_SCOPE.get(channel_type, "id")
    if scope == "endpoint":
        parts = urlsplit(channel.get("external_id") or "")
        value = f"{parts.scheme}://{parts.netloc}"
    elif scope == "type":
        value = "*"
    else:
        value = channel.get(scope) or channel.get("id")
    return f"{channel_type}:{value}"


class TokenBucket:
    """Token bucket with time passed in (pure): `take(now)` returns how long to wait.

    A take always books a token, possibly into debt, so a caller that waits the returned
    seconds may send without asking again, and callers queue up in arrival order.
    """

    def __init__(self, rate_per_second, burst):
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate_per_second must be > 0 and burst >= 1")
        self.rate = float(rate_per_second)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = None

    def _refill(self, now):
        if self.updated is not None and now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        if self.updated is None or now > self.updated:
            self.updated = now

    def take(self, now):
        self._refill(now)
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def refund(self):
        """Give back a token taken by a caller who decided not to wait for it."""
        self.tokens = min(self.burst, self.tokens + 1)


# --- the delivery state machine ------------------------------------------------------------
# One delivery per post x channel. (state, event) -> new state; anything else is refused.
DELIVERY_TRANSITIONS = {
    ("pending", "send"): "sending",
    ("retry_wait", "send"): "sending",
    ("reauth_wait", "send"): "sending",            # the token was renewed
    ("sending", "succeeded"): "sent",
    ("sending", "relay_required"): "relay_pending",  # manual relay: an officer posts it
    ("relay_pending", "relay_confirmed"): "sent",    # ... and confirms with the permalink
    ("sending", "retry"): "retry_wait",
    ("sending", "reauthorize"): "reauth_wait",
    ("sending", "permanent_failure"): "failed",
    ("sending", "retries_exhausted"): "dead",
    ("sending", "deferred"): "pending",            # paced by a token bucket: back in the queue, no attempt
    ("pending", "cancel"): "cancelled",            # the post was retracted before it went out
    ("retry_wait", "cancel"): "cancelled",
    ("reauth_wait", "cancel"): "cancelled",
    ("relay_pending", "cancel"): "cancelled",
    ("sent", "retracted"): "retracted",            # deleted through the platform's API
    ("sent", "takedown_requested"): "retract_pending",  # no delete API: manual take-down task
    ("retract_pending", "takedown_confirmed"): "retracted",
}
DELIVERY_STATES = frozenset(state for state, _ in DELIVERY_TRANSITIONS) | frozenset(DELIVERY_TRANSITIONS.values())
FINAL_STATES = frozenset({"failed", "dead", "cancelled", "retracted"})

# What a failed send turns into, by error class.
FAILURE_EVENTS = {RETRY: "retry", REAUTHORIZE: "reauthorize", PERMANENT: "permanent_failure"}


class IllegalTransition(ValueError):
    def __init__(self, state, event):
        super().__init__(f"không thể '{event}' khi giao ở trạng thái '{state}' / "
                         f"illegal delivery transition: {state} --{event}-->")
        self.state, self.event = state, event


def transition(delivery_state, event):
    """The state after `event`, or IllegalTransition."""
    try:
        return DELIVERY_TRANSITIONS[(delivery_state, event)]
    except KeyError:
        raise IllegalTransition(delivery_state, event) from None


def failure_event(error_class, attempts_made, max_attempts=MAX_ATTEMPTS):
    """The event for a failed send: a retry that used up the attempts is `retries_exhausted`."""
    event = FAILURE_EVENTS[ErrorClass(error_class)]
    if event == "retry" and attempts_made >= max_attempts:
        return "retries_exhausted"
    return event


# --- after a send: what the delivery becomes ------------------------------------------------

# An operator's retry re-opens a delivery the engine has given up on (the content or the
# token was fixed). Final for the engine, not for the officer: so it is not a transition.
REOPENABLE = frozenset({"failed", "dead", "reauth_wait"})

# The event announcing a delivery's new state (None: nothing to announce yet).
# A send that succeeds has no event of its own: at province scale that is 1,400 events per
# post; the post's progress (notify.publication_progress) carries it.
OUTCOME_EVENTS = {"failed": "notify.delivery_failed",
                  "dead": "notify.delivery_dead", "reauth_wait": "notify.delivery_failed",
                  "relay_pending": "notify.relay_task_created"}
# States that need a person: the alert kind raised for the publishing unit.
ALERT_FOR_STATE = {"dead": "delivery_dead", "reauth_wait": "reauthorize"}
ERROR_TEXT_MAX = 1000


def reopen(state):
    """The state an operator's retry puts a delivery in, or IllegalTransition."""
    if state not in REOPENABLE:
        raise IllegalTransition(state, "manual_retry")
    return "pending"


# Why a delivery cannot be retried, and what to do instead (Vietnamese / English).
NOT_RETRYABLE = {
    "pending": "đang chờ gửi, hệ thống sẽ tự gửi: không cần làm gì / queued: it will be sent on its own, nothing to do",
    "sending": "đang được gửi: chờ kết quả / being sent right now: wait for the outcome",
    "retry_wait": "hệ thống sẽ tự thử lại lúc {next_attempt_at}; nếu hết lượt thử sẽ chuyển 'dead' và khi đó mới gửi "
                  "lại / it is retried on its own at {next_attempt_at}; retry it here only once it is dead",
    "sent": "đã gửi thành công, không cần gửi lại / already sent: nothing to retry",
    "relay_pending": "chờ cán bộ đăng tay: cán bộ xác nhận nhiệm vụ {relay_task_id} bằng đường dẫn bài đã đăng / waits "
                     "for its officer to post it by hand: they confirm relay task {relay_task_id} with the permalink",
    "cancelled": "đã huỷ vì bài bị gỡ trước khi gửi; muốn gửi lại thì đăng lại bài / cancelled because the post was "
                 "retracted before it went out: publish the post again to send it",
    "retract_pending": "bài đã bị gỡ, đang chờ cán bộ gỡ khỏi nhóm (nhiệm vụ gỡ bài) / the post was retracted: the "
                       "take-down task is waiting for its officer",
    "retracted": "bài đã bị gỡ khỏi kênh này; muốn gửi lại thì đăng lại bài / the post was taken down from this "
                 "channel: publish the post again to send it",
}
assert set(NOT_RETRYABLE) | REOPENABLE == DELIVERY_STATES


def not_retryable_reason(delivery):
    """What to do instead of retrying `delivery` (a dict with status, next_attempt_at, relay_task_id)."""
    state = delivery["status"]
    when = delivery.get("next_attempt_at")
    values = {"next_attempt_at": when.isoformat() if isinstance(when, datetime) else when or "?",
              "relay_task_id": delivery.get("relay_task_id") or "?"}
    return NOT_RETRYABLE.get(state, f"trạng thái '{state}' / state '{state}'").format(**values)


def settle(attempts_made, now, *, external_id=None, relay_required=False, error=None, duration_ms=None,
           max_attempts=MAX_ATTEMPTS, backoff_base=BACKOFF_BASE_SECONDS, backoff_cap=BACKOFF_CAP_SECONDS,
           rng=random.random):
    """What a finished send does to a delivery in `sending`.

    attempts_made counts this attempt; error is None or (error_class, message, retry_after).
    Returns {status, attempt, next_attempt_at, external_id, error_class, error}.
    """
    attempt = {"at": now, "duration_ms": duration_ms, "error_class": None, "error": None}
    if error is None:
        event = "relay_required" if relay_required else "succeeded"
        attempt["outcome"] = "relay_required" if relay_required else "ok"
        return {"status": transition("sending", event), "attempt": attempt, "next_attempt_at": None,
                "external_id": external_id, "error_class": None, "error": None}
    error_class, message, retry_after = error
    error_class = ErrorClass(error_class)
    message = (message or "")[:ERROR_TEXT_MAX]
    attempt.update(outcome=error_class.value, error_class=error_class.value, error=message)
    status = transition("sending", failure_event(error_class, attempts_made, max_attempts))
    next_at = None
    if status == "retry_wait":
        delay = max(backoff_seconds(attempts_made, base=backoff_base, cap=backoff_cap, rng=rng), retry_after or 0.0)
        next_at = now + timedelta(seconds=delay)
    return {"status": status, "attempt": attempt, "next_attempt_at": next_at, "external_id": None,
            "error_class": error_class.value, "error": message}


# --- pacing a fan-out -------------------------------------------------------------------------

def plan_send_times(channels, now, limit_for):
    """When each channel's first attempt may go, so that no bucket is asked for more than its
    rate: the k-th send of a bucket waits (k - burst + 1) / rate seconds. 1,026 Zalo groups
    behind one OA token at 10/s are spread over ~100 s instead of all being claimed now and
    waiting inside the worker. `limit_for(channel_type)` -> RateLimit or None."""
    sent_per_bucket = {}
    times = []
    for channel in channels:
        limit = limit_for(channel["type"])
        if limit is None:
            times.append(now)
            continue
        key = rate_bucket_key(channel)
        k = sent_per_bucket.get(key, 0)
        sent_per_bucket[key] = k + 1
        times.append(now + timedelta(seconds=max(0, k - limit.burst + 1) / limit.per_second))
    return times


# --- what goes out --------------------------------------------------------------------------

# A channel type with no override of its own uses its family's (a manual Zalo group reads
# the Zalo text).
OVERRIDE_FALLBACK = {"zalo_group_manual": "zalo_oa_group", "manual_relay": "zalo_oa_group"}


def post_text(publication, channel_type):
    overrides = publication.get("channel_overrides") or {}
    text = overrides.get(channel_type) or overrides.get(OVERRIDE_FALLBACK.get(channel_type, ""))
    if text:
        return text
    return f"{publication['title']}\n\n{publication.get('body') or ''}".strip()


def message_for(channel, publication):
    """The message an adapter sends to `channel` for a stored publication (a post, an event,
    an alert or a reply). Webhooks send the envelope; everyone else reads text."""
    if publication["kind"] == "post":
        text = post_text(publication, channel["type"])
        title = publication["title"]
    else:
        text = publication.get("text") or ""
        title = publication.get("title") or text.split("\n", 1)[0][:120]
    return {"text": text, "title": title, "subject": f"[Bình Yên] {title}"[:200],
            "envelope": publication.get("envelope")}


EVENT_TITLES = {
    "posts.published": "Bài đăng mới / new post",
    "posts.retracted": "Bài đăng đã được gỡ / post retracted",
    "posts.wanted_resolved": "Thông báo truy nã đã kết thúc / wanted notice resolved",
    "tips.triaged": "Tin báo đã được phân loại / tip triaged",
    "tips.assigned": "Tin báo được giao cho đơn vị / tip assigned to the unit",
    "tips.escalated": "Tin báo quá hạn, đã chuyển cấp / tip escalated (not acknowledged in time)",
    "tips.status_changed": "Tin báo đổi trạng thái / tip status changed",
}


def event_text(envelope):
    """Plain text for an event delivered to a unit's e-mail or Zalo group."""
    title = EVENT_TITLES.get(envelope["type"], envelope["type"])
    lines = [f"[Bình Yên] {title}"]
    for key, value in sorted((envelope.get("data") or {}).items()):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != "":
            lines.append(f"{key}: {value}")
    return "\n".join(lines)[:2000]


ALERT_TEXTS = {
    "delivery_dead": "Không gửi được tới kênh {channel} sau {attempts} lần thử: {error} / "
                     "delivery to {channel} gave up after {attempts} attempts",
    "reauthorize": "Mã truy cập của kênh {channel} hết hạn hoặc không hợp lệ, cần cấp lại rồi bấm gửi lại: {error} / "
                   "the token of {channel} must be renewed, then retry",
    "relay_task": "Nhiệm vụ mới: đăng bài «{title}» vào nhóm Zalo {channel} rồi xác nhận bằng đường dẫn / "
                  "new relay task: post \"{title}\" to {channel} and confirm with the permalink",
    "take_down_task": "Nhiệm vụ mới: gỡ bài «{title}» khỏi {channel} / "
                      "new task: take the post \"{title}\" down from {channel}",
    "relay_reminder": "Nhắc việc: nhiệm vụ đăng bài vào {channel} chưa được xác nhận / "
                      "reminder: the relay task for {channel} is not confirmed yet",
    "relay_overdue": "Quá hạn: nhiệm vụ đăng bài vào {channel} chưa được thực hiện / "
                     "overdue: the relay task for {channel} was not done",
    "tip_assigned": "Tin báo {tip_code} đã được giao cho đơn vị / tip {tip_code} was assigned to your unit",
    "tip_escalated": "Tin báo {tip_code} quá hạn, chuyển lên cấp {level} / tip {tip_code} escalated to level {level}",
}


def alert_text(kind, assignee=None, **details):
    """The alert's text; `assignee` (a task's officers, see task_assignee) adds who must act."""
    values = {"channel": "?", "attempts": "?", "error": "", "tip_code": "?", "level": "?", "title": "?"}
    values.update({k: v for k, v in details.items() if v is not None})
    text = ALERT_TEXTS[kind].format(**values)
    who = assignee_label(assignee) if assignee else None
    return f"{text} — giao cho / assigned to: {who}" if who else text


# --- retraction -----------------------------------------------------------------------------

# How a sent delivery is undone, by channel type: the platform's delete API, a manual
# take-down task (no delete API), the retraction event sent to the partner (who removes
# it themselves), or nothing (mail cannot be recalled; a reply stays with the tipster).
RETRACTION = {
    "facebook_page": "api",
    "youtube_channel": "api",
    "zalo_oa_group": "take_down_task",
    "zalo_group_manual": "take_down_task",
    "manual_relay": "take_down_task",
    "webhook": "notify_partner",
    "email": "nothing",
    "zalo_oa_user": "nothing",
    "facebook_messenger": "nothing",
}


def retraction_for(channel_type):
    return RETRACTION.get(channel_type, "take_down_task")


# Deliveries not yet out when their post is retracted: cancelled, never sent.
CANCELLABLE = ("pending", "retry_wait", "reauth_wait", "relay_pending")

# --- operations' figures ------------------------------------------------------------------------
# Statuses the metrics gauge counts: work waiting, or a person's action. The others (sent,
# failed, cancelled, retracted) only grow, so they are counted as they happen (the engine's
# counters) or asked for over a period (delivery statistics), never re-counted at each scrape.
WAITING_STATUSES = ("pending", "sending", "retry_wait", "reauth_wait", "relay_pending", "retract_pending", "dead")
# Not out yet and nobody's action needed: the oldest of these says whether sending keeps up.
NOT_YET_OUT = ("pending", "sending", "retry_wait")


# --- relay tasks ------------------------------------------------------------------------------

def relay_deadlines(now, remind_seconds):
    """(remind_at, overdue_at): a reminder after one period, overdue after the second."""
    return now + timedelta(seconds=remind_seconds), now + timedelta(seconds=2 * remind_seconds)


def my_tasks(actor):
    """The relay tasks an officer must do (a query): named to them, or unnamed ones of their unit."""
    mine = [{"officer_id": actor["id"]}]
    if actor.get("unit_id"):
        mine.append({"officer_id": None, "unit_id": actor["unit_id"]})
    return mine


def task_people_needed(channels, retractable=True):
    """(officer ids, unit ids) whose names a publication's tasks will show: each channel's relay
    officer and, where a take-down needs a task but the channel names nobody (an OA group), its
    unit. Asked of groups once per publication, so no task costs a call."""
    officer_ids, unit_ids = set(), set()
    for channel in channels:
        if channel.get("relay_officer_id"):
            officer_ids.add(channel["relay_officer_id"])
        elif retractable and channel.get("unit_id") and retraction_for(channel.get("type")) == "take_down_task":
            unit_ids.add(channel["unit_id"])
    return officer_ids, unit_ids


def task_assignee(channel, relay_officers):
    """Who does a relay or take-down task for `channel`: its relay officer by id, username and
    full name, or (a channel with no officer) the unit's officers, who see and confirm the
    unit's unnamed tasks. relay_officers: what groups answered for the publication,
    {officers: {id: {id, username, full_name}}, by_unit: {unit id: [officer ids]}}, or None
    (then only the id is known)."""
    officers = (relay_officers or {}).get("officers") or {}
    by_unit = (relay_officers or {}).get("by_unit") or {}
    officer_id = channel.get("relay_officer_id")
    named = (officers.get(officer_id) or {}) if officer_id else {}
    unit_officers = [] if officer_id else [officers[i] for i in by_unit.get(channel.get("unit_id"), []) if i in officers]
    return {"officer_id": officer_id, "officer_username": named.get("username"),
            "officer_name": named.get("full_name"), "unit_officers": unit_officers}


def person_label(username, full_name):
    """An officer as people read them: the login name they know, and their full name."""
    if username and full_name:
        return f"{full_name} ({username})"
    return username or full_name


def assignee_label(assignee):
    """`task_assignee` (or a task carrying its fields) as one line: the named officer, else the
    unit's officers; the bare id when groups gave no names."""
    named = person_label(assignee.get("officer_username"), assignee.get("officer_name"))
    if named or assignee.get("officer_id"):
        return named or assignee["officer_id"]
    people = [person_label(p.get("username"), p.get("full_name")) for p in assignee.get("unit_officers") or []]
    return ", ".join(p for p in people if p) or None


def may_confirm(task, actor):
    """The task's officer, an admin, or (a task with no named officer) an operator of its unit."""
    roles = set(actor.get("roles") or ())
    if "admin" in roles:
        return True
    if task.get("officer_id"):
        return task["officer_id"] == actor.get("id")
    return bool(task.get("unit_id")) and task["unit_id"] == actor.get("unit_id") and "unit_operator" in roles


# --- the per-post summary -----------------------------------------------------------------------

def summarise(rows, post_id):
    """{total, by_status, by_channel_type: {type: {total, by_status}}, relay_open} of
    [{channel_type, status}]."""
    summary = {"post_id": post_id, "total": 0, "by_status": {}, "by_channel_type": {}, "relay_open": 0}
    for row in rows:
        status, channel_type = row["status"], row["channel_type"]
        summary["total"] += 1
        summary["by_status"][status] = summary["by_status"].get(status, 0) + 1
        per_type = summary["by_channel_type"].setdefault(channel_type, {"total": 0, "by_status": {}})
        per_type["total"] += 1
        per_type["by_status"][status] = per_type["by_status"].get(status, 0) + 1
        if status in ("relay_pending", "retract_pending"):
            summary["relay_open"] += 1
    return summary


# What the post's summary counts: each delivery status falls in one counter.


def counts_by_type_and_status(rows, into=None):
    """{channel_type: {status: n}} of [{channel_type, status}], added to `into` if given."""
    counts = into if into is not None else {}
    for row in rows:
        per_type = counts.setdefault(row["channel_type"], {})
        per_type[row["status"]] = per_type.get(row["status"], 0) + 1
    return counts


def add_counts(into, counts):
    """Add one {channel_type: {status: n}} to another (several publications' figures)."""
    for channel_type, by_status in (counts or {}).items():
        per_type = into.setdefault(channel_type, {})
        for status, n in by_status.items():
            per_type[status] = per_type.get(status, 0) + n
    return into


def delivery_stats(counts):
    """{total, by_outcome, by_status, by_channel_type: {type: {total, by_outcome, by_status}}} of
    {channel_type: {status: n}}: outcomes are the post summary's counters (SUMMARY_COUNTERS,
    every one present), statuses the deliveries' own (dead apart from failed, say)."""
    def block(by_status):
        by_outcome = dict.fromkeys(SUMMARY_COUNTERS, 0)
        for status, n in by_status.items():
            by_outcome[SUMMARY_COUNTER_OF[status]] += n
        return {"total": sum(by_status.values()), "by_outcome": by_outcome, "by_status": dict(sorted(by_status.items()))}
    every_type = {}
    for by_status in counts.values():
        add_counts(every_type, {"all": by_status})
    by_type = {channel_type: block(by_status) for channel_type, by_status in sorted(counts.items())}
    return dict(block(every_type.get("all", {})), by_channel_type=by_type)


def publication_progress(rows, publication_id, post_id, as_of):
    """notify.publication_progress data from [{channel_type, status}] of one publication."""
    by_type = {}
    for row in rows:
        counts = by_type.setdefault(row["channel_type"], dict.fromkeys(SUMMARY_COUNTERS, 0))
        counts[SUMMARY_COUNTER_OF[row["status"]]] += 1
    return {"publication_id": publication_id, "post_id": post_id, "as_of": as_of, "total": len(rows),
            "open": sum(c["pending"] for c in by_type.values()), "by_channel_type": by_type}
