"""Notify domain: the error table, back-off, Retry-After, token buckets, delivery states."""
from datetime import datetime, timedelta, timezone

import pytest

from contracts.events import make_event
from contracts.notify import DELIVERY_STATUSES
from services.notify import domain
from services.notify.domain import (PERMANENT, REAUTHORIZE, RETRY, IllegalTransition, TokenBucket,
                                    backoff_seconds, classify_failure, failure_event, next_retry_at,
                                    parse_retry_after, rate_bucket_key, rate_limit_for, transition)


# --- the error table -------------------------------------------------------------------------

@pytest.mark.parametrize("code", [1, 2, 4, 17, 32, 341, 368, 613, 80001])
def test_graph_transient_codes_retry(code):
    assert classify_failure(400, "graph", code) == RETRY


def test_graph_190_reauthorizes_whatever_the_status():
    assert classify_failure(400, "graph", 190) == REAUTHORIZE
    assert classify_failure(401, "graph", 190) == REAUTHORIZE


@pytest.mark.parametrize("code", [100, 200, 210, 299, 506])
def test_graph_content_and_permission_codes_are_permanent(code):
    assert classify_failure(400, "graph", code) == PERMANENT


def test_unlisted_graph_code_falls_back_to_http_status():
    assert classify_failure(503, "graph", 9999) == RETRY
    assert classify_failure(403, "graph", 10) == PERMANENT


@pytest.mark.parametrize("code, expected", [
    (-124, REAUTHORIZE), (-216, REAUTHORIZE), (-220, REAUTHORIZE),
    (-32, RETRY), (-100, RETRY),
    (-201, PERMANENT), (-210, PERMANENT), (-403, PERMANENT),
    (-999, PERMANENT),  # unknown: permanent unless documented as transient
])
def test_zalo_codes_arrive_with_http_200(code, expected):
    assert classify_failure(200, "zalo", code) == expected


@pytest.mark.parametrize("status, expected", [
    (429, RETRY), (401, REAUTHORIZE), (500, RETRY), (502, RETRY), (503, RETRY), (504, RETRY),
    (400, PERMANENT), (403, PERMANENT), (404, PERMANENT), (410, PERMANENT), (408, RETRY),
])
def test_http_status(status, expected):
    assert classify_failure(status) == expected


def test_transport_failures_retry():
    assert classify_failure(source="transport", code="timeout") == RETRY
    assert classify_failure(source="transport", code="connection") == RETRY


def test_youtube_reasons_refine_the_status():
    assert classify_failure(403, "youtube", "quotaExceeded") == RETRY
    assert classify_failure(401, "youtube", "authError") == REAUTHORIZE
    assert classify_failure(403, "youtube", "forbidden") == PERMANENT
    assert classify_failure(503, "youtube", "somethingNew") == RETRY  # unlisted: by status


@pytest.mark.parametrize("code, expected", [(421, RETRY), (451, RETRY), (535, REAUTHORIZE), (550, PERMANENT)])
def test_smtp_reply_codes(code, expected):
    assert classify_failure(source="smtp", code=code) == expected


def test_every_table_entry_is_an_error_class():
    for source, rules in domain.ERROR_TABLE.items():
        assert source in domain.UNLISTED_CODE
        for _rule, error_class in rules:
            assert isinstance(error_class, domain.ErrorClass)


# --- Retry-After and back-off -----------------------------------------------------------------

def test_retry_after_seconds_and_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0  # in the past
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


@pytest.mark.parametrize("attempt", range(0, 12))
def test_backoff_stays_within_full_jitter_bounds(attempt):
    ceiling = min(300, 2 * 2 ** attempt)
    assert backoff_seconds(attempt, rng=lambda: 0.0) == 0
    assert backoff_seconds(attempt, rng=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    assert 0 <= backoff_seconds(attempt) <= ceiling


def test_backoff_is_capped():
    assert backoff_seconds(30, rng=lambda: 1.0) == 300
    assert backoff_seconds(3, base=1, cap=5, rng=lambda: 1.0) == 5


def test_backoff_is_jittered():
    values = {round(backoff_seconds(5), 6) for _ in range(50)}
    assert len(values) > 40  # spread, not lock-step


def test_retry_after_is_a_floor_not_a_ceiling():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert next_retry_at(now, 0, retry_after=60, rng=lambda: 1.0) == now + timedelta(seconds=60)
    assert next_retry_at(now, 8, retry_after=1, rng=lambda: 1.0) == now + timedelta(seconds=300)
    assert next_retry_at(1000.0, 1, rng=lambda: 0.5) == 1002.0


# --- rate limits -----------------------------------------------------------------------------

def test_token_bucket_allows_the_burst_then_paces():
    bucket = TokenBucket(rate_per_second=2, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.take(0.0) == pytest.approx(0.5)   # the 4th waits for a token
    assert bucket.take(0.0) == pytest.approx(1.0)   # the 5th queues behind it
    assert bucket.take(10.0) == 0                   # refilled (to the burst, not beyond)
    assert bucket.tokens <= 3


def test_token_bucket_sustains_its_rate():
    bucket = TokenBucket(rate_per_second=5, burst=1)
    now, sent = 0.0, 0
    while now < 10.0:
        now += bucket.take(now)
        sent += 1
    assert 49 <= sent <= 51


def test_token_bucket_refuses_nonsense():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)


def test_rate_limits_are_data_and_env_overrides_them():
    assert rate_limit_for("facebook_page").per_second == domain.RATE_LIMITS["facebook_page"].per_second
    assert rate_limit_for("zalo_oa_group", {"RATE_ZALO_OA_GROUP": "20"}).per_second == 20
    assert rate_limit_for("webhook", {"RATE_WEBHOOK": "5", "RATE_WEBHOOK_BURST": "2"}) == (5, 2)
    assert rate_limit_for("zalo_group_manual") is None
    assert rate_limit_for("webhook").per_second > rate_limit_for("facebook_page").per_second


def test_rate_buckets_follow_what_the_platform_counts():
    page = {"type": "facebook_page", "external_id": "123", "credentials_ref": "FB"}
    group_a = {"type": "zalo_oa_group", "external_id": "g1", "credentials_ref": "ZALO_OA_TOKEN"}
    group_b = dict(group_a, external_id="g2")
    hook = {"type": "webhook", "external_id": "https://partner.vn:8443/hooks/x?y=1"}
    assert rate_bucket_key(page) == "facebook_page:123"
    assert rate_bucket_key(group_a) == rate_bucket_key(group_b)  # one OA account, one bucket
    assert rate_bucket_key(hook) == "webhook:https://partner.vn:8443"


# --- the delivery state machine -----------------------------------------------------------------

def test_the_happy_path_and_a_retry_loop():
    state = "pending"
    for event in ("send", "retry", "send", "retry", "send", "succeeded", "retracted"):
        state = transition(state, event)
    assert state == "retracted"


@pytest.mark.parametrize("state, event, expected", [
    ("sending", "permanent_failure", "failed"),
    ("sending", "retries_exhausted", "dead"),
    ("sending", "reauthorize", "reauth_wait"),
    ("reauth_wait", "send", "sending"),
    ("pending", "cancel", "cancelled"),
    ("retry_wait", "cancel", "cancelled"),
    ("sent", "takedown_requested", "retract_pending"),
    ("retract_pending", "takedown_confirmed", "retracted"),
    ("sending", "relay_required", "relay_pending"),
    ("relay_pending", "relay_confirmed", "sent"),
])
def test_legal_moves(state, event, expected):
    assert transition(state, event) == expected


@pytest.mark.parametrize("state, event", [
    ("pending", "succeeded"),      # never sent
    ("sent", "send"),              # no double post
    ("sent", "cancel"),            # a sent post is retracted, not cancelled
    ("failed", "send"),
    ("dead", "retry"),
    ("cancelled", "send"),
    ("retracted", "retracted"),
    ("sending", "cancel"),         # in flight: let it land, then retract
    ("nonsense", "send"),
])
def test_illegal_moves_are_refused(state, event):
    with pytest.raises(IllegalTransition):
        transition(state, event)


def test_final_states_have_no_way_out():
    for state, _event in domain.DELIVERY_TRANSITIONS:
        assert state not in domain.FINAL_STATES


def test_failure_event_turns_the_last_retry_into_dead():
    assert failure_event("retry", attempts_made=1) == "retry"
    assert failure_event("retry", attempts_made=domain.MAX_ATTEMPTS) == "retries_exhausted"
    assert failure_event("reauthorize", attempts_made=1) == "reauthorize"
    assert failure_event("permanent", attempts_made=1) == "permanent_failure"
    assert transition("sending", failure_event("retry", attempts_made=6)) == "dead"


# --- a post's progress ----------------------------------------------------------------------------

def test_publication_progress_counts_each_delivery_once_by_its_current_status():
    """Recounted from the deliveries: a retry that succeeded is one sent, not a failure and
    a success; a token to renew is failed until reopened; cancelled and retracted show apart."""
    rows = [{"channel_type": "facebook_page", "status": "sent"},          # after two retries
            {"channel_type": "facebook_page", "status": "reauth_wait"},
            {"channel_type": "zalo_oa_group", "status": "retry_wait"},
            {"channel_type": "zalo_oa_group", "status": "sending"},
            {"channel_type": "zalo_oa_group", "status": "dead"},
            {"channel_type": "zalo_group_manual", "status": "relay_pending"},
            {"channel_type": "zalo_group_manual", "status": "cancelled"},
            {"channel_type": "webhook", "status": "retracted"},
            {"channel_type": "zalo_oa_group", "status": "retract_pending"},    # take-down task open
            {"channel_type": "zalo_oa_group", "status": "retracted"}]          # take-down confirmed
    progress = domain.publication_progress(rows, "pub-1", "post-1", "2026-11-29T01:00:00+00:00")
    assert progress["total"] == 10 and progress["open"] == 2
    assert progress["by_channel_type"]["facebook_page"] == {"sent": 1, "failed": 1, "pending": 0, "relay_open": 0,
                                                            "cancelled": 0, "retracted": 0, "take_down_pending": 0}
    # a message still in the group is not counted as retracted
    assert progress["by_channel_type"]["zalo_oa_group"]["take_down_pending"] == 1
    assert progress["by_channel_type"]["zalo_oa_group"]["retracted"] == 1
    assert progress["by_channel_type"]["zalo_oa_group"]["pending"] == 2
    assert progress["by_channel_type"]["zalo_oa_group"]["failed"] == 1
    assert progress["by_channel_type"]["zalo_group_manual"]["relay_open"] == 1
    assert progress["by_channel_type"]["zalo_group_manual"]["cancelled"] == 1
    assert progress["by_channel_type"]["webhook"]["retracted"] == 1
    make_event("notify.publication_progress", progress, producer="notify")  # valid against the contract


def test_every_delivery_status_falls_in_one_summary_counter():
    assert set(domain.SUMMARY_COUNTER_OF) == set(DELIVERY_STATUSES)


# --- who does a relay or take-down task ------------------------------------------------------------

NAMES = {"officers": {"canbo-nam-binh": {"id": "canbo-nam-binh", "username": "canbo.nam-binh",
                                         "full_name": "Cán bộ Công an phường Nam Bình"},
                      "canbo-ninh-khanh": {"id": "canbo-ninh-khanh", "username": "canbo.ninh-khanh",
                                           "full_name": "Cán bộ Công an phường Ninh Khánh"}},
         "by_unit": {"ca-ninh-khanh": ["canbo-ninh-khanh"]}}
MANUAL = {"id": "c1", "type": "zalo_group_manual", "unit_id": "ca-nam-binh", "relay_officer_id": "canbo-nam-binh"}
OA_GROUP = {"id": "c2", "type": "zalo_oa_group", "unit_id": "ca-ninh-khanh", "relay_officer_id": None}


def test_a_task_names_the_groups_officer_as_they_log_in():
    assignee = domain.task_assignee(MANUAL, NAMES)
    assert assignee == {"officer_id": "canbo-nam-binh", "officer_username": "canbo.nam-binh",
                        "officer_name": "Cán bộ Công an phường Nam Bình", "unit_officers": []}
    assert domain.assignee_label(assignee) == "Cán bộ Công an phường Nam Bình (canbo.nam-binh)"


def test_an_oa_group_with_no_officer_goes_to_its_units_operators():
    assignee = domain.task_assignee(OA_GROUP, NAMES)
    assert assignee["officer_id"] is None
    assert [o["username"] for o in assignee["unit_officers"]] == ["canbo.ninh-khanh"]
    assert domain.assignee_label(assignee) == "Cán bộ Công an phường Ninh Khánh (canbo.ninh-khanh)"


def test_without_names_from_groups_a_task_still_names_the_officers_id():
    assignee = domain.task_assignee(MANUAL, None)
    assert assignee["officer_id"] == "canbo-nam-binh" and assignee["officer_username"] is None
    assert domain.assignee_label(assignee) == "canbo-nam-binh"
    assert domain.assignee_label(domain.task_assignee(OA_GROUP, None)) is None


def test_names_are_asked_for_the_officers_and_units_tasks_will_go_to():
    page = {"id": "c3", "type": "facebook_page", "unit_id": "catp"}       # deleted by API: no task
    hook = {"id": "c4", "type": "webhook", "unit_id": "dt-pccc"}          # the partner is told: no task
    assert domain.task_people_needed([MANUAL, OA_GROUP, page, hook]) == ({"canbo-nam-binh"}, {"ca-ninh-khanh"})
    # an event is never taken down: only a relay needs a name
    assert domain.task_people_needed([MANUAL, OA_GROUP], retractable=False) == ({"canbo-nam-binh"}, set())


def test_alerts_about_tasks_say_what_and_who():
    text = domain.alert_text("take_down_task", domain.task_assignee(MANUAL, NAMES), channel="Nhóm trọ Nam Bình #1",
                             title="Truy nã Nguyễn Văn Bình")
    assert "«Truy nã Nguyễn Văn Bình»" in text and "Nhóm trọ Nam Bình #1" in text
    assert text.endswith("giao cho / assigned to: Cán bộ Công an phường Nam Bình (canbo.nam-binh)")


# --- an operator's retry -----------------------------------------------------------------------------

def test_a_refused_retry_says_what_to_do_instead():
    when = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
    assert "2026-03-01T02:00:00+00:00" in domain.not_retryable_reason({"status": "retry_wait", "next_attempt_at": when})
    assert "relay-42" in domain.not_retryable_reason({"status": "relay_pending", "relay_task_id": "relay-42"})
    assert "nothing to retry" in domain.not_retryable_reason({"status": "sent"})
    assert "publish the post again" in domain.not_retryable_reason({"status": "cancelled"})
    for state in set(DELIVERY_STATUSES) - domain.REOPENABLE:
        with pytest.raises(IllegalTransition):
            domain.reopen(state)
        assert "/" in domain.not_retryable_reason({"status": state})  # Vietnamese / English


# --- delivery statistics -------------------------------------------------------------------------------

def test_statistics_count_each_delivery_by_outcome_and_by_its_own_status():
    first = domain.counts_by_type_and_status([{"channel_type": "zalo_oa_group", "status": "sent"},
                                              {"channel_type": "zalo_oa_group", "status": "dead"},
                                              {"channel_type": "zalo_oa_group", "status": "reauth_wait"},
                                              {"channel_type": "facebook_page", "status": "retracted"}])
    second = {"zalo_oa_group": {"sent": 2, "retract_pending": 1}}
    stats = domain.delivery_stats(domain.add_counts(first, second))
    zalo = stats["by_channel_type"]["zalo_oa_group"]
    assert zalo["total"] == 6 and zalo["by_status"] == {"dead": 1, "reauth_wait": 1, "retract_pending": 1, "sent": 3}
    assert zalo["by_outcome"]["failed"] == 2 and zalo["by_outcome"]["take_down_pending"] == 1
    assert stats["total"] == 7 and stats["by_outcome"]["retracted"] == 1 and stats["by_outcome"]["sent"] == 3
    assert set(stats["by_outcome"]) == set(domain.SUMMARY_COUNTERS)  # every counter, zeros included
    assert domain.delivery_stats({}) == {"total": 0, "by_outcome": dict.fromkeys(domain.SUMMARY_COUNTERS, 0),
                                         "by_status": {}, "by_channel_type": {}}


def test_the_metrics_gauge_counts_only_what_waits():
    """Statuses that only grow are never recounted at each scrape (that would read every delivery)."""
    assert set(domain.WAITING_STATUSES) <= set(DELIVERY_STATUSES)
    assert not {"sent", "failed", "cancelled", "retracted"} & set(domain.WAITING_STATUSES)
    assert set(domain.NOT_YET_OUT) <= set(domain.WAITING_STATUSES)
