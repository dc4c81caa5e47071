"""The admin board at work in the console: an editor writes a wanted notice, two moderators
approve it in their own browsers, it is published and the delivery monitor follows the fan-out
to the end; a YouTube channel that cannot take a post is refused and dropped in one click;
two people editing one post; a failed delivery sent again; a retraction still waiting for
its take-downs."""
import re
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.api import Api, published_post, wait_until
from tests.e2e.conftest import PHONE, check_accessible, sign_in

pytestmark = pytest.mark.integration

VN = timezone(timedelta(hours=7))
FANPAGE_SPEC = {"channel_types": ["facebook_page"]}
SETTLE_MS = 60_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64   # what the posts service checks: the bytes say PNG


def resolve(api, spec, limit=200):
    return api.post(f"/audiences/resolve?limit={limit}", spec)


def progress_count(page, channel_type, counter):
    return page.locator(f"#progress-{channel_type} [data-counter={counter}]")


def test_a_wanted_notice_written_approved_by_two_moderators_published_and_followed(open_page, web_stack,
                                                                                    screenshot_dir):
    editor_api = Api(web_stack.url, "bientap")
    fanpage = resolve(editor_api, FANPAGE_SPEC)["channels"][0]
    spec = {"wards": ["ninh-khanh"], "channel_types": ["zalo_oa_group", "zalo_group_manual"],
            "channels": [fanpage["id"]]}
    expected = resolve(editor_api, spec)["by_type"]
    assert expected["zalo_oa_group"] and expected["zalo_group_manual"] and expected["facebook_page"] == 1

    # the editor writes it: the wanted fields make the text, the audience is built with a live count
    editor = open_page()
    sign_in(editor, "bientap", next_path="/console/posts/new")
    editor.get_by_label("Loại bài").select_option("wanted_notice")
    title = unicodedata.normalize("NFD", "🚨 Truy nã đối tượng Trần Văn Hùng")  # typed decomposed: counted as NFC
    editor.get_by_label("Tiêu đề").fill(title)
    for label, value in (("Họ và tên", "Trần Văn Hùng"), ("Năm sinh", "1988"),
                         ("Quê quán", "phường Ninh Khánh, thành phố Ninh Bình"), ("Tội danh", "Cướp giật tài sản"),
                         ("Số quyết định truy nã", "15/QĐ-CSĐT"), ("Ngày ra quyết định", "2026-10-01"),
                         ("Cơ quan ra quyết định", "Cơ quan CSĐT Công an thành phố Ninh Bình"),
                         ("Đặc điểm nhận dạng", "Cao khoảng 1m70, có hình xăm ở cánh tay trái")):
        editor.get_by_label(label, exact=True).fill(value)
    editor.get_by_label("Đặc điểm nhận dạng").blur()
    expect(editor.locator("#generated-body")).to_have_value(re.compile("THÔNG BÁO TRUY NÃ(.|\n)*hình xăm"))
    editor.get_by_role("checkbox", name="phường Ninh Khánh", exact=True).check()
    editor.get_by_role("checkbox", name="Nhóm Zalo OA (gửi tự động)", exact=True).check()
    editor.get_by_role("checkbox", name="Nhóm Zalo thường (đăng tay)", exact=True).check()
    editor.get_by_label("Tìm kênh theo loại").select_option("facebook_page")
    editor.get_by_role("button", name="Tìm kênh").click()
    editor.locator(f"#channel-picker-results input[value='{fanpage['id']}']").check()
    total = sum(expected.values())
    expect(editor.locator(f"#audience-total [data-audience-count='{total}']")).to_be_visible()
    for channel_type, n in expected.items():
        expect(editor.locator(f"#audience-total [data-audience-type={channel_type}]")).to_have_text(str(n))
    typed_counts = {t: editor.locator(f"[data-count-type={t}] .count-size").inner_text()
                    for t in ("facebook_page", "zalo_oa_group", "youtube_channel")}
    check_accessible(editor, screenshot_dir, "posts-editor")
    editor.get_by_role("button", name="Lưu và gửi duyệt").click()
    editor.wait_for_url("**done=submit**")
    post_path = editor.url.split("?")[0].replace(web_stack.url, "")
    # the server's preview counts what the editor's live count showed (code points, NFC; YouTube in bytes)
    facebook_size = editor.locator("#preview-facebook_page .preview-size").inner_text()
    zalo_size = editor.locator("#preview-zalo_oa_group .preview-size").inner_text()
    assert (facebook_size, zalo_size) == (typed_counts["facebook_page"], typed_counts["zalo_oa_group"])
    assert "Chờ duyệt" in editor.locator(".post-meta").inner_text()
    assert editor.get_by_role("button", name="Duyệt bài").count() == 0   # writers never approve

    # two moderators, each in a browser of their own: a wanted notice needs both
    first, second = open_page(), open_page()
    sign_in(first, "kiemduyet1", next_path=post_path)
    sign_in(second, "kiemduyet2", next_path=post_path)
    expect(first.locator(".approvals-count")).to_have_text("Đã duyệt 0/2")
    first.get_by_role("button", name="Duyệt bài").click()
    first.wait_for_url("**done=approve**")
    expect(first.locator(".approvals-count")).to_have_text("Đã duyệt 1/2")
    assert first.get_by_role("button", name="Duyệt bài").count() == 0   # once is once
    assert first.get_by_role("button", name="Đăng ngay").count() == 0
    second.reload()
    expect(second.locator(".approvals-count")).to_have_text("Đã duyệt 1/2")
    second.get_by_role("button", name="Duyệt bài").click()
    second.wait_for_url("**done=approve**")
    expect(second.locator(".approvals-count")).to_have_text("Đã duyệt 2/2")
    history = second.locator(".history-table tbody")
    expect(history).to_contain_text("Thành viên Ban kiểm duyệt 1")   # who, by name
    expect(history).to_contain_text("Lượt duyệt 2/2")
    check_accessible(second, screenshot_dir, "posts-post")

    # published: the monitor follows the fan-out to its final counts without a reload
    second.get_by_role("button", name="Đăng ngay").click()
    second.wait_for_url("**done=publish**")
    second.get_by_role("link", name="Theo dõi gửi bài").first.click()
    second.wait_for_url("**/deliveries")
    second.evaluate("window.stillTheSamePage = true")
    expect(progress_count(second, "zalo_oa_group", "sent")).to_have_text(str(expected["zalo_oa_group"]),
                                                                          timeout=SETTLE_MS)
    expect(progress_count(second, "facebook_page", "sent")).to_have_text("1", timeout=SETTLE_MS)
    expect(progress_count(second, "zalo_group_manual", "relay_open")).to_have_text(
        str(expected["zalo_group_manual"]), timeout=SETTLE_MS)
    expect(second.locator("#delivery-progress[data-busy=false]")).to_be_attached(timeout=SETTLE_MS)
    for channel_type in expected:
        expect(progress_count(second, channel_type, "pending")).to_have_text("0")
    assert second.evaluate("window.stillTheSamePage") is True
    # the relay tasks still open for the manual groups, and the table reloaded with the outcome
    expect(second.locator(".tasks-table tbody tr")).to_have_count(expected["zalo_group_manual"])
    expect(second.locator(".deliveries-table tbody tr[data-status=sent]")).to_have_count(
        expected["zalo_oa_group"] + 1)
    check_accessible(second, screenshot_dir, "posts-monitor")

    # the queue, on a laptop and on a phone
    first.goto("/console/posts?status=published")
    expect(first.locator(".posts-table")).to_contain_text("Truy nã đối tượng Trần Văn Hùng")
    check_accessible(first, screenshot_dir, "posts-queue")
    phone = open_page(PHONE)
    sign_in(phone, "kiemduyet1", next_path="/console/posts")
    expect(phone.get_by_role("link", name="Chờ duyệt")).to_have_attribute("aria-current", "page")  # the board's tab
    phone.goto("/console/posts?status=published")
    expect(phone.locator(".posts-table")).to_contain_text("Truy nã đối tượng Trần Văn Hùng")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_accessible(phone, screenshot_dir, "posts-queue-phone")

    # the person is arrested: closing the notice says the take-down is under way and where to follow it
    second.goto(post_path)
    second.get_by_text("Kết thúc truy nã…").click()
    second.get_by_label("Kết quả", exact=True).select_option("arrested")
    second.get_by_role("button", name="Kết thúc và gỡ bài").click()
    second.wait_for_url("**done=resolve**")
    expect(second.locator(".notice-ok")).to_contain_text("hệ thống đang gỡ bài khỏi các kênh")
    second.locator(".notice-ok").get_by_role("link", name="Theo dõi việc gỡ").click()
    expect(second.locator("#still-up")).to_contain_text("VẪN CÒN", timeout=SETTLE_MS)


def test_a_youtube_channel_without_a_video_is_refused_and_dropped_in_one_click(open_page, web_stack, screenshot_dir):
    editor_api = Api(web_stack.url, "bientap")
    fanpage = resolve(editor_api, FANPAGE_SPEC)["channels"][0]
    youtube = resolve(editor_api, {"channel_types": ["youtube_channel"]})["channels"][0]
    post = editor_api.post("/posts", {"kind": "news", "title": "Clip hướng dẫn thoát hiểm khi cháy nhà trọ",
                                      "body": "Xem clip và chia sẻ cho người thân.",
                                      "audience": {"channels": [fanpage["id"], youtube["id"]]}})
    editor_api.post(f"/posts/{post['id']}/submit")
    path = f"/console/posts/{post['id']}"

    moderator = open_page()
    sign_in(moderator, "kiemduyet1", next_path=path)
    moderator.get_by_role("button", name="Duyệt bài").click()
    refusal = moderator.locator("#channel-problems")
    expect(refusal).to_contain_text("Chưa duyệt được")
    expect(refusal).to_contain_text(youtube["name"])
    expect(moderator.locator(".post-meta")).to_contain_text("Chờ duyệt")   # nothing changed
    check_accessible(moderator, screenshot_dir, "posts-refusal")

    # the editor sees the same problem before anyone approves, and drops the channel in one click
    editor = open_page()
    sign_in(editor, "bientap", next_path=path)
    expect(editor.locator("#channel-problems")).to_contain_text("Kênh YouTube")
    editor.get_by_role("button", name="Bỏ 1 kênh này khỏi đối tượng nhận").click()
    editor.wait_for_url("**done=exclude**")
    expect(editor.locator("#channel-problems")).to_have_count(0)
    expect(editor.locator("[data-audience-type=facebook_page]")).to_have_text("1")
    expect(editor.locator("[data-audience-type=youtube_channel]")).to_have_count(0)
    assert editor_api.get(f"/posts/{post['id']}")["audience"]["exclude_channels"] == [youtube["id"]]

    moderator.goto(path)
    moderator.get_by_role("button", name="Duyệt bài").click()
    moderator.wait_for_url("**done=approve**")
    expect(moderator.locator(".post-meta")).to_contain_text("Đã duyệt")

    # a text longer than a Zalo message: the preview marks what Zalo would cut, and approval says so
    long_body = "Công an thành phố Ninh Bình hướng dẫn thoát hiểm khi cháy nhà trọ. " * 32
    zalo = resolve(editor_api, {"wards": ["ninh-khanh"], "channel_types": ["zalo_oa_group"]}, 1)["channels"][0]
    long_post = editor_api.post("/posts", {"kind": "news", "title": "Hướng dẫn thoát hiểm", "body": long_body,
                                           "audience": {"channels": [fanpage["id"], zalo["id"]]}})
    moderator.goto(f"/console/posts/{long_post['id']}")
    text = f"Hướng dẫn thoát hiểm\n\n{long_body.rstrip()}"
    zalo_preview = moderator.locator("#preview-zalo_oa_group")
    expect(zalo_preview.locator(".preview-size")).to_have_text(f"{len(text):,}".replace(",", "."))
    expect(zalo_preview).to_contain_text("Vượt giới hạn")
    assert zalo_preview.locator("mark.cut").inner_text() == text[2000:]
    expect(moderator.locator("#preview-facebook_page mark.cut")).to_have_count(0)
    expect(moderator.locator("#channel-problems")).to_contain_text("Zalo nhận tối đa 2000")
    check_accessible(moderator, screenshot_dir, "posts-preview-cut")
    moderator.goto(path)

    # scheduled in Vietnam's time whatever the browser's zone says
    when = (datetime.now(VN) + timedelta(days=2)).replace(hour=8, minute=30, second=0, microsecond=0)
    moderator.get_by_label("Hẹn giờ đăng (giờ Việt Nam, UTC+7)").fill(when.strftime("%Y-%m-%dT%H:%M"))
    moderator.get_by_role("button", name="Hẹn giờ").click()
    moderator.wait_for_url("**done=schedule**")
    expect(moderator.locator(".post-meta")).to_contain_text(f"Đăng lúc {when.strftime('%H:%M %d/%m/%Y')}")
    stored = editor_api.get(f"/posts/{post['id']}")
    assert stored["status"] == "scheduled" and datetime.fromisoformat(stored["publish_at"]) == when


def test_a_stale_edit_shows_what_changed_and_keeps_the_other_persons_changes(open_page, web_stack, screenshot_dir):
    editor_api = Api(web_stack.url, "bientap")
    post = editor_api.post("/posts", {"kind": "warning", "title": "Cảnh báo cuộc gọi giả danh",
                                      "body": "Không cung cấp mã OTP cho người lạ.",
                                      "audience": {"wards": ["ninh-khanh"], "channel_types": ["zalo_oa_group"]}})
    path = f"/console/posts/{post['id']}/edit"
    admin, editor = open_page(), open_page()
    sign_in(admin, "admin", password=web_stack.admin_password, next_path=path)
    sign_in(editor, "bientap", next_path=path)

    # the admin changes the text and the audience first
    admin.get_by_label("Nội dung", exact=True).fill("Tuyệt đối không cung cấp mã OTP, số tài khoản cho người lạ.")
    admin.get_by_role("checkbox", name="phường Nam Bình", exact=True).check()
    admin.get_by_role("button", name="Lưu nháp").click()
    admin.wait_for_url("**done=edit**")

    # the editor, still on version 1, changes the title and the text
    editor.get_by_label("Tiêu đề").fill("Cảnh báo cuộc gọi giả danh công an")
    editor.get_by_label("Nội dung", exact=True).fill("Không cung cấp mã OTP cho bất kỳ ai.")
    editor.get_by_role("button", name="Lưu nháp").click()
    conflict = editor.locator("#edit-conflict")
    expect(conflict).to_contain_text("Người khác đã thay đổi bài này")
    expect(conflict.locator(".history-table")).to_contain_text("Quản trị")         # who changed it, by name
    expect(conflict.locator(".history-table")).to_contain_text("Nội dung")
    expect(conflict.locator(".diff-theirs")).to_contain_text("Tuyệt đối không cung cấp mã OTP")  # their text
    expect(conflict.locator(".diff-mine")).to_contain_text("cho bất kỳ ai")                    # against mine
    expect(conflict.locator(".merged-fields")).to_contain_text("Đối tượng nhận")   # only they changed it: taken
    expect(editor.get_by_role("checkbox", name="phường Nam Bình", exact=True)).to_be_checked()
    expect(editor.get_by_label("Tiêu đề")).to_have_value("Cảnh báo cuộc gọi giả danh công an")
    assert editor_api.get(f"/posts/{post['id']}")["title"] == "Cảnh báo cuộc gọi giả danh"  # nothing saved
    check_accessible(editor, screenshot_dir, "posts-stale-edit")

    editor.get_by_role("button", name="Lưu nháp").click()
    editor.wait_for_url("**done=edit**")
    saved = editor_api.get(f"/posts/{post['id']}")
    assert saved["version"] == 3 and saved["title"] == "Cảnh báo cuộc gọi giả danh công an"
    assert saved["body"] == "Không cung cấp mã OTP cho bất kỳ ai."
    assert sorted(saved["audience"]["wards"]) == ["nam-binh", "ninh-khanh"]


def test_a_failed_delivery_is_sent_again_and_a_retraction_says_where_the_post_still_is(open_page, web_stack,
                                                                                       screenshot_dir):
    editor_api = Api(web_stack.url, "bientap")
    spec = {"wards": ["nam-binh"], "channel_types": ["zalo_oa_group", "zalo_group_manual"]}
    expected = resolve(editor_api, spec)["by_type"]
    broken = resolve(editor_api, dict(spec, channel_types=["zalo_oa_group"]))["channels"][0]
    group_id = editor_api.get(f"/channels/{broken['id']}")["external_id"]
    sandbox = f"{web_stack.sandbox_url}/_sandbox/config"
    requests.post(sandbox, json=[{"channel": group_id, "error": {"code": -201, "message": "Nhóm đã giải tán"}}],
                  timeout=10).raise_for_status()
    try:
        post = published_post(web_stack.url, spec, title="Thông báo lịch tiếp công dân")
        monitor = open_page()
        sign_in(monitor, "kiemduyet1", next_path=f"/console/posts/{post['id']}/deliveries")
        expect(progress_count(monitor, "zalo_oa_group", "failed")).to_have_text("1", timeout=SETTLE_MS)
        expect(monitor.locator("#delivery-progress[data-busy=false]")).to_be_attached(timeout=SETTLE_MS)
    finally:
        requests.post(sandbox, json=[{"channel": group_id}], timeout=10).raise_for_status()

    # the group is back: the board sends it again from the monitor, which follows it to "sent"
    row = monitor.locator("#deliveries-part tr[data-status=failed]")
    expect(row).to_contain_text("Nhóm đã giải tán")   # the platform's own words
    row.get_by_role("button", name="Gửi lại").click()
    expect(progress_count(monitor, "zalo_oa_group", "failed")).to_have_text("0", timeout=SETTLE_MS)
    expect(progress_count(monitor, "zalo_oa_group", "sent")).to_have_text(str(expected["zalo_oa_group"]))
    wait_until(lambda: editor_api.get(f"/deliveries?post_id={post['id']}&status=sent&limit=200")["items"],
               what="sent deliveries")

    # retracted: the OA groups have no delete API, so the post stays until the officers take it down
    monitor.goto(f"/console/posts/{post['id']}")
    monitor.get_by_text("Gỡ bài khỏi mọi kênh…").click()
    monitor.get_by_label("Lý do gỡ bài").fill("Lịch đã thay đổi")
    monitor.get_by_role("button", name="Gỡ bài").click()
    monitor.wait_for_url("**done=retract**")
    monitor.get_by_role("link", name="Theo dõi việc gỡ").click()
    still_up = monitor.locator("#still-up")
    expect(still_up).to_contain_text(f"VẪN CÒN trên {expected['zalo_oa_group']} kênh", timeout=SETTLE_MS)
    expect(still_up).to_contain_text("chờ cán bộ gỡ tay khỏi nhóm")
    expect(progress_count(monitor, "zalo_oa_group", "take_down_pending")).to_have_text(str(expected["zalo_oa_group"]))
    expect(monitor.locator("#progress-zalo_oa_group progress")).to_have_attribute("value", "0")  # nothing gone yet
    expect(monitor.locator(".tasks-table")).to_contain_text("Gỡ khỏi nhóm")
    check_accessible(monitor, screenshot_dir, "posts-monitor-retracted")


def test_the_editor_works_without_javascript(open_page, web_stack):
    page = open_page(javascript=False)
    sign_in(page, "bientap", next_path="/console/posts/new")
    page.get_by_label("Tiêu đề").fill("Lịch trực Tết của Công an phường")
    page.get_by_label("Nội dung", exact=True).fill("Người dân cần hỗ trợ gọi 113 hoặc đến trụ sở gần nhất.")
    page.get_by_role("checkbox", name="phường Tân Thành", exact=True).check()
    page.get_by_role("checkbox", name="Nhóm Zalo OA (gửi tự động)", exact=True).check()
    page.get_by_role("button", name="Cập nhật số kênh và số ký tự").click()   # the server counts, nothing saved
    expected = resolve(Api(web_stack.url, "bientap"), {"wards": ["tan-thanh"], "channel_types": ["zalo_oa_group"]})
    expect(page.locator(f"#audience-total [data-audience-count='{expected['count']}']")).to_be_visible()
    text = "Lịch trực Tết của Công an phường\n\nNgười dân cần hỗ trợ gọi 113 hoặc đến trụ sở gần nhất."
    expect(page.locator("[data-count-type=zalo_oa_group] .count-size")).to_have_text(str(len(text)))
    expect(page.get_by_label("Tiêu đề")).to_have_value("Lịch trực Tết của Công an phường")
    page.get_by_label(re.compile("Thêm ảnh")).set_input_files({"name": "../so-do/tru-so.png", "mimeType": "image/png",
                                                               "buffer": PNG})
    page.get_by_role("button", name="Lưu và gửi duyệt").click()
    page.wait_for_url("**done=submit**")
    expect(page.locator(".post-meta")).to_contain_text("Chờ duyệt")
    expect(page.locator("[data-audience-type=zalo_oa_group]")).to_have_text(str(expected["count"]))
    expect(page.locator(".media-list")).to_contain_text("tru-so.png")   # stored by the posts service, base name only
    media, = Api(web_stack.url, "bientap").get(page.url.split("/console")[1].split("?")[0])["media"]
    assert (media["filename"], media["content_type"], media["size"]) == ("tru-so.png", "image/png", len(PNG))
