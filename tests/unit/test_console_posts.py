"""The posts console's own logic (no services): what the editor's form sends, how a stale edit
is merged with what others changed meanwhile, times read as Vietnam's, and when the delivery
monitor stops polling."""
import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from contracts.rpc import InvalidInput
from gateway.web.console import deliveries, posts


def form(**fields):
    return MultiDict([(k, v) for k, values in fields.items() for v in (values if isinstance(values, list) else [values])])


# --- the editor's form -------------------------------------------------------------------------------

def test_the_form_sends_the_audience_variants_and_media_it_shows():
    content = posts.content_from(form(
        title="Cảnh báo", body="Nội dung", include_descendants="1", units=["ca-ninh-khanh", "ca-ninh-khanh"],
        channel_types=["zalo_oa_group"], exclude_channels="zg-1", override_zalo_oa_group="Bản ngắn",
        override_facebook_page="   ", media=['{"media_id": "m1", "content_type": "image/png", "size": 3, '
                                              '"filename": "a.png"}', '{"media_id": "m2", "content_type": '
                                              '"image/png", "size": 4, "filename": "b.png"}'],
        remove_media="m2"), "news")
    assert content["audience"] == {"include_descendants": True, "units": ["ca-ninh-khanh"],
                                   "channel_types": ["zalo_oa_group"], "exclude_channels": ["zg-1"]}
    assert content["channel_overrides"] == {"zalo_oa_group": "Bản ngắn"}   # a blank variant is no variant
    assert [m["media_id"] for m in content["media"]] == ["m1"]
    assert content["body"] == "Nội dung" and "wanted" not in content
    # an unticked "with sub-units" box sends nothing: the audience says so
    assert posts.content_from(form(title="T"), "news")["audience"] == {"include_descendants": False}


def test_a_wanted_notice_sends_its_fields_and_no_body():
    content = posts.content_from(form(title="Truy nã", body="ignored", w_full_name="Trần Văn Hùng",
                                      w_birth_year="1988", w_hometown=""), "wanted_notice")
    assert "body" not in content
    assert content["wanted"] == {"full_name": "Trần Văn Hùng", "birth_year": 1988}
    # a surrender appeal without the person's fields is typed text
    appeal = posts.content_from(form(title="Kêu gọi", body="Gia đình động viên..."), "surrender_appeal")
    assert appeal["body"] == "Gia đình động viên..." and appeal["wanted"] is None


def test_a_datetime_local_value_is_vietnam_time():
    assert posts.vn_datetime("2026-11-01T08:30") == "2026-11-01T08:30:00+07:00"
    with pytest.raises(InvalidInput):
        posts.vn_datetime("")


def test_same_order_keeps_the_stored_order_when_only_the_order_differs():
    stored = {"include_descendants": True, "wards": ["b", "a"], "channels": ["x"]}
    sent = {"include_descendants": True, "wards": ["a", "b"], "channels": ["x", "y"]}
    assert posts.same_order(sent, stored) == {"include_descendants": True, "wards": ["b", "a"], "channels": ["x", "y"]}


# --- stale edits --------------------------------------------------------------------------------------

BASE = {"title": "Cảnh báo", "body": "Không cung cấp mã OTP.", "channel_overrides": {},
        "media": [], "audience": {"include_descendants": True, "wards": ["ninh-khanh"]}}


def test_a_stale_edit_takes_what_only_the_other_person_changed():
    mine = dict(BASE, title="Cảnh báo cuộc gọi giả danh")
    theirs = dict(BASE, body="Tuyệt đối không cung cấp mã OTP.", audience={"include_descendants": True,
                                                                            "wards": ["nam-binh"]})
    merged, fields = posts.merge_stale(BASE, mine, theirs)
    assert merged["title"] == "Cảnh báo cuộc gọi giả danh"                   # mine, only I changed it
    assert merged["body"] == "Tuyệt đối không cung cấp mã OTP."              # theirs, I left it alone
    assert merged["audience"]["wards"] == ["nam-binh"]
    assert sorted(fields) == [("audience", "theirs"), ("body", "theirs")]


def test_a_field_both_changed_keeps_mine_and_is_shown_as_a_conflict():
    mine = dict(BASE, body="Không cung cấp mã OTP cho ai.")
    theirs = dict(BASE, body="Tuyệt đối không cung cấp mã OTP.")
    merged, fields = posts.merge_stale(BASE, mine, theirs)
    assert merged["body"] == mine["body"] and fields == [("body", "both")]
    # without the copy it started from, every difference is a conflict and mine is kept
    merged, fields = posts.merge_stale(None, mine, dict(theirs, title="Khác"))
    assert merged == mine and sorted(fields) == [("body", "both"), ("title", "both")]
    # order and surrounding blanks are no change
    same, fields = posts.merge_stale(BASE, dict(BASE, title=" Cảnh báo "), dict(BASE, audience={
        "wards": ["ninh-khanh"], "include_descendants": True}))
    assert fields == []


def test_word_diff_marks_the_words_only_one_side_has():
    mine, theirs = posts.word_diff("Không cung cấp mã OTP.", "Tuyệt đối không cung cấp mã OTP <b>.")
    assert isinstance(mine, Markup) and mine.startswith('<mark class="diff">Không </mark>cung cấp')
    assert theirs.startswith('<mark class="diff">Tuyệt đối không </mark>cung cấp') and "&lt;b&gt;" in theirs


def test_channel_problems_come_from_the_refusal_or_the_check():
    refusal = InvalidInput("refused", {"youtube_channel": ["needs a video"], "exclude_channels": ["yt-1"]})
    assert posts.channel_problems(refusal, None) == ([("youtube_channel", "needs a video")], ["yt-1"])
    check = {"problems": [{"channel_type": None, "code": "empty_audience", "reason": "empty"}], "exclude_channels": []}
    assert posts.channel_problems(None, check) == ([("audience", "empty")], [])
    assert posts.channel_problems(None, None) == ([], [])


def test_history_reasons_name_the_fields_an_edit_changed():
    assert posts.edit_fields("sửa / changed: body, audience") == ["body", "audience"]
    assert posts.edit_fields("Sửa sau khi duyệt, cần duyệt lại / edited after approval, back to review; "
                             "sửa / changed: title") == ["title"]
    assert posts.edit_fields(None) == []


# --- the delivery monitor ------------------------------------------------------------------------------

def summary(**per_type):
    return {t: dict(dict.fromkeys(("sent", "failed", "pending", "relay_open", "cancelled", "retracted",
                                   "take_down_pending"), 0), **counts) for t, counts in per_type.items()}


def test_the_monitor_polls_while_notify_works_not_while_people_do():
    sending = {"status": "published", "delivery_summary": summary(zalo_oa_group={"sent": 3, "pending": 2})}
    assert deliveries.machine_busy(sending)
    waiting_for_officers = {"status": "published", "delivery_summary": summary(
        zalo_oa_group={"sent": 5}, zalo_group_manual={"relay_open": 2})}
    assert not deliveries.machine_busy(waiting_for_officers)
    deleting = {"status": "retracted", "delivery_summary": summary(facebook_page={"sent": 1})}
    assert deliveries.machine_busy(deleting)      # still being deleted through the API
    take_downs = {"status": "retracted", "delivery_summary": summary(zalo_oa_group={"take_down_pending": 4})}
    assert not deliveries.machine_busy(take_downs)
    assert deliveries.totals(waiting_for_officers["delivery_summary"])["relay_open"] == 2


def test_after_a_retry_the_monitor_follows_until_the_posts_figures_show_the_outcome():
    post = {"status": "published", "delivery_summary": summary(zalo_oa_group={"sent": 17, "failed": 1})}
    retried = {"by_channel_type": {"zalo_oa_group": {"total": 18, "by_status": {"sent": 17, "pending": 1}}}}
    assert deliveries.summary_behind(post, retried)               # on its way again
    sent = {"by_channel_type": {"zalo_oa_group": {"total": 18, "by_status": {"sent": 18}}}}
    assert deliveries.summary_behind(post, sent)                  # sent, but not yet in the post's figures
    caught_up = {"status": "published", "delivery_summary": summary(zalo_oa_group={"sent": 18})}
    assert not deliveries.summary_behind(caught_up, sent)
