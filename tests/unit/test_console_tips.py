"""The tip inbox's own rules: the SLA countdown an officer reads and the filters it sends to the list."""
from datetime import datetime, timedelta, timezone

import pytest

from gateway.app import create_app
from gateway.web.console.tips import duration, list_query, sla_clock

NOW = datetime(2025, 3, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def request_context():
    app = create_app({"JWT_SECRET": "console-tips-test-" + "x" * 32, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
    with app.test_request_context("/console/tips"):
        yield


@pytest.mark.parametrize("seconds, text", [
    (10, "1 phút"), (60, "1 phút"), (61, "2 phút"), (59 * 60, "59 phút"), (3600, "1 giờ"),
    (3600 + 5 * 60, "1 giờ 5 phút"), (6 * 3600 + 59, "6 giờ"), (47 * 3600 + 10, "47 giờ"),
    (48 * 3600 + 60, "2 ngày"), (-125, "3 phút")])
def test_durations_are_as_precise_as_an_officer_needs(request_context, seconds, text):
    assert duration(seconds) == text


def tip(status="assigned", due_in=None):
    due = None if due_in is None else (NOW + timedelta(seconds=due_in)).isoformat()
    return {"status": status, "sla_due_at": due}


def test_the_sla_countdown_runs_only_while_a_tip_waits(request_context):
    assert sla_clock(tip(due_in=240), NOW) == {"due": tip(due_in=240)["sla_due_at"], "overdue": False,
                                               "text": "còn 4 phút"}
    late = sla_clock(tip("triaged", due_in=-12 * 60), NOW)
    assert late["overdue"] and late["text"] == "quá hạn 12 phút"
    for status in ("in_progress", "resolved", "closed"):  # acknowledged: the clock stopped
        assert sla_clock(tip(status, due_in=-600), NOW) is None
    assert sla_clock(tip("received"), NOW) is None  # no deadline before triage


def test_filters_become_the_list_query_with_local_days(request_context):
    query, errors = list_query({"text": "giật túi", "urgency": "emergency", "from": "2025-03-01",
                                "to": "2025-03-02", "waiting": "1", "past_sla": "on"})
    assert not errors
    assert query == {"text": "giật túi", "urgency": "emergency", "waiting": "true", "past_sla": "true",
                     "from": "2025-03-01T00:00:00+07:00", "to": "2025-03-03T00:00:00+07:00"}  # the whole last day
    _, errors = list_query({"from": "yesterday", "urgency": "soon", "channel": "telegram", "status": "closed"})
    assert set(errors) == {"from", "urgency", "channel"}  # each bad field, before the service is asked


def test_a_refusal_shows_the_field_errors_written_for_people():
    from gateway.web.console.tips import explained
    assert explained({"reason": ["Ít nhất 10 ký tự / At least 10 characters"], "into": ["unknown tip"],
                      "text": ["Bắt buộc / Required", "too long"]}) == {
        "reason": ["Ít nhất 10 ký tự / At least 10 characters"], "text": ["Bắt buộc / Required"]}
    assert explained(None) == {}
