"""The tip inbox: a triage officer takes up an emergency a citizen just sent, a ward's police see
their ward's tips and no other's, and an admin reveals a tipster only with a reason, audited."""
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.api import Api, wait_until
from tests.e2e.conftest import LAPTOP, PHONE, check_accessible, sign_in

pytestmark = pytest.mark.integration


def citizen_sends(base_url, text, **fields):
    """A citizen's tip through the public API: (tip code, secret)."""
    response = requests.post(f"{base_url}/api/v1/public/tips", json={"text": text, **fields}, timeout=30)
    assert response.status_code == 202, response.text
    receipt = response.json()
    return receipt["tip_code"], receipt["secret"]


def citizen_reads(base_url, code, secret):
    """What the citizen sees at the follow-up address (401 until the tip is stored)."""
    response = requests.get(f"{base_url}/api/v1/public/tips/{code}", headers={"X-Tip-Secret": secret}, timeout=30)
    return response.json() if response.status_code == 200 else None


def stored_tip(officer, code):
    found = wait_until(lambda: officer.get(f"/tips?text={code}")["items"], what=f"tip {code} stored")
    return officer.get(f"/tips/{found[0]['id']}")


def test_triage_officer_takes_up_an_emergency_corrects_its_ward_and_replies_with_a_template(
        open_page, web_stack, screenshot_dir):
    admin = Api(web_stack.url, "admin", web_stack.admin_password)
    template = admin.post("/reply-templates", {
        "category": "violence", "title": "Đánh nhau: lực lượng đang tới",
        "text": "Công an đã nhận tin và cử tổ công tác tới hiện trường. Bạn hãy giữ khoảng cách an toàn."})
    code, secret = citizen_sends(web_stack.url, "Cứu với! Có người đang cầm dao đâm nhau ngay bây giờ "
                                                "trước chợ phường Ninh Khánh")
    triage = Api(web_stack.url, "tiepnhan")
    tip = stored_tip(triage, code)
    assert (tip["urgency"], tip["ward"]) == ("emergency", "ninh-khanh")

    page = open_page(LAPTOP)
    sign_in(page, "tiepnhan")
    page.get_by_role("link", name="Tin báo khẩn cấp chưa ai nhận").click()  # the home tile
    page.wait_for_url(re.compile(r".*/console/tips\?.*urgency=emergency"))
    first = page.locator("#tips-pinned tbody tr").first
    assert code in first.inner_text() and "row-urgent" in first.get_attribute("class")
    assert first.locator("[data-sla-due]").inner_text().startswith("còn ")  # 5 minutes to take it up
    page.goto("/console/tips")
    assert code in page.locator("#tips-pinned tbody tr").first.inner_text()  # pinned above every other tip
    check_accessible(page, screenshot_dir, "tips-inbox-laptop")

    page.get_by_role("link", name=code).first.click()
    page.wait_for_url(f"**/console/tips/{tip['id']}")
    assert "Cứu với!" in page.locator(".tip-text").inner_text()
    # on a laptop the handling tools sit beside the tip, not a screen below it
    main, side = page.locator(".tip-main").bounding_box(), page.locator(".tip-side").bounding_box()
    assert side["x"] >= main["x"] + main["width"] and side["y"] < main["y"] + main["height"]
    # the citizen meant the market of Nam Bình: the ward is corrected (and kept as a label)
    page.get_by_label("Phường, xã").select_option(label="Nam Bình")
    page.get_by_role("button", name="Lưu phân loại").click()
    page.locator("#triage .notice-ok").wait_for()
    corrected = triage.get(f"/tips/{tip['id']}")
    assert corrected["ward"] == "nam-binh" and corrected["unit_id"] == tip["unit_id"]
    assert corrected["audit"][-1]["action"] == "correct_triage"
    # the history names who did it as people read it: full name and the username they sign in with
    expect(page.locator(".tip-history tbody tr").first).to_contain_text("Cán bộ tiếp nhận tin báo (tiepnhan)")

    page.get_by_label("Mẫu trả lời").select_option(label=template["title"])
    assert page.get_by_label("Nội dung trả lời").input_value() == template["text"]
    page.get_by_role("button", name="Gửi trả lời").click()
    page.locator("#reply .notice-ok").wait_for()
    expect(page.locator("#reply .notice-ok")).to_contain_text("Tin vẫn chờ tiếp nhận")  # a reply is not taking it up
    page.get_by_role("button", name="Tiếp nhận xử lý").click()
    page.locator("#acknowledge .notice-ok").wait_for()
    assert triage.get(f"/tips/{tip['id']}")["status"] == "in_progress"
    check_accessible(page, screenshot_dir, "tips-tip-laptop")

    seen = wait_until(lambda: citizen_reads(web_stack.url, code, secret), what="the citizen's status page")
    assert seen["status"]["code"] == "in_progress"
    assert [m["text"] for m in seen["public_messages"] if m["from"] == "police"] == [template["text"]]


def test_a_ward_operator_sees_their_wards_tips_and_not_another_wards(open_page, web_stack, screenshot_dir):
    ours, _ = citizen_sends(web_stack.url, "Tối nào cũng có người bán ma túy ở cuối ngõ 5 phường Ninh Khánh")
    theirs, _ = citizen_sends(web_stack.url, "Quán karaoke ở phường Tân Thành hát to sau 23h gây mất trật tự")
    triage = Api(web_stack.url, "tiepnhan")
    ours_tip, theirs_tip = stored_tip(triage, ours), stored_tip(triage, theirs)
    assert ours_tip["unit_id"] != "ca-ninh-khanh"  # a city team handles drugs; the ward still sees it

    page = open_page(PHONE)
    sign_in(page, "canbo.ninh-khanh", next_path="/console/tips")
    listed = page.locator("table.tip-table").inner_text()
    assert ours in listed and theirs not in listed
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_accessible(page, screenshot_dir, "tips-inbox-phone")
    page.get_by_role("link", name=ours).click()
    page.wait_for_url(f"**/console/tips/{ours_tip['id']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_accessible(page, screenshot_dir, "tips-tip-phone")
    response = page.goto(f"/console/tips/{theirs_tip['id']}")
    assert response.status == 404
    page.goto(f"/console/tips?text={theirs}")
    assert "Không có tin báo nào khớp bộ lọc." in page.locator("main").inner_text()


def test_revealing_a_tipster_needs_an_admin_and_a_reason_and_is_audited(open_page, web_stack, screenshot_dir):
    code, _ = citizen_sends(web_stack.url, "Tôi biết nơi cất giấu ma túy ở phường Nam Bình",
                            contact={"name": "Lê Văn Nhân Chứng", "phone": "0911 222 333"}, anonymous=False)
    tip = stored_tip(Api(web_stack.url, "tiepnhan"), code)

    triage_page = open_page(LAPTOP)
    sign_in(triage_page, "tiepnhan", next_path=f"/console/tips/{tip['id']}")
    assert triage_page.get_by_role("button", name="Xem danh tính").count() == 0
    assert "Lê Văn Nhân Chứng" not in triage_page.content() and "0911 222 333" not in triage_page.content()

    page = open_page(LAPTOP)
    sign_in(page, "admin", web_stack.admin_password, next_path=f"/console/tips/{tip['id']}")
    assert "Lê Văn Nhân Chứng" not in page.content()
    assert "Chưa ai xem danh tính" in page.locator("#reveal").inner_text()
    reason = page.get_by_label("Lý do xem danh tính (ít nhất 10 ký tự)")
    page.get_by_role("button", name="Xem danh tính").click()
    assert reason.evaluate("e => !e.validity.valid")  # the browser asks for the reason first
    reason.evaluate("e => e.removeAttribute('minlength')")
    reason.fill("ngắn")  # the service refuses too, with what is missing
    page.get_by_role("button", name="Xem danh tính").click()
    assert "Ít nhất 10 ký tự" in page.locator("#reveal .notice-error").inner_text()
    page.get_by_label("Lý do xem danh tính (ít nhất 10 ký tự)").fill("Cần liên hệ nhân chứng để lấy lời khai")
    page.get_by_role("button", name="Xem danh tính").click()
    shown = page.locator("#reveal .notice-warn")
    assert "Lê Văn Nhân Chứng" in shown.inner_text() and "0911 222 333" in shown.inner_text()
    audit = page.locator("#reveal ol.reveal-audit li")
    assert audit.count() == 1 and "Cần liên hệ nhân chứng để lấy lời khai" in audit.first.inner_text()
    assert "admin" in audit.first.inner_text()
    check_accessible(page, screenshot_dir, "tips-reveal-laptop")
    page.reload()  # shown once: not kept by the page
    assert "Lê Văn Nhân Chứng" not in page.content() and page.locator("#reveal ol.reveal-audit li").count() == 1


def test_an_admin_edits_the_reply_templates_officers_are_offered(open_page, web_stack, screenshot_dir):
    page = open_page(LAPTOP)
    sign_in(page, "admin", web_stack.admin_password, next_path="/console/tips/templates")
    assert page.title() == "Mẫu trả lời tin báo · Bình Yên"
    new = page.locator("section", has=page.get_by_role("heading", name="Thêm mẫu"))
    new.get_by_label("Dùng cho loại tin").select_option(label="Giao thông")
    new.get_by_label("Tên mẫu").fill("Giao thông: xe đỗ chắn lối")
    new.get_by_label("Nội dung").fill("Tổ tuần tra sẽ kiểm tra và xử lý xe đỗ sai quy định.")
    new.get_by_role("button", name="Thêm mẫu").click()
    page.locator(".notice-ok").wait_for()
    assert "Giao thông: xe đỗ chắn lối" in page.locator("main").inner_text()
    check_accessible(page, screenshot_dir, "tips-templates-laptop")
    # offered for a traffic tip, before the templates for every category
    offered = Api(web_stack.url, "tiepnhan").get("/reply-templates?category=traffic")["items"]
    own = [t["title"] for t in offered if t["category"] == "traffic"]
    assert "Giao thông: xe đỗ chắn lối" in own and [t["category"] for t in offered[:len(own)]] == ["traffic"] * len(own)
