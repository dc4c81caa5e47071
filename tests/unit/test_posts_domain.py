"""Posts domain: the lifecycle, the board's four-eyes rule, channel checks, wanted notices,
delivery summary and search, as the admin board and the editors rely on them."""
import copy
import unicodedata
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from contracts.permissions import ROLES, roles_holding
from contracts.rpc import Conflict, Forbidden, InvalidInput
from contracts.text import search_tokens
from service_runtime.validation import load
from services.posts import domain, schemas
from services.posts.domain import (
    approve, archive, channel_problems, create_draft, due, edit,
    publish, reject, render_for_channel, resolve, retract, schedule, search_tokens_for, submit,
)

UTC = timezone.utc
NOW = datetime(2024, 5, 2, 1, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)

EDITOR = {"id": "ed-lan", "username": "lan", "roles": ["editor"], "unit_id": "doi-tham-muu"}
EDITOR_2 = {"id": "ed-hai", "username": "hai", "roles": ["editor"], "unit_id": "doi-tham-muu"}
OTHER_UNIT_EDITOR = {"id": "ed-binh", "username": "binh", "roles": ["editor"], "unit_id": "doi-cshs"}
MOD_1 = {"id": "mod-an", "username": "an", "roles": ["moderator"], "unit_id": "catp"}
MOD_2 = {"id": "mod-ba", "username": "ba", "roles": ["moderator"], "unit_id": "catp"}
MOD_3 = {"id": "mod-cu", "username": "cu", "roles": ["moderator"], "unit_id": "catp"}
ADMIN = {"id": "adm", "username": "admin", "roles": ["admin"], "unit_id": "catp"}
AUDITOR = {"id": "aud", "username": "aud", "roles": ["auditor"], "unit_id": "catp"}
TRIAGE = {"id": "tri", "username": "tri", "roles": ["triage_officer"], "unit_id": "catp"}

SUMMARY = {"count": 3, "by_type": {"facebook_page": 1, "zalo_oa_group": 2}}

WANTED = {
    "full_name": "Nguyễn Văn Tùng", "birth_year": 1990, "hometown": "xã Ninh Nhất, thành phố Ninh Bình",
    "charge": "Lừa đảo chiếm đoạt tài sản", "warrant_number": "12/QĐ-CSĐT",
    "warrant_date": "2024-03-05", "issuing_authority": "Cơ quan CSĐT Công an thành phố Ninh Bình",
}
PHOTO = {"media_id": "m-photo", "content_type": "image/jpeg", "size": 1000, "filename": "tung.jpg"}
VIDEO = {"media_id": "m-video", "content_type": "video/mp4", "size": 10 ** 7, "filename": "clip.mp4"}


def news(actor=EDITOR, **data):
    data = {"kind": "news", "title": "Cảnh báo lừa đảo qua mạng", "body": "Người dân cảnh giác.", **data}
    return create_draft(actor, NOW, data)


def wanted_notice(wanted=None, actor=EDITOR):
    return create_draft(actor, NOW, {"kind": "wanted_notice", "title": "Thông báo truy nã",
                                     "wanted": dict(wanted or WANTED), "media": [PHOTO]})


def in_review(post=None):
    return submit(post or news(), EDITOR, NOW)


def approved(post=None):
    post = in_review(post)
    while post["status"] == "in_review":
        moderator = MOD_1 if not post["approvals"] else MOD_2
        post = approve(post, moderator, NOW, SUMMARY)
    return post


def published(post=None):
    return publish(approved(post), MOD_1, NOW)[0]


# --- creation and the whole walk -------------------------------------------------------

def test_create_draft_for_the_editors_own_unit():
    post = news()
    assert post["status"] == "draft" and post["version"] == 1
    assert post["author"] == "ed-lan" and post["unit"] == "doi-tham-muu"
    assert post["audience"] == {"include_descendants": True}
    assert post["history"] == [{"at": NOW, "actor": "ed-lan", "action": "create", "from": None,
                                "to": "draft", "reason": None}]
    uuid.UUID(hex=post["id"])


def test_create_draft_refusals():
    with pytest.raises(Forbidden):
        news(actor=EDITOR, unit="doi-cshs")          # an editor writes for their own unit
    for actor in (AUDITOR, MOD_1, TRIAGE):
        with pytest.raises(Forbidden):
            news(actor=actor)
    with pytest.raises(InvalidInput):
        news(kind="rumour")
    with pytest.raises(InvalidInput):
        create_draft(EDITOR, NOW, {"kind": "wanted_notice", "title": "Truy nã"})   # no fields
    with pytest.raises(InvalidInput):
        create_draft(EDITOR, datetime(2024, 5, 2, 8, 0), {"kind": "news", "title": "x"})  # naive now
    assert news(actor=ADMIN, unit="doi-cshs")["unit"] == "doi-cshs"


def test_every_transition_bumps_the_version_and_appends_history_in_order():
    posts = [news()]
    posts.append(submit(posts[-1], EDITOR, NOW))
    posts.append(approve(posts[-1], MOD_1, NOW, SUMMARY))
    posts.append(schedule(posts[-1], MOD_1, NOW, LATER))
    posts.append(publish(posts[-1], domain.SCHEDULER_ACTOR, LATER)[0])
    posts.append(retract(posts[-1], MOD_2, LATER, "Thông tin đã cũ"))
    posts.append(archive(posts[-1], ADMIN, LATER))
    assert [p["status"] for p in posts] == ["draft", "in_review", "approved", "scheduled",
                                            "published", "retracted", "archived"]
    assert [p["version"] for p in posts] == [1, 2, 3, 4, 5, 6, 7]
    history = posts[-1]["history"]
    assert [(e["action"], e["from"], e["to"]) for e in history] == [
        ("create", None, "draft"), ("submit", "draft", "in_review"),
        ("approve", "in_review", "approved"), ("schedule", "approved", "scheduled"),
        ("publish", "scheduled", "published"), ("retract", "published", "retracted"),
        ("archive", "retracted", "archived")]
    assert [e["actor"] for e in history] == ["ed-lan", "ed-lan", "mod-an", "mod-an",
                                             "system:scheduler", "mod-ba", "adm"]
    assert history[5]["reason"] == "Thông tin đã cũ"
    # append-only: each post's history is exactly the start of the next one's
    for before, after in zip(posts, posts[1:]):
        assert after["history"][:len(before["history"])] == before["history"]
        assert len(after["history"]) == len(before["history"]) + 1


def test_operations_never_mutate_their_input():
    post = in_review()
    frozen = copy.deepcopy(post)
    new = approve(post, MOD_1, NOW, SUMMARY)
    new["history"][0]["reason"] = "tampered"
    new["history"].append({"x": 1})
    assert post == frozen


def test_rejected_post_is_edited_back_to_draft_and_resubmitted():
    post = reject(in_review(), MOD_1, NOW, "Thiếu nguồn tin")
    assert post["status"] == "rejected" and post["rejection_reason"] == "Thiếu nguồn tin"
    post = edit(post, EDITOR, NOW, {"body": "Người dân cảnh giác, theo nguồn Công an tỉnh."})
    assert post["status"] == "draft"
    post = submit(post, EDITOR, NOW)
    assert post["status"] == "in_review" and post["rejection_reason"] is None
    assert approve(post, MOD_1, NOW, SUMMARY)["status"] == "approved"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reject_and_retract_need_a_reason(reason):
    with pytest.raises(InvalidInput):
        reject(in_review(), MOD_1, NOW, reason)
    with pytest.raises(InvalidInput):
        retract(published(), MOD_1, NOW, reason)


def test_archive_of_a_draft_or_rejected_post():
    assert archive(news(), EDITOR, NOW)["status"] == "archived"
    assert archive(reject(in_review(), MOD_1, NOW, "trùng"), MOD_1, NOW)["status"] == "archived"


# --- roles ---------------------------------------------------------------------------------

def _attempts():
    """(action, state builder, call(post, actor, expected_version)) for every action."""
    return [
        ("edit", news, lambda p, a, v=None: edit(p, a, NOW, {"title": "Tiêu đề mới"}, expected_version=v)),
        ("submit", news, lambda p, a, v=None: submit(p, a, NOW, expected_version=v)),
        ("approve", in_review, lambda p, a, v=None: approve(p, a, NOW, SUMMARY, expected_version=v)),
        ("reject", in_review, lambda p, a, v=None: reject(p, a, NOW, "sai", expected_version=v)),
        ("schedule", approved, lambda p, a, v=None: schedule(p, a, NOW, LATER, expected_version=v)),
        ("publish", approved, lambda p, a, v=None: publish(p, a, NOW, expected_version=v)),
        ("retract", published, lambda p, a, v=None: retract(p, a, NOW, "gỡ", expected_version=v)),
        ("resolve", lambda: published(wanted_notice()),
         lambda p, a, v=None: resolve(p, a, NOW, "arrested", expected_version=v)),
        ("archive", news, lambda p, a, v=None: archive(p, a, NOW, expected_version=v)),
    ]


@pytest.mark.parametrize("action,build,call", _attempts(), ids=[a[0] for a in _attempts()])
def test_auditor_and_other_roles_may_do_nothing(action, build, call):
    post = build()
    for actor in (AUDITOR, TRIAGE):
        with pytest.raises(Forbidden):
            call(post, actor)


@pytest.mark.parametrize("action,build,call", [a for a in _attempts() if a[0] in
                                               ("approve", "reject", "schedule", "publish", "retract", "resolve")],
                         ids=["approve", "reject", "schedule", "publish", "retract", "resolve"])
def test_editors_cannot_moderate(action, build, call):
    with pytest.raises(Forbidden):
        call(build(), EDITOR_2)


@pytest.mark.parametrize("action,build,call", [a for a in _attempts() if a[0] in ("edit", "submit")],
                         ids=["edit", "submit"])
def test_moderators_do_not_write_and_editors_only_for_their_unit(action, build, call):
    post = build()
    for actor in (MOD_1, OTHER_UNIT_EDITOR):
        with pytest.raises(Forbidden):
            call(post, actor)
    call(post, EDITOR_2)          # a colleague in the same unit may
    call(post, ADMIN)             # an admin may do anything but approve their own post


def test_nobody_approves_their_own_post():
    writer_moderator = dict(MOD_1, roles=["editor", "moderator"], unit_id="doi-tham-muu")
    post = submit(news(actor=writer_moderator), writer_moderator, NOW)
    with pytest.raises(Forbidden):
        approve(post, writer_moderator, NOW, SUMMARY)
    assert approve(post, MOD_2, NOW, SUMMARY)["status"] == "approved"

    admin_post = submit(news(actor=ADMIN, unit="catp"), ADMIN, NOW)
    with pytest.raises(Forbidden):
        approve(admin_post, ADMIN, NOW, SUMMARY)
    assert approve(admin_post, MOD_1, NOW, SUMMARY)["status"] == "approved"


def test_whoever_edited_the_content_cannot_approve_it_either():
    post = edit(in_review(), ADMIN, NOW, {"body": "Nội dung admin sửa."})
    with pytest.raises(Forbidden):
        approve(post, ADMIN, NOW, SUMMARY)
    assert approve(in_review(), ADMIN, NOW, SUMMARY)["status"] == "approved"


def test_allowed_actions_follow_the_same_rules():
    post = in_review()
    assert domain.allowed_actions(post, MOD_1) == ["approve", "reject"]
    assert domain.allowed_actions(post, EDITOR) == ["edit"]
    assert domain.allowed_actions(post, AUDITOR) == []
    assert domain.allowed_actions(news(actor=ADMIN, unit="catp"), ADMIN) == ["edit", "submit", "archive"]


# --- optimistic concurrency and invalid states --------------------------------------------

@pytest.mark.parametrize("action,build,call", _attempts(), ids=[a[0] for a in _attempts()])
def test_a_stale_expected_version_is_a_conflict(action, build, call):
    post = build()
    actor = EDITOR if action in ("edit", "submit", "archive") else MOD_3
    for stale in (post["version"] - 1, post["version"] + 1):
        with pytest.raises(Conflict) as info:
            call(post, actor, stale)
        assert "version" in info.value.errors
    call(post, actor, post["version"])      # the version the client saw goes through
    call(post, actor)                        # and no version means "don't check"


def test_expected_version_is_passed_through_every_operation():
    post = news()
    with pytest.raises(Conflict):
        edit(post, EDITOR, NOW, {"title": "x"}, expected_version=7)
    with pytest.raises(Conflict):
        submit(post, EDITOR, NOW, expected_version=2)
    post = submit(post, EDITOR, NOW, expected_version=1)
    with pytest.raises(Conflict):
        approve(post, MOD_1, NOW, SUMMARY, expected_version=1)
    post = approve(post, MOD_1, NOW, SUMMARY, expected_version=2)
    with pytest.raises(Conflict):
        schedule(post, MOD_1, NOW, LATER, expected_version=2)
    post = schedule(post, MOD_1, NOW, LATER, expected_version=3)
    with pytest.raises(Conflict):
        publish(post, MOD_1, NOW, expected_version=3)


@pytest.mark.parametrize("build,call", [
    (news, lambda p: approve(p, MOD_1, NOW, SUMMARY)),
    (news, lambda p: publish(p, MOD_1, NOW)),
    (news, lambda p: schedule(p, MOD_1, NOW, LATER)),
    (news, lambda p: reject(p, MOD_1, NOW, "x")),
    (in_review, lambda p: submit(p, EDITOR, NOW)),
    (in_review, lambda p: schedule(p, MOD_1, NOW, LATER)),
    (in_review, lambda p: publish(p, MOD_1, NOW)),
    (approved, lambda p: approve(p, MOD_3, NOW, SUMMARY)),
    (approved, lambda p: retract(p, MOD_1, NOW, "x")),
    (published, lambda p: edit(p, EDITOR, NOW, {"title": "y"})),
    (published, lambda p: publish(p, MOD_1, NOW)),
    (published, lambda p: archive(p, MOD_1, NOW)),       # retract first
    (lambda: retract(published(), MOD_1, NOW, "x"), lambda p: retract(p, MOD_1, NOW, "x")),
    (lambda: archive(news(), EDITOR, NOW), lambda p: edit(p, EDITOR, NOW, {"title": "y"})),
    (lambda: archive(news(), EDITOR, NOW), lambda p: submit(p, EDITOR, NOW)),
])
def test_actions_in_the_wrong_state_are_conflicts(build, call):
    with pytest.raises(Conflict) as info:
        call(build())
    assert "status" in info.value.errors


def test_transitions_table_is_consistent():
    for (state, action), (to, permission) in domain.TRANSITIONS.items():
        assert state is None or state in domain.STATUSES
        assert to in domain.STATUSES and (action == "create" or action in domain.ACTION_PERMISSIONS)
        assert "auditor" not in roles_holding(permission)


# --- four eyes ---------------------------------------------------------------------------------

def test_wanted_notice_needs_two_distinct_approvals():
    post = in_review(wanted_notice())
    once = approve(post, MOD_1, NOW, SUMMARY)
    assert once["status"] == "in_review" and [a["by"] for a in once["approvals"]] == ["mod-an"]
    assert once["history"][-1]["reason"] == "1/2"
    again = approve(once, MOD_1, LATER, SUMMARY)          # the same moderator counts once
    assert again == once
    twice = approve(once, ADMIN, LATER, SUMMARY)
    assert twice["status"] == "approved" and [a["by"] for a in twice["approvals"]] == ["mod-an", "adm"]


def test_the_board_can_require_more_approvals_but_never_none():
    post = in_review()
    policy = {"news": 3}
    post = approve(post, MOD_1, NOW, SUMMARY, policy=policy)
    post = approve(post, MOD_2, NOW, SUMMARY, policy=policy)
    assert post["status"] == "in_review"
    assert approve(post, MOD_3, NOW, SUMMARY, policy=policy)["status"] == "approved"
    assert domain.required_approvals("news", {"news": 0}) == 1
    assert domain.required_approvals("wanted_notice") == 2 and domain.required_approvals("video") == 1


def test_editing_an_approved_or_scheduled_post_sends_it_back_to_review():
    post = approved(wanted_notice())
    assert len(post["approvals"]) == 2
    back = edit(post, EDITOR, NOW, {"wanted": dict(WANTED, hometown="phường Nam Bình")})
    assert back["status"] == "in_review" and back["approvals"] == []
    assert back["history"][-1]["from"] == "approved" and "duyệt lại" in back["history"][-1]["reason"]

    scheduled = schedule(approved(), MOD_1, NOW, LATER)
    back = edit(scheduled, EDITOR, NOW, {"title": "Cảnh báo lừa đảo (cập nhật)"})
    assert back["status"] == "in_review" and back["publish_at"] is None and back["approvals"] == []

    under_review = approve(in_review(wanted_notice()), MOD_1, NOW, SUMMARY)
    assert edit(under_review, EDITOR, NOW, {"media": [PHOTO, VIDEO]})["approvals"] == []


def test_an_edit_that_changes_nothing_is_not_a_new_version():
    post = approved()
    assert edit(post, EDITOR, NOW, {"title": post["title"]}) == post


def test_edit_refuses_fields_that_are_not_content():
    for field in ("status", "author", "version", "kind", "history"):
        with pytest.raises(InvalidInput):
            edit(news(), EDITOR, NOW, {field: "x"})


# --- channels ------------------------------------------------------------------------------------

def codes(post, summary):
    return [(p["channel_type"], p["code"]) for p in channel_problems(post, summary)]


@pytest.mark.parametrize("zalo_type", ["zalo_oa_group", "zalo_group_manual"])
def test_zalo_text_over_2000_characters_needs_a_short_variant(zalo_type):
    summary = {"count": 5, "by_type": {zalo_type: 5}}
    long_post = news(body="a" * 2100)
    assert codes(long_post, summary) == [(zalo_type, "zalo_too_long")]
    reason = channel_problems(long_post, summary)[0]["reason"]
    assert "Zalo" in reason and "/" in reason              # Vietnamese / English
    short = edit(long_post, EDITOR, NOW, {"channel_overrides": {"zalo_oa_group": "Cảnh báo lừa đảo, xem fanpage."}})
    assert codes(short, summary) == []                     # either Zalo type's variant serves
    too_long = edit(long_post, EDITOR, NOW, {"channel_overrides": {zalo_type: "b" * 2001}})
    assert codes(too_long, summary) == [(zalo_type, "zalo_too_long")]
    exact = news(title="T", body="c" * (2000 - len("T\n\n")))
    assert codes(exact, summary) == []


def test_youtube_needs_a_video():
    summary = {"count": 1, "by_type": {"youtube_channel": 1}}
    assert codes(news(), summary) == [("youtube_channel", "youtube_no_video")]
    assert codes(news(media=[VIDEO]), summary) == []
    assert codes(news(media=[PHOTO]), summary) == [("youtube_channel", "youtube_no_video")]
    long_title = news(title="t" * 101, media=[VIDEO])
    assert codes(long_title, summary) == [("youtube_channel", "youtube_title_too_long")]


def test_facebook_message_over_63206_characters():
    summary = {"count": 1, "by_type": {"facebook_page": 1}}
    post = news(body="d" * 63206)                           # the body fits; with the title it does not
    assert codes(post, summary) == [("facebook_page", "facebook_too_long")]
    fixed = edit(post, EDITOR, NOW, {"channel_overrides": {"facebook_page": "Bản ngắn cho fanpage."}})
    assert codes(fixed, summary) == []


def test_empty_audience_and_channels_without_limits():
    assert codes(news(), {"count": 0, "by_type": {}}) == [(None, "empty_audience")]
    assert codes(news(), None) == [(None, "empty_audience")]
    assert codes(news(body="e" * 60000), {"count": 2, "by_type": {"email": 1, "webhook": 1}}) == []


def test_approval_is_refused_while_the_channels_have_problems():
    post = in_review(news(body="a" * 2100))
    summary = {"count": 4, "by_type": {"zalo_oa_group": 3, "youtube_channel": 1}}
    with pytest.raises(InvalidInput) as info:
        approve(post, MOD_1, NOW, summary)
    assert set(info.value.errors) == {"zalo_oa_group", "youtube_channel"}
    with pytest.raises(InvalidInput) as info:
        approve(post, MOD_1, NOW, {"count": 0, "by_type": {}})
    assert "audience" in info.value.errors


def test_preview_marks_what_each_platform_would_cut():
    post = news(title="T", body="ạ" * 2100)        # 2,103 characters, 6,303 UTF-8 bytes
    zalo = domain.channel_preview(post, "zalo_group_manual")
    assert (zalo["family"], zalo["limit"], zalo["unit"], zalo["size"]) == ("zalo", 2000, "characters", 2103)
    assert zalo["over"] and zalo["kept"] == 2000 and zalo["text"][zalo["kept"]:] == "ạ" * 103
    youtube = domain.channel_preview(post, "youtube_channel")   # counted in bytes: ạ is 3 of them
    assert youtube["unit"] == "bytes" and youtube["size"] == 3 + 2100 * 3 and youtube["over"]
    assert len(youtube["text"][:youtube["kept"]].encode("utf-8")) <= 5000 < \
        len(youtube["text"][:youtube["kept"] + 1].encode("utf-8"))
    facebook = domain.channel_preview(post, "facebook_page")
    assert not facebook["over"] and facebook["kept"] == facebook["size"] == 2103
    email = domain.channel_preview(post, "email")
    assert email["limit"] is None and not email["over"] and email["kept"] == 2103
    short = domain.channel_preview(edit(post, EDITOR, NOW, {"channel_overrides": {"zalo_oa_group": "Ngắn"}}),
                                   "zalo_group_manual")
    assert short["text"] == "Ngắn" and not short["over"]
    # the preview and the approval check agree on what is too long
    for channel_type in ("zalo_oa_group", "facebook_page", "youtube_channel", "email"):
        preview = domain.channel_preview(post, channel_type)
        too_long = [p for p in channel_problems(post, {"count": 1, "by_type": {channel_type: 1}})
                    if p["code"].endswith("too_long")]
        assert bool(too_long) == preview["over"], channel_type


def test_youtube_title_over_its_limit_is_flagged_in_the_preview():
    preview = domain.channel_preview(news(title="t" * 101), "youtube_channel")
    assert preview["title_limit"] == 100 and preview["title_over"]
    assert not domain.channel_preview(news(title="t" * 101), "facebook_page")["title_over"]


def test_channel_fit_names_the_channels_approval_would_refuse():
    post = in_review(news())
    summary = {"count": 2, "by_type": {"facebook_page": 1, "youtube_channel": 1},
               "channels": {"youtube_channel": [{"id": "yt-1", "name": "Kênh YouTube"}]}}
    fit = domain.channel_fit(post, summary)
    assert [p["code"] for p in fit["problems"]] == ["youtube_no_video"]
    with pytest.raises(InvalidInput) as info:
        approve(post, MOD_1, NOW, summary)
    assert fit["exclude_channels"] == info.value.errors["exclude_channels"] == ["yt-1"]
    assert domain.channel_fit(post, {"count": 1, "by_type": {"facebook_page": 1}}) == \
        {"problems": [], "exclude_channels": []}


def test_history_since_a_version_is_what_a_stale_copy_missed():
    posts = [news()]
    posts.append(edit(posts[-1], EDITOR, NOW, {"body": "Bản thứ hai."}))
    posts.append(submit(posts[-1], EDITOR, NOW))
    posts.append(edit(posts[-1], EDITOR_2, NOW, {"title": "Tiêu đề mới"}))
    posts.append(approve(posts[-1], MOD_1, NOW, SUMMARY))
    history = posts[-1]["history"]
    for seen in posts:
        missed = domain.history_since(history, seen["version"])
        assert missed == history[len(seen["history"]):]
    assert [e["action"] for e in domain.history_since(history, 3)] == ["edit", "approve"]
    assert domain.history_since(history, posts[-1]["version"]) == []


def test_render_for_channel_uses_the_variant_else_title_and_body():
    post = news(channel_overrides={"zalo_oa_group": "Bản ngắn Zalo"})
    assert render_for_channel(post, "zalo_oa_group") == {"text": "Bản ngắn Zalo", "title": post["title"]}
    assert render_for_channel(post, "zalo_group_manual")["text"] == "Bản ngắn Zalo"
    assert render_for_channel(post, "facebook_page")["text"] == \
        "Cảnh báo lừa đảo qua mạng\n\nNgười dân cảnh giác."
    with pytest.raises(InvalidInput):
        news(channel_overrides={"tiktok": "x"})


# --- scheduling and publishing ----------------------------------------------------------------------

def test_schedule_needs_an_aware_future_time():
    post = approved()
    for bad in (NOW - timedelta(minutes=1), NOW, datetime(2030, 1, 1, 9, 0)):
        with pytest.raises(InvalidInput) as info:
            schedule(post, MOD_1, NOW, bad)
        assert "publish_at" in info.value.errors
    local = datetime(2024, 5, 2, 20, 0, tzinfo=domain.VN_TZ)
    scheduled = schedule(post, MOD_1, NOW, local)
    assert scheduled["publish_at"] == datetime(2024, 5, 2, 13, 0, tzinfo=UTC)
    assert scheduled["publish_at"].tzinfo == UTC
    moved = schedule(scheduled, MOD_2, NOW, local + timedelta(days=1))
    assert moved["status"] == "scheduled" and moved["version"] == scheduled["version"] + 1


def test_due():
    scheduled = schedule(approved(), MOD_1, NOW, LATER)
    assert not due(scheduled, NOW) and not due(scheduled, LATER - timedelta(seconds=1))
    assert due(scheduled, LATER) and due(scheduled, LATER + timedelta(days=1))
    assert not due(approved(), LATER)


def test_publish_returns_the_event_snapshot():
    post = approved(news(media=[PHOTO], audience={"units": ["catp"], "channel_types": ["zalo_oa_group"]},
                         channel_overrides={"zalo_oa_group": "Ngắn"}))
    new, snapshot = publish(post, MOD_2, LATER)
    assert new["status"] == "published" and new["published_at"] == LATER
    assert set(snapshot) == {"post_id", "publication_id", "kind", "title", "body", "channel_overrides",
                             "media", "audience", "unit", "published_at", "version"}
    assert snapshot["publication_id"] == new["publication_id"] and len(snapshot["publication_id"]) == 32
    uuid.UUID(hex=snapshot["publication_id"])
    assert snapshot["version"] == new["version"] and snapshot["post_id"] == post["id"]
    assert snapshot["audience"] == {"include_descendants": True, "units": ["catp"],
                                    "channel_types": ["zalo_oa_group"]}
    assert snapshot["media"] == [PHOTO] and snapshot["channel_overrides"] == {"zalo_oa_group": "Ngắn"}
    assert publish(post, MOD_2, LATER)[1]["publication_id"] != snapshot["publication_id"]


def test_a_video_post_needs_a_video_to_be_submitted():
    with pytest.raises(InvalidInput):
        submit(news(kind="video"), EDITOR, NOW)
    assert submit(news(kind="video", media=[VIDEO]), EDITOR, NOW)["status"] == "in_review"
    with pytest.raises(InvalidInput):
        submit(news(body=""), EDITOR, NOW)


# --- wanted notices -----------------------------------------------------------------------------------

EXPECTED_NOTICE = (
    "THÔNG BÁO TRUY NÃ\n"
    "Họ và tên: Nguyễn Văn Tùng\n"
    "Sinh năm: 1990\n"
    "Quê quán: xã Ninh Nhất, thành phố Ninh Bình\n"
    "Tội danh: Lừa đảo chiếm đoạt tài sản\n"
    "Quyết định truy nã số 12/QĐ-CSĐT ngày 05/03/2024 của Cơ quan CSĐT Công an thành phố Ninh Bình.\n"
    "Ai biết tin tức về đối tượng Nguyễn Văn Tùng đề nghị báo ngay cho cơ quan Công an gần nhất "
    "hoặc gọi 113."
)


def test_wanted_notice_body_is_rendered_the_same_way_every_time():
    assert wanted_notice()["body"] == EXPECTED_NOTICE
    messy = dict(WANTED, full_name="  Nguyễn   Văn Tùng ", warrant_date=date(2024, 3, 5),
                 hometown=unicodedata.normalize("NFD", WANTED["hometown"]))
    assert wanted_notice(messy)["body"] == EXPECTED_NOTICE
    for field, value in [("full_name", "Nguyễn Văn Tùng A"), ("birth_year", 1991),
                         ("charge", "Trộm cắp tài sản"), ("warrant_date", "2024-03-06"),
                         ("warrant_number", "13/QĐ-CSĐT")]:
        assert wanted_notice(dict(WANTED, **{field: value}))["body"] != EXPECTED_NOTICE
    described = wanted_notice(dict(WANTED, description="Cao 1m70, có hình xăm ở tay trái"))
    assert "Đặc điểm nhận dạng: Cao 1m70, có hình xăm ở tay trái\n" in described["body"]


def test_wanted_notice_refusals():
    for missing in domain.WANTED_NOTICE_REQUIRED:
        with pytest.raises(InvalidInput) as info:
            wanted_notice({k: v for k, v in WANTED.items() if k != missing})
        assert f"wanted.{missing}" in info.value.errors
    with pytest.raises(InvalidInput):                      # the body is rendered, not typed
        create_draft(EDITOR, NOW, {"kind": "wanted_notice", "title": "Truy nã", "wanted": WANTED,
                                   "body": "tự viết"})
    with pytest.raises(InvalidInput):
        edit(wanted_notice(), EDITOR, NOW, {"body": "tự viết"})
    with pytest.raises(InvalidInput):                      # the photo must be one of the media
        wanted_notice(dict(WANTED, photo_media_id="m-nowhere"))
    assert wanted_notice(dict(WANTED, photo_media_id="m-photo"))["wanted"]["photo_media_id"] == "m-photo"
    with pytest.raises(InvalidInput):
        wanted_notice(dict(WANTED, birth_year=2090))
    with pytest.raises(InvalidInput):
        news(wanted=WANTED)                               # news has no wanted fields
    with pytest.raises(InvalidInput):
        edit(wanted_notice(), EDITOR, NOW, {"wanted": None})


def test_surrender_appeal_with_only_a_name_or_free_text():
    appeal = create_draft(EDITOR, NOW, {"kind": "surrender_appeal", "title": "Kêu gọi đầu thú",
                                        "wanted": {"full_name": "Trần Văn Hùng", "charge": "Cố ý gây thương tích"}})
    assert appeal["body"].startswith("THƯ KÊU GỌI ĐẦU THÚ\nHọ và tên: Trần Văn Hùng\nTội danh: Cố ý gây thương tích\n")
    assert "Quyết định truy nã" not in appeal["body"]
    free = create_draft(EDITOR, NOW, {"kind": "surrender_appeal", "title": "Kêu gọi", "body": "Lời kêu gọi."})
    assert free["body"] == "Lời kêu gọi." and free["wanted"] is None


def test_resolve_surrendered_retracts_and_drafts_the_follow_up():
    notice = published(wanted_notice())
    done, follow_up = resolve(notice, MOD_2, LATER, "surrendered", learned_via_channel_type="zalo_group_manual")
    assert done["status"] == "retracted" and done["version"] == notice["version"] + 1
    assert done["resolution"] == {"outcome": "surrendered", "at": LATER, "by": "mod-ba",
                                  "learned_via_channel_type": "zalo_group_manual",
                                  "follow_up_post_id": follow_up["id"]}
    assert done["history"][-1]["action"] == "resolve" and "đầu thú" in done["history"][-1]["reason"]
    assert follow_up["kind"] == "news" and follow_up["status"] == "draft" and follow_up["version"] == 1
    assert follow_up["author"] == "mod-ba" and follow_up["unit"] == notice["unit"]
    assert follow_up["title"] == "THÔNG BÁO: đối tượng Nguyễn Văn Tùng đã ra đầu thú"
    assert follow_up["body"].startswith("Ngày 02/05/2024, đối tượng Nguyễn Văn Tùng, sinh năm 1990")
    assert follow_up["audience"] == notice["audience"] and follow_up["media"] == []
    assert follow_up["follow_up_of"] == notice["id"]
    # four-eyes holds for the follow-up: its author cannot approve it, another moderator can
    submitted = submit(follow_up, ADMIN, LATER)
    with pytest.raises(Forbidden):
        approve(submitted, MOD_2, LATER, SUMMARY)
    assert approve(submitted, MOD_1, LATER, SUMMARY)["status"] == "approved"


def test_resolve_arrested_withdrawn_and_no_follow_up():
    notice = published(wanted_notice())
    _, arrested = resolve(notice, MOD_1, LATER, "arrested")
    assert arrested["title"].endswith("đã bị bắt") and "đã bị bắt." in arrested["body"]
    done, none = resolve(notice, MOD_1, LATER, "withdrawn")
    assert none is None and done["status"] == "retracted" and done["resolution"]["follow_up_post_id"] is None
    assert resolve(notice, MOD_1, LATER, "arrested", create_follow_up=False)[1] is None


def test_resolve_refusals():
    with pytest.raises(InvalidInput):
        resolve(published(), MOD_1, LATER, "arrested")                 # not a wanted notice
    with pytest.raises(Conflict):
        resolve(approved(wanted_notice()), MOD_1, LATER, "arrested")   # not published
    with pytest.raises(InvalidInput):
        resolve(published(wanted_notice()), MOD_1, LATER, "escaped")
    with pytest.raises(InvalidInput):
        resolve(published(wanted_notice()), MOD_1, LATER, "arrested", learned_via_channel_type="tv")
    with pytest.raises(Forbidden):
        resolve(published(wanted_notice()), EDITOR, LATER, "arrested")


# --- delivery summary ---------------------------------------------------------------------------------

def test_delivery_summary_starts_with_every_channel_pending():
    summary = domain.initial_delivery_summary({"facebook_page": 2, "zalo_group_manual": 1})
    none = {"sent": 0, "failed": 0, "relay_open": 0, "cancelled": 0, "retracted": 0, "take_down_pending": 0}
    assert summary == {"facebook_page": dict(none, pending=2), "zalo_group_manual": dict(none, pending=1)}


def test_delivery_summary_fills_counters_a_report_left_out():
    assert domain.delivery_summary({"webhook": {"sent": 3}}) == {
        "webhook": {"sent": 3, "failed": 0, "pending": 0, "relay_open": 0, "cancelled": 0, "retracted": 0,
                    "take_down_pending": 0}}


def test_a_retracted_post_is_gone_everywhere_only_when_no_take_down_is_left():
    """The board must not read "retracted" while a Zalo group still shows the notice."""
    taken_down = {"facebook_page": {"retracted": 1}, "zalo_oa_group": {"retracted": 3, "failed": 1},
                  "zalo_group_manual": {"cancelled": 2}}
    assert domain.retracted_everywhere(domain.delivery_summary(taken_down))
    still_in_a_group = dict(taken_down, zalo_oa_group={"retracted": 2, "take_down_pending": 1})
    assert not domain.retracted_everywhere(domain.delivery_summary(still_in_a_group))
    # notify has not reported the retraction yet: the summary still says sent
    assert not domain.retracted_everywhere(domain.delivery_summary({"facebook_page": {"sent": 1}}))
    # a delivery in flight when the post was retracted may still land
    assert not domain.retracted_everywhere(domain.delivery_summary({"webhook": {"pending": 1}}))


# --- search -----------------------------------------------------------------------------------------

def test_search_tokens_ignore_diacritics():
    tokens = set(search_tokens_for(news()))
    assert set(search_tokens("canh bao lua dao")) <= tokens
    assert set(search_tokens("CẢNH BÁO")) <= tokens
    notice = wanted_notice()
    assert set(search_tokens("nguyen van tung")) <= set(search_tokens_for(notice))
    nfd = news(title=unicodedata.normalize("NFD", "Cảnh báo lừa đảo"))
    assert search_tokens_for(nfd)[:4] == ["canh", "bao", "lua", "dao"]


# --- text safety ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["a\x00b", "a\x1b[31m", "a\x7fb", "abc\u202egnp.exe", "a\x0bb"])
def test_control_characters_are_refused(bad):
    with pytest.raises(InvalidInput):
        news(body=bad)
    with pytest.raises(InvalidInput):
        news(title=bad)
    with pytest.raises(InvalidInput):
        load(schemas.PostCreate(), {"kind": "news", "title": bad})


def test_text_is_kept_as_text_with_newlines_and_tabs():
    post = news(title="  Cảnh báo  ", body="Dòng 1\r\nDòng 2\r\tthụt lề\n<b>không phải HTML</b>")
    assert post["title"] == "Cảnh báo"
    assert post["body"] == "Dòng 1\nDòng 2\n\tthụt lề\n<b>không phải HTML</b>"
    with pytest.raises(InvalidInput):
        news(title="Hai\ndòng")
    with pytest.raises(InvalidInput):
        news(title="   ")


def test_lengths():
    assert news(title="t" * 300)["title"] == "t" * 300
    with pytest.raises(InvalidInput):
        news(title="t" * 301)
    assert len(news(body="b" * 63206)["body"]) == 63206
    with pytest.raises(InvalidInput):
        news(body="b" * 63207)


# --- input schemas ----------------------------------------------------------------------------------------

def test_schemas_refuse_unknown_fields_and_naive_times():
    with pytest.raises(InvalidInput):
        load(schemas.PostCreate(), {"kind": "news", "title": "x", "status": "published"})
    with pytest.raises(InvalidInput):
        load(schemas.PostEdit(), {"audience": {"units": ["catp"], "$where": "1"}})
    with pytest.raises(InvalidInput) as info:
        load(schemas.Schedule(), {"publish_at": "2030-01-01T09:00:00"})
    assert "publish_at" in info.value.errors
    assert load(schemas.Schedule(), {"publish_at": "2030-01-01T09:00:00+07:00"})["publish_at"].utcoffset()
    for schema, payload in [(schemas.Reject(), {}), (schemas.Retract(), {"reason": " "}),
                            (schemas.Resolve(), {"outcome": "escaped"}),
                            (schemas.PostCreate(), {"kind": "news"}),
                            (schemas.WantedFields(), {"birth_year": 1990}),
                            (schemas.PostEdit(), {"channel_overrides": {"tiktok": "x"}})]:
        with pytest.raises(InvalidInput):
            load(schema, payload)


def test_schemas_load_what_the_domain_takes():
    nfd_title = unicodedata.normalize("NFD", "Thông báo truy nã")
    data = load(schemas.PostCreate(), {
        "kind": "wanted_notice", "title": nfd_title, "media": [PHOTO],
        "wanted": dict(WANTED, photo_media_id="m-photo"), "audience": {"units": ["catp"]},
        "channel_overrides": {"zalo_oa_group": "Truy nã Nguyễn Văn Tùng"}})
    assert data["title"] == "Thông báo truy nã" and data["audience"]["include_descendants"] is True
    post = create_draft(EDITOR, NOW, data)
    assert post["body"] == EXPECTED_NOTICE and post["wanted"]["warrant_date"] == "2024-03-05"
    resolve_data = load(schemas.Resolve(), {"outcome": "arrested", "learned_via": "facebook_page"})
    assert resolve_data == {"outcome": "arrested", "learned_via_channel_type": "facebook_page",
                            "create_follow_up": True}
    edit_data = load(schemas.PostEdit(), {"title": "Mới", "expected_version": 1})
    expected = edit_data.pop("expected_version")
    assert edit(post, EDITOR, NOW, edit_data, expected_version=expected)["title"] == "Mới"
    assert load(schemas.Transition(), {"expected_version": 3}) == {"expected_version": 3}


def test_times_are_stored_in_utc():
    local_now = NOW.astimezone(domain.VN_TZ)
    post = submit(news(), EDITOR, local_now)
    assert post["history"][-1]["at"].utcoffset() == timedelta(0) and post["history"][-1]["at"] == NOW
    assert post["updated_at"].utcoffset() == timedelta(0)


def test_the_editor_preview_renders_a_wanted_body_as_saving_would():
    wanted = {"full_name": "Trần Văn Hùng", "birth_year": 1988, "hometown": "Ninh Bình", "charge": "Cướp giật",
              "warrant_number": "15/QĐ", "warrant_date": "2026-10-01", "issuing_authority": "Cơ quan CSĐT"}
    shown = domain.preview("wanted_notice", {"title": " Truy nã ", "wanted": wanted}, ["zalo_oa_group"], NOW)
    assert shown["wanted_problem"] is None and shown["post"]["title"] == "Truy nã"
    assert shown["post"]["body"].startswith("THÔNG BÁO TRUY NÃ")
    assert shown["previews"][0]["channel_type"] == "zalo_oa_group" and not shown["previews"][0]["over"]
    missing = domain.preview("wanted_notice", {"title": "T", "wanted": {"full_name": "A"}}, [], NOW)
    assert missing["post"]["body"] == "" and "wanted.charge" in missing["wanted_problem"]["errors"]
