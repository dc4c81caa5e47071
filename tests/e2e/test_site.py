"""A citizen on a phone (360 px wide): sends an anonymous tip, keeps the code and the secret, reads
the police's reply and adds information; asks a procedure question and gets the FAQ answers at
once; reads the verified news. Every public page is checked by axe-core and works with
JavaScript switched off (the site has none)."""
import re

import pytest

from tests.e2e.api import Api, published_post, wait_until
from tests.e2e.conftest import check_accessible

pytestmark = pytest.mark.integration

SMALL_PHONE = {"width": 360, "height": 780}


def fits_the_screen(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


def send_tip(page, text):
    page.goto("/gui-tin-bao")
    page.get_by_label("Sự việc bạn muốn báo (bắt buộc)").fill(text)
    page.get_by_role("button", name="Gửi tin báo").click()
    page.wait_for_url("**/gui-tin-bao/da-gui")
    return page.locator("#tip-code").inner_text(), page.locator("#tip-secret").inner_text()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_a_citizen_sends_a_tip_follows_it_up_and_adds_information(open_page, web_stack, screenshot_dir, javascript):
    page = open_page(SMALL_PHONE, javascript=javascript)
    page.goto("/gui-tin-bao")
    assert "gọi ngay 113" in page.locator("main").inner_text()[:300]
    fits_the_screen(page)
    # anonymous is the default: the contact boxes are hidden until the citizen chooses to leave them
    assert page.get_by_label("Gửi ẩn danh", exact=False).is_checked()
    assert not page.get_by_label("Số điện thoại").is_visible()
    page.get_by_label("Để lại thông tin để công an liên hệ lại với bạn").check()
    assert page.get_by_label("Số điện thoại").is_visible()
    page.get_by_label("Gửi ẩn danh", exact=False).check()
    page.get_by_label("Phường, xã nơi xảy ra (không bắt buộc)").select_option(label="phường Ninh Khánh")
    if javascript:  # axe-core is a script: it runs where scripts do
        check_accessible(page, screenshot_dir, "site-send-phone")
    code, secret = send_tip(page, "Đêm nào cũng có nhóm thanh niên tụ tập đua xe, gây ồn ở đường Tràng An, "
                                  "phường Ninh Khánh")
    assert re.fullmatch(r"NB(-[0-9A-Z]{4}){3}", code) and len(secret) >= 16
    assert "secret" not in page.url and secret not in page.url
    fits_the_screen(page)
    if javascript:  # axe-core is a script: it runs where scripts do
        check_accessible(page, screenshot_dir, "site-receipt-phone")
    with page.expect_download() as download:
        page.get_by_role("button", name="Tải về tệp chứa mã và mật mã").click()
    saved = open(download.value.path(), encoding="utf-8").read()
    assert code in saved and secret in saved

    # an officer replies through the API
    officer = Api(web_stack.url, "canbo.ninh-khanh")
    tip = wait_until(lambda: officer.get(f"/tips?text={code}")["items"], what="the tip in the unit's list")[0]
    officer.post(f"/tips/{tip['id']}/messages", {"text": "Công an phường Ninh Khánh đã nhận tin, tối nay sẽ tuần tra."})

    # the citizen, on another phone, looks it up with the code and the secret
    other = open_page(SMALL_PHONE, javascript=javascript)
    other.goto("/tra-cuu")
    other.get_by_label("Mã tin báo").fill(code)
    other.get_by_label("Mật mã").fill("sai-mat-ma-" + "x" * 20)
    other.get_by_role("button", name="Xem tin báo").click()
    assert "không đúng" in other.locator("#lookup-error").inner_text()
    if javascript:  # axe-core is a script: it runs where scripts do
        check_accessible(other, screenshot_dir, "site-lookup-phone")
    other.get_by_label("Mật mã").fill(secret)
    other.get_by_role("button", name="Xem tin báo").click()
    other.wait_for_url("**/tra-cuu/tin-bao")
    assert "tối nay sẽ tuần tra" in other.locator("main").inner_text()
    other.get_by_label("Thông tin thêm").fill("Thường từ 23 giờ, khoảng 10 xe máy.")
    other.get_by_role("button", name="Gửi thêm").click()
    other.get_by_text("Đã gửi thêm thông tin").wait_for()
    assert "khoảng 10 xe máy" in other.locator("main").inner_text()
    fits_the_screen(other)
    if javascript:  # axe-core is a script: it runs where scripts do
        check_accessible(other, screenshot_dir, "site-status-phone")
    thread = officer.get(f"/tips/{tip['id']}")["messages"]
    assert thread[-1]["from"] == "citizen" and "khoảng 10 xe máy" in thread[-1]["text"]


def test_a_procedure_question_shows_faq_answers_at_once(open_page, screenshot_dir):
    page = open_page(SMALL_PHONE)
    send_tip(page, "Cho hỏi thủ tục đăng ký tạm trú cho sinh viên thuê trọ cần những giấy tờ gì?")
    answers = page.locator("section.faq-answers")
    answers.wait_for()
    assert answers.get_by_role("heading", name="Có thể bạn cần:").is_visible()
    assert "tạm trú" in answers.inner_text().lower()
    fits_the_screen(page)
    check_accessible(page, screenshot_dir, "site-faq-answers-phone")


def test_the_news_lists_a_published_post_and_not_a_draft(open_page, web_stack, screenshot_dir):
    post = published_post(web_stack.url, {"units": ["ca-ninh-khanh"], "channel_types": ["zalo_group_manual"]},
                          title="Cảnh báo thủ đoạn giả danh nhân viên điện lực")
    draft = Api(web_stack.url, "bientap").post("/posts", {
        "kind": "news", "title": "Bản nháp chưa được duyệt", "body": "Chưa đăng",
        "audience": {"units": ["ca-ninh-khanh"]}})
    page = open_page(SMALL_PHONE)
    page.goto("/")
    main = page.locator("main")
    assert "Cảnh báo thủ đoạn giả danh nhân viên điện lực" in main.inner_text()
    assert "Bản nháp chưa được duyệt" not in main.inner_text()
    fits_the_screen(page)
    check_accessible(page, screenshot_dir, "site-news-phone")
    page.get_by_label("Tìm tin (gõ có dấu hoặc không dấu)").fill("gia danh dien luc")
    page.get_by_role("button", name="Tìm").click()
    page.get_by_role("link", name="Cảnh báo thủ đoạn giả danh nhân viên điện lực").click()
    page.wait_for_url(f"**/tin/{post['id']}")
    assert "mã OTP" in page.locator("main").inner_text()
    check_accessible(page, screenshot_dir, "site-post-phone")
    assert page.goto(f"/tin/{draft['id']}").status == 404
    # the same without JavaScript
    plain = open_page(SMALL_PHONE, javascript=False)
    plain.goto("/?q=gia danh dien luc")
    plain.get_by_role("link", name="Cảnh báo thủ đoạn giả danh nhân viên điện lực").click()
    plain.wait_for_url(f"**/tin/{post['id']}")
