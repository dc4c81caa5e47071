"""Posts through the HTTP API: every transition and refusal, four-eyes, channel checks,
the scheduler with a real timer, wanted-person resolution, search, public view, media,
and a posts-service crash in the middle of a publish."""
import io
import struct
import subprocess
import time
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from kombu import Connection, Exchange
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.events import make_event
from contracts.rpc import Conflict
from tests.conftest import login
from tests.support import answers, problem, spawn_service, wait_for

pytestmark = pytest.mark.integration

DEMO_PASSWORD = "demo-password-123"
NK_BOARDING = {"kinds": ["boarding_house"], "wards": ["ninh-khanh"]}
WANTED = {"full_name": "Nguyễn Văn Bình", "birth_year": 1990, "hometown": "xã Ninh Nhất, Ninh Bình",
          "charge": "Cướp tài sản", "warrant_number": "12/QĐ-CSĐT", "warrant_date": "2026-10-01",
          "issuing_authority": "Cơ quan CSĐT Công an thành phố Ninh Bình"}


@pytest.fixture(scope="module")
def stack(module_stack):
    module_stack.start("groups", "posts")
    module_stack.rpc.groups.load_demo_data("city", DEMO_PASSWORD, "http://127.0.0.1:8900")
    c = module_stack.client
    module_stack.editor = login(c, "bientap", DEMO_PASSWORD)
    module_stack.mod1 = login(c, "kiemduyet1", DEMO_PASSWORD)
    module_stack.mod2 = login(c, "kiemduyet2", DEMO_PASSWORD)
    module_stack.auditor = login(c, "thanhtra", DEMO_PASSWORD)
    module_stack.admin = login(c, "admin", "admin-password-for-tests")
    return module_stack


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_json()


def new_post(stack, **fields):
    payload = {"kind": "news", "title": "Cảnh báo lừa đảo qua mạng", "body": "Người dân cảnh giác.",
               "audience": NK_BOARDING}
    payload.update(fields)
    return ok(stack.client.post("/api/v1/posts", headers=stack.editor, json=payload), 201)


def act(stack, post, action, headers, **body):
    return stack.client.post(f"/api/v1/posts/{post['id']}/{action}", headers=headers, json=body)


def events_for(stack, post_id, event_type=None):
    query = {"envelope.data.post_id": post_id}
    if event_type:
        query["envelope.type"] = event_type
    return [e["envelope"] for e in stack.db("posts").outbox.find(query).sort("_id", 1)]


def test_the_whole_walk_with_history_in_order(stack):
    c = stack.client
    post = new_post(stack)
    assert post["status"] == "draft" and post["version"] == 1
    got = c.get(f"/api/v1/posts/{post['id']}", headers=stack.editor)
    assert got.headers["ETag"] == '"1"'
    problem(c.patch(f"/api/v1/posts/{post['id']}", headers=stack.editor, json={"body": "x"}), 428)
    problem(c.patch(f"/api/v1/posts/{post['id']}", headers=dict(stack.editor, **{"If-Match": '"7"'}),
                    json={"body": "x"}), 409)
    post = ok(c.patch(f"/api/v1/posts/{post['id']}", headers=dict(stack.editor, **{"If-Match": '"1"'}),
                      json={"body": "Người dân cần cảnh giác với cuộc gọi giả danh công an."}))
    assert post["version"] == 2
    post = ok(act(stack, post, "submit", stack.editor))
    assert post["status"] == "in_review" and post["audience_count"] > 0
    post = ok(act(stack, post, "approve", stack.mod1))
    assert post["status"] == "approved"
    post = ok(act(stack, post, "publish", stack.mod2))
    assert post["status"] == "published" and post["publication_id"]
    assert post["delivery_summary"]["zalo_oa_group"]["pending"] == post["audience_by_type"]["zalo_oa_group"]
    history = ok(c.get(f"/api/v1/posts/{post['id']}/history", headers=stack.auditor))
    assert [h["action"] for h in history] == ["create", "edit", "submit", "approve", "publish"]
    assert [h["to"] for h in history] == ["draft", "draft", "in_review", "approved", "published"]
    published = events_for(stack, post["id"], "posts.published")
    assert len(published) == 1
    assert published[0]["data"]["publication_id"] == post["publication_id"]
    assert published[0]["data"]["audience"] == dict(NK_BOARDING, include_descendants=True)
    types = [e["type"] for e in events_for(stack, post["id"])]
    assert types == ["posts.submitted", "posts.approved", "posts.published"]
    retracted = ok(act(stack, post, "retract", stack.mod1, reason="Thông tin đã cũ"))
    assert retracted["status"] == "retracted"
    assert events_for(stack, post["id"], "posts.retracted")[0]["data"]["reason"] == "Thông tin đã cũ"


def test_refusals_wrong_role_own_post_invalid_state_missing_reason(stack):
    post = new_post(stack)
    problem(act(stack, post, "approve", stack.mod1), 409)            # a draft is not in review
    post = ok(act(stack, post, "submit", stack.editor))
    problem(act(stack, post, "approve", stack.editor), 403)          # editors are not the board
    problem(act(stack, post, "approve", stack.auditor), 403)
    problem(act(stack, post, "reject", stack.mod1), 422)             # reason required
    problem(act(stack, post, "reject", stack.mod1, reason="   "), 422)
    problem(act(stack, post, "publish", stack.mod1), 409)            # not approved yet
    problem(stack.client.post("/api/v1/posts", headers=stack.auditor,
                              json={"kind": "news", "title": "x", "audience": NK_BOARDING}), 403)
    rejected = ok(act(stack, post, "reject", stack.mod1, reason="Thiếu nguồn"))
    assert rejected["status"] == "rejected"
    # an admin who wrote a post still cannot approve it
    own = ok(stack.client.post("/api/v1/posts", headers=stack.admin, json={
        "kind": "news", "title": "Tin của quản trị", "body": "Nội dung", "audience": NK_BOARDING,
        "unit": "doi-tham-muu"}), 201)
    own = ok(act(stack, own, "submit", stack.admin))
    assert "own post" in str(problem(act(stack, own, "approve", stack.admin), 403)["errors"])


def test_editing_an_approved_post_sends_it_back_to_review(stack):
    post = ok(act(stack, new_post(stack), "submit", stack.editor))
    post = ok(act(stack, post, "approve", stack.mod1))
    post = ok(stack.client.patch(f"/api/v1/posts/{post['id']}",
                                 headers=dict(stack.editor, **{"If-Match": f'"{post["version"]}"'}),
                                 json={"title": "Cảnh báo lừa đảo (cập nhật)"}))
    assert post["status"] == "in_review" and not post.get("approvals")


def test_wanted_notice_needs_two_moderators_then_resolves_with_a_follow_up(stack):
    c = stack.client
    post = ok(c.post("/api/v1/posts", headers=stack.editor, json={
        "kind": "wanted_notice", "title": "Thông báo truy nã", "wanted": WANTED,
        "audience": {"units": ["catp"], "channel_types": ["facebook_page", "zalo_oa_group"]}}), 201)
    assert "Nguyễn Văn Bình" in post["body"] and "12/QĐ-CSĐT" in post["body"]
    post = ok(act(stack, post, "submit", stack.editor))
    post = ok(act(stack, post, "approve", stack.mod1))
    assert post["status"] == "in_review" and post["required_approvals"] == 2
    assert "approve" not in post["allowed_actions"]                  # nothing more for this moderator to do
    early = problem(act(stack, post, "publish", stack.mod1), 409)    # 1 of 2 approvals: says so
    assert early["errors"]["approvals"] == ["1/2"] and "2" in early["detail"]
    again = ok(act(stack, post, "approve", stack.mod1))
    assert again["version"] == post["version"]                       # the same moderator counts once
    post = ok(act(stack, post, "approve", stack.mod2))
    assert post["status"] == "approved"
    post = ok(act(stack, post, "publish", stack.mod1))
    result = ok(act(stack, post, "resolve", stack.mod1, outcome="surrendered", learned_via="zalo_oa_group"))
    assert result["post"]["status"] == "retracted"
    assert result["post"]["resolution"]["outcome"] == "surrendered"
    # one date format everywhere: ISO 8601, also inside approvals and the resolution
    for at in [a["at"] for a in result["post"]["approvals"]] + [result["post"]["resolution"]["at"]]:
        assert datetime.fromisoformat(at).tzinfo is not None, at
    history = ok(stack.client.get(f"/api/v1/posts/{post['id']}/history", headers=stack.auditor))
    assert [h["from"] for h in history][:2] == [None, "draft"]
    follow_up = result["follow_up"]
    assert follow_up["status"] == "draft" and "đầu thú" in follow_up["body"]
    types = [e["type"] for e in events_for(stack, post["id"])][-2:]
    assert types == ["posts.retracted", "posts.wanted_resolved"]
    stats = ok(c.get("/api/v1/stats/wanted", headers=stack.auditor))
    assert stats["surrenders_by_channel_type"].get("zalo_oa_group", 0) >= 1
    problem(act(stack, result["post"], "resolve", stack.mod1, outcome="arrested"), 409)
    # the public still finds the notice, marked resolved, without the person's details
    public = ok(c.get(f"/api/v1/public/posts/{post['id']}"))
    assert public["resolved"]["outcome"] == "surrendered" and public["resolved"]["label"] == "đã ra đầu thú"
    assert public["body"] == "" and public["media"] == []
    listed = ok(c.get("/api/v1/public/posts?kind=wanted_notice&limit=100"))["items"]
    assert post["id"] in [p["id"] for p in listed]


def test_channel_checks_refuse_approval_with_the_reason(stack):
    long_body = "Nội dung rất dài. " * 150  # > 2,000 characters
    zalo = ok(act(stack, new_post(stack, body=long_body), "submit", stack.editor))
    errors = problem(act(stack, zalo, "approve", stack.mod1), 422)["errors"]
    assert "zalo_oa_group" in errors
    fixed = ok(stack.client.patch(f"/api/v1/posts/{zalo['id']}",
                                  headers=dict(stack.editor, **{"If-Match": f'"{zalo["version"]}"'}),
                                  json={"channel_overrides": {"zalo_oa_group": "Bản tóm tắt cho Zalo."}}))
    fixed = ok(act(stack, fixed, "submit", stack.editor)) if fixed["status"] == "draft" else fixed
    assert ok(act(stack, fixed, "approve", stack.mod1))["status"] == "approved"

    youtube = ok(act(stack, new_post(stack, audience={"channel_types": ["youtube_channel"]}), "submit", stack.editor))
    assert "youtube_channel" in problem(act(stack, youtube, "approve", stack.mod1), 422)["errors"]
    nobody = ok(act(stack, new_post(stack, audience={"wards": ["atlantis"]}), "submit", stack.editor))
    assert "audience" in problem(act(stack, nobody, "approve", stack.mod1), 422)["errors"]


def test_channel_check_before_approval_and_the_one_click_fix(stack):
    """What approval would refuse is asked before approving (the console shows it to the editor),
    with the same channels the refusal names; leaving them out of the audience lets it through."""
    youtube = stack.rpc.groups.resolve_audience({"channel_types": ["youtube_channel"]}, 5)["channels"]
    fanpage = stack.rpc.groups.resolve_audience({"channel_types": ["facebook_page"]}, 5)["channels"]
    audience = {"channels": [fanpage[0]["id"], youtube[0]["id"]]}
    post = ok(act(stack, new_post(stack, audience=audience), "submit", stack.editor))
    check = stack.rpc.posts.check_channels(post["id"])
    assert check["audience_by_type"] == {"facebook_page": 1, "youtube_channel": 1}
    assert [p["code"] for p in check["problems"]] == ["youtube_no_video"]
    refusal = problem(act(stack, post, "approve", stack.mod1), 422)["errors"]
    assert refusal["exclude_channels"] == check["exclude_channels"] == [youtube[0]["id"]]
    fixed = ok(stack.client.patch(f"/api/v1/posts/{post['id']}",
                                  headers=dict(stack.editor, **{"If-Match": f'"{post["version"]}"'}),
                                  json={"audience": dict(audience, exclude_channels=refusal["exclude_channels"])}))
    assert fixed["audience_by_type"] == {"facebook_page": 1}
    assert stack.rpc.posts.check_channels(post["id"])["problems"] == []
    assert ok(act(stack, fixed, "approve", stack.mod1))["status"] == "approved"


def test_history_since_a_version_is_what_a_stale_editor_missed(stack):
    post = new_post(stack)
    e = dict(stack.editor, **{"If-Match": '"1"'})
    ok(stack.client.patch(f"/api/v1/posts/{post['id']}", headers=e, json={"body": "Bản sửa thứ nhất."}))
    problem(stack.client.patch(f"/api/v1/posts/{post['id']}", headers=e, json={"title": "Bản cũ"}), 409)
    missed = stack.rpc.posts.history(post["id"], 1)
    assert [(h["action"], h["from"], h["to"]) for h in missed] == [("edit", "draft", "draft")]
    assert "body" in missed[0]["reason"]
    assert len(stack.rpc.posts.history(post["id"])) == 2 and stack.rpc.posts.history(post["id"], 2) == []


def test_schedule_publishes_on_time_exactly_once_with_two_instances(stack):
    stack.start("posts")  # a second posts-service instance: both run the scheduler
    post = ok(act(stack, ok(act(stack, new_post(stack), "submit", stack.editor)), "approve", stack.mod1))
    problem(act(stack, post, "schedule", stack.mod1, publish_at="2020-01-01T00:00:00+07:00"), 422)
    problem(act(stack, post, "schedule", stack.mod1, publish_at="2030-01-01T00:00:00"), 422)  # no zone
    problem(act(stack, post, "schedule", stack.mod1, publish_at="next tuesday"), 422)
    due = datetime.now(timezone.utc) + timedelta(seconds=3)
    post = ok(act(stack, post, "schedule", stack.mod1, publish_at=due.isoformat()))
    assert post["status"] == "scheduled"
    published = wait_for(lambda: stack.client.get(f"/api/v1/posts/{post['id']}", headers=stack.editor)
                         .get_json()["status"] == "published", timeout=15, message="scheduled publish")
    assert published
    doc = stack.db("posts").posts.find_one({"_id": post["id"]})
    assert doc["published_at"] - due < timedelta(seconds=5)
    time.sleep(2)  # give the other instance's timer a chance to publish twice
    assert len(events_for(stack, post["id"], "posts.published")) == 1


def test_search_is_diacritics_insensitive_and_filters(stack):
    marker = new_post(stack, title="Cảnh báo thủ đoạn chiếm đoạt tài sản qua Zalo")
    found = ok(stack.client.get("/api/v1/posts?q=chiem doat tai san&status=draft", headers=stack.auditor))
    assert marker["id"] in [p["id"] for p in found["items"]]
    assert ok(stack.client.get("/api/v1/posts?q=chiếm đoạt&kind=video", headers=stack.auditor))["items"] == []
    problem(stack.client.get("/api/v1/posts?status=nonsense", headers=stack.auditor), 422)
    problem(stack.client.get("/api/v1/posts?created_from=yesterday", headers=stack.auditor), 422)


def test_public_view_shows_published_only_without_internal_fields(stack):
    script = "<script>alert('x')</script> Cảnh báo"
    post = ok(act(stack, ok(act(stack, new_post(stack, title=script), "submit", stack.editor)), "approve", stack.mod1))
    problem(stack.client.get(f"/api/v1/public/posts/{post['id']}"), 404)      # approved is not public
    ok(act(stack, post, "publish", stack.mod1))
    public = stack.client.get(f"/api/v1/public/posts/{post['id']}")
    assert public.content_type == "application/json" and public.headers["X-Content-Type-Options"] == "nosniff"
    body = public.get_json()
    assert body["title"] == script                                             # stored as text, verbatim
    assert set(body) == {"id", "kind", "title", "body", "media", "published_at"}
    listed = ok(stack.client.get("/api/v1/public/posts?limit=100"))
    assert all("author" not in p and "audience" not in p for p in listed["items"])


def test_public_list_is_latest_published_first_and_leaves_out_other_retractions(stack):
    written_first = ok(act(stack, ok(act(stack, new_post(stack, title="Tin viết trước đăng sau"), "submit",
                                         stack.editor)), "approve", stack.mod1))
    written_second = ok(act(stack, ok(act(stack, new_post(stack, title="Tin viết sau đăng trước"), "submit",
                                          stack.editor)), "approve", stack.mod1))
    ok(act(stack, written_second, "publish", stack.mod1))
    ok(act(stack, written_first, "publish", stack.mod1))
    page1 = ok(stack.client.get("/api/v1/public/posts?limit=1"))
    assert page1["items"][0]["id"] == written_first["id"]
    page2 = ok(stack.client.get(f"/api/v1/public/posts?limit=1&cursor={page1['next_cursor']}"))
    assert page2["items"][0]["id"] == written_second["id"]
    retracted = ok(act(stack, ok(stack.client.get(f"/api/v1/posts/{written_second['id']}", headers=stack.mod1)),
                       "retract", stack.mod1, reason="Đăng nhầm"))
    assert retracted["status"] == "retracted"
    problem(stack.client.get(f"/api/v1/public/posts/{written_second['id']}"), 404)
    listed = ok(stack.client.get("/api/v1/public/posts?q=tin viet sau dang truoc"))["items"]
    assert written_second["id"] not in [p["id"] for p in listed]
    assert [p["id"] for p in ok(stack.client.get("/api/v1/public/posts?q=tin viet truoc dang sau"))["items"]] == [
        written_first["id"]]


def png_bytes():
    raw = b"\x00\xff\x00\x00"
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_media_upload_checks_type_content_and_name(stack):
    c = stack.client
    good = c.post("/api/v1/media", headers=stack.editor, content_type="multipart/form-data",
                  data={"file": (io.BytesIO(png_bytes()), "../../etc/ảnh truy nã.png", "image/png")})
    media = ok(good, 201)
    assert media["filename"] == "ảnh truy nã.png" and media["size"] == len(png_bytes())
    download = c.get(f"/api/v1/media/{media['media_id']}")
    assert download.data == png_bytes() and download.mimetype == "image/png"
    problem(c.post("/api/v1/media", headers=stack.editor, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(b"#!/bin/sh\necho hi"), "x.png", "image/png")}), 422)
    problem(c.post("/api/v1/media", headers=stack.editor, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.exe", "application/x-msdownload")}), 422)
    problem(c.post("/api/v1/media", headers=stack.editor, content_type="multipart/form-data", data={}), 422)
    problem(c.post("/api/v1/media", headers=stack.auditor, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(png_bytes()), "a.png", "image/png")}), 403)
    with_media = new_post(stack, media=[media])
    assert with_media["media"][0]["media_id"] == media["media_id"]
    problem(stack.client.post("/api/v1/posts", headers=stack.editor, json={
        "kind": "news", "title": "x", "audience": NK_BOARDING,
        "media": [dict(media, media_id="doesnotexist")]}), 404)


def test_delivery_progress_from_notify_updates_the_summary_newest_report_wins(stack):
    post = ok(act(stack, ok(act(stack, ok(act(stack, new_post(stack), "submit", stack.editor)), "approve",
                                stack.mod1)), "publish", stack.mod1))
    total = post["delivery_summary"]["zalo_oa_group"]["pending"]
    published = datetime.fromisoformat(post["published_at"])

    def report(seconds_after, sent):
        return make_event("notify.publication_progress", {
            "publication_id": post["publication_id"], "post_id": post["id"],
            "as_of": (published + timedelta(seconds=seconds_after)).isoformat(), "total": total,
            "open": total - sent, "by_channel_type": {"zalo_oa_group": {"sent": sent, "pending": total - sent}}},
            producer="notify")
    newer, older = report(2, total), report(1, 1)
    exchange = Exchange("notify.events", type="topic", durable=True)
    with Connection(stack.config["AMQP_URI"]) as conn:
        producer = conn.Producer()
        for event in (newer, newer, older):  # a repeat, and an older report arriving late: both ignored
            producer.publish(event, exchange=exchange, routing_key="notify.publication_progress",
                             serializer="json", declare=[exchange])

    def summary():
        return stack.client.get(f"/api/v1/posts/{post['id']}", headers=stack.editor).get_json()["delivery_summary"]
    wait_for(lambda: summary()["zalo_oa_group"]["sent"] == total, message="summary updated")
    time.sleep(1.5)
    assert summary()["zalo_oa_group"] == {"sent": total, "failed": 0, "pending": 0, "relay_open": 0,
                                          "cancelled": 0, "retracted": 0, "take_down_pending": 0}


EDITOR = {"id": "bientap", "username": "bientap", "roles": ["editor"], "unit_id": "doi-tham-muu"}
MODERATOR = {"id": "kiemduyet1", "username": "kiemduyet1", "roles": ["moderator"], "unit_id": "catp"}


def test_posts_killed_inside_a_publish_leaves_it_unpublished_and_eventless(run_services, rpc, config,
                                                                          mongo_client, tmp_path):
    """SIGKILL after the publish wrote its changes but before the transaction committed:
    after restart the post is still approved with no event; publishing again sends one."""
    run_services("groups")
    rpc.groups.load_demo_data("city", None, "http://127.0.0.1:8900")
    log = tmp_path / "posts.log"
    posts = spawn_service("posts", config, log_path=log)
    try:
        wait_for(lambda: answers(rpc.posts), timeout=30, message="posts up")
        post = rpc.posts.create_post(EDITOR, {"kind": "news", "title": "Tin thử", "body": "Nội dung",
                                              "audience": NK_BOARDING})
        rpc.posts.submit(EDITOR, post["id"])
        post = rpc.posts.approve(MODERATOR, post["id"])
        assert post["status"] == "approved"
    finally:
        posts.terminate()
        posts.wait(timeout=20)

    crashing = spawn_service("posts", config, {"BINHYEN_FAILPOINT": "store.before_commit"}, log)
    wait_for(lambda: answers(rpc.posts), timeout=30, message="crashing posts up")
    rpc.posts.publish.call_async(MODERATOR, post["id"])
    assert crashing.wait(timeout=30) == -9, log.read_text()[-2000:]
    db = mongo_client[f"{config['MONGODB_DB_PREFIX']}posts"]
    assert db.posts.find_one({"_id": post["id"]})["status"] == "approved"
    assert db.outbox.count_documents({"envelope.type": "posts.published"}) == 0
    assert [h["action"] for h in db.posts.find_one({"_id": post["id"]})["history"]][-1] == "approve"

    restarted = spawn_service("posts", config, log_path=log)
    try:
        wait_for(lambda: answers(rpc.posts), timeout=30, message="posts back")
        # The killed process's transaction still holds the post until the server aborts it
        # (MongoDB and SecantusDB: 60 s); the publish retries its transaction until then.
        # The broker also redelivers the unacknowledged publish request to the restarted
        # process, so two publishes race: exactly one may win, the other sees a conflict.
        with ClusterRpcProxy(config, timeout=120) as patient:
            try:
                assert patient.posts.publish(MODERATOR, post["id"])["status"] == "published"
            except Conflict:
                pass
        assert db.posts.find_one({"_id": post["id"]})["status"] == "published"
        wait_for(lambda: db.outbox.count_documents({"envelope.type": "posts.published", "sent_at": {"$ne": None}}) == 1,
                 message="the one event sent")
        assert db.outbox.count_documents({"envelope.type": "posts.published"}) == 1
    finally:
        restarted.terminate()
        try:
            restarted.wait(timeout=20)
        except subprocess.TimeoutExpired:
            restarted.kill()
