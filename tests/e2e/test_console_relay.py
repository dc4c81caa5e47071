"""A relay officer on a phone: the posts they must paste into ordinary Zalo groups by hand."""
import pytest
from playwright.sync_api import expect

from tests.e2e.api import Api, published_post, wait_until
from tests.e2e.conftest import PHONE, check_accessible, sign_in

pytestmark = pytest.mark.integration


def test_relay_officer_confirms_a_task_on_a_phone(open_page, web_stack, screenshot_dir):
    post = published_post(web_stack.url, {"units": ["ca-ninh-khanh"], "channel_types": ["zalo_group_manual"]},
                          title="Nhắc nhở phòng cháy khu nhà trọ")
    officer = Api(web_stack.url, "canbo.ninh-khanh")
    tasks = wait_until(lambda: [t for t in officer.get("/relay-tasks?status=open")["items"]
                                if t["post_id"] == post["id"]], what="relay tasks for the post")

    page = open_page(PHONE)
    sign_in(page, "canbo.ninh-khanh", next_path="/console/relay")
    cards = page.locator("article.task-card")
    assert cards.count() >= len(tasks)
    key = tasks[0]["id"].replace(":", "-")
    first = page.locator(f"#task-{key}")
    assert "Nhắc nhở phòng cháy khu nhà trọ" in first.locator("textarea").input_value()
    # nothing on the page is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_accessible(page, screenshot_dir, "relay-phone")

    # confirming without the permalink says what is missing; with it, the card says done
    first.get_by_role("button", name="Xác nhận đã đăng").click()
    assert first.locator("input[name=permalink]").evaluate("e => !e.validity.valid")  # the browser asks first
    first.get_by_label("Đường dẫn tới tin đã đăng trong nhóm").fill("https://zalo.me/g/nhatro-nk/msg/1001")
    first.get_by_role("button", name="Xác nhận đã đăng").click()
    page.locator(f"#task-{key} .notice-ok").wait_for()
    done = officer.get(f"/relay-tasks/{tasks[0]['id']}")
    assert done["status"] == "done" and done["permalink"] == "https://zalo.me/g/nhatro-nk/msg/1001"

    # retracted: the take-down card opens the confirmed message and does not claim the post is gone
    Api(web_stack.url, "kiemduyet1").post(f"/posts/{post['id']}/retract", {"reason": "Đã hết hiệu lực"})
    take_down = wait_until(lambda: [t for t in officer.get("/relay-tasks?status=open")["items"]
                                    if t["post_id"] == post["id"] and t["purpose"] == "take_down"],
                           what="the take-down task")[0]
    page.reload()
    card = page.locator(f"#task-{take_down['id'].replace(':', '-')}")
    expect(card.get_by_role("link", name="Mở tin đã đăng trong nhóm")).to_have_attribute(
        "href", "https://zalo.me/g/nhatro-nk/msg/1001")
    expect(card).to_contain_text("hệ thống không tự xoá được ở nhóm này")

    # another ward's officer does not see this task
    other = Api(web_stack.url, "canbo.tan-thanh")
    assert all(t["post_id"] != post["id"] for t in other.get("/relay-tasks?status=open")["items"])


def test_home_shows_my_work_and_the_console_speaks_english_on_request(open_page, web_stack, screenshot_dir):
    page = open_page()
    sign_in(page, "tiepnhan")
    tiles = page.locator("a.tile")
    assert tiles.count() >= 3  # tips waiting, emergencies, past SLA, relay work…
    labels = " ".join(tiles.all_inner_texts())
    assert "Tin báo" in labels and "nhóm Zalo" in labels
    # the navigation shows what a triage officer may use, not the directory's officer screens
    nav = page.get_by_role("navigation", name="Điều hướng chính")
    assert nav.get_by_role("link", name="Tin báo").is_visible()
    check_accessible(page, screenshot_dir, "home")

    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/console/**")
    assert page.get_by_role("heading", name="My work").is_visible()
    assert page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Tips").is_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    check_accessible(page, screenshot_dir, "home-english")
    page.get_by_role("button", name="Tiếng Việt").click()
    assert page.get_by_role("heading", name="Việc của tôi").is_visible()
