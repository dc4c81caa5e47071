"""The directory and the statistics in the console: a ward's operator imports channels from a
CSV file and sees only their own units' channels; an admin creates an officer; the statistics
show tables and charts and export CSV."""
import re
import uuid

import pytest
import requests

from tests.e2e.api import Api, published_post, wait_until
from tests.e2e.conftest import PHONE, check_accessible, sign_in

pytestmark = pytest.mark.integration


def test_channel_csv_import_shows_bad_rows_by_line_then_imports_the_good_ones(open_page, web_stack, screenshot_dir):
    run = uuid.uuid4().hex[:6]
    good = [f"zg-nk-{run}-1", f"zg-nk-{run}-2"]
    text = ("name,type,unit_id,kind,ward,external_id,credentials_ref\n"
            f"Nhóm Zalo phụ huynh Trường Tiểu học Ninh Khánh,zalo_oa_group,ca-ninh-khanh,school_safety,ninh-khanh,{good[0]},ZALO_OA_TOKEN\n"
            f"Nhóm Zalo gõ sai phường,zalo_oa_group,ca-ninh-khanh,residential,ninh-khang,zg-nk-{run}-bad,ZALO_OA_TOKEN\n"
            f"Nhóm Zalo khu trọ Ninh Khánh,zalo_oa_group,ca-ninh-khanh,boarding_house,ninh-khanh,{good[1]},ZALO_OA_TOKEN\n")
    page = open_page()
    sign_in(page, "canbo.ninh-khanh", next_path="/console/directory/import")
    page.get_by_label("Tệp CSV (UTF-8, dòng đầu là tiêu đề cột)").set_input_files(
        files=[{"name": "kenh-ninh-khanh.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8-sig")}])
    page.get_by_role("button", name="Kiểm tra và nhập").click()

    # nothing imported yet; the bad row is named by its line (the header is line 1) and its reason
    alert = page.get_by_role("alert")
    assert "1 dòng có lỗi, chưa nhập dòng nào" in alert.inner_text()
    rows = page.locator("table.import-errors tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("th").inner_text() == "3"
    assert "ward" in rows.first.inner_text() and "phường/xã không tồn tại" in rows.first.inner_text()
    assert "ninh-khang" in rows.first.inner_text()
    # the codes the file may use are listed under it, opened: the ward's, and the relay officer's id
    columns = page.locator("#import-columns")
    assert columns.get_attribute("open") is not None
    assert "ninh-khanh (Ninh Khánh)" in columns.inner_text() and "canbo-ninh-khanh" in columns.inner_text()
    officer = Api(web_stack.url, "canbo.ninh-khanh")
    mine = officer.get("/channels?unit_id=ca-ninh-khanh&limit=500")["items"]
    assert not {c["external_id"] for c in mine} & set(good)
    check_accessible(page, screenshot_dir, "directory-import-errors")

    page.get_by_role("button", name="Nhập 2 dòng hợp lệ, bỏ qua dòng lỗi").click()
    report = page.locator("#h-report").locator("..")
    assert "2 kênh mới" in report.inner_text() and "1 dòng bỏ qua vì lỗi" in report.inner_text()
    assert page.locator("table.import-errors tbody tr th").inner_text() == "3"
    mine = officer.get("/channels?unit_id=ca-ninh-khanh&limit=500")["items"]
    imported = {c["external_id"]: c for c in mine if c["external_id"] in good}
    assert set(imported) == set(good) and imported[good[0]]["name"] == "Nhóm Zalo phụ huynh Trường Tiểu học Ninh Khánh"
    check_accessible(page, screenshot_dir, "directory-import-done")

    # the channel list shows them, and the edit form deactivates one
    page.goto("/console/directory/channels?kind=boarding_house")
    row = page.locator("tr", has_text=good[1])
    row.get_by_role("link", name="Sửa").click()
    page.get_by_role("button", name="Ngừng hoạt động kênh này").click()
    page.wait_for_url("**/console/directory/channels?**")
    assert page.locator("p.notice-ok").inner_text() == "Đã lưu kênh."
    assert officer.get(f"/channels/{imported[good[1]]['id']}")["status"] == "inactive"


def test_a_ward_operator_sees_only_their_units_channels(open_page, web_stack, screenshot_dir):
    others = Api(web_stack.url, "canbo.tan-thanh").get("/channels?limit=500")["items"]
    assert others and all(c["unit_id"] == "ca-tan-thanh" for c in others)

    page = open_page(PHONE)
    sign_in(page, "canbo.ninh-khanh", next_path="/console/directory/channels")
    shown = page.locator("table.channel-table tbody tr")
    assert shown.count() > 10
    text = page.locator("table.channel-table tbody").inner_text()
    assert "Ninh Khánh" in text and "Tân Thành" not in text
    assert not any(c["name"] in text for c in others)
    # nothing on the page is wider than the phone (the table scrolls inside its box)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_accessible(page, screenshot_dir, "directory-channels-phone")

    # the other ward's unit is refused in words (an empty list would say it has no channels),
    # and the unit tree offers no link to it; their own channels in the other ward: none
    assert page.goto("/console/directory/channels?unit_id=ca-tan-thanh").status == 403
    assert "chỉ xem được kênh của các đơn vị mình phụ trách" in page.locator("main").inner_text()
    page.goto("/console/directory")
    assert page.get_by_role("link", name="Kênh của Công an phường Ninh Khánh").count() == 1
    assert page.get_by_role("link", name="Kênh của Công an phường Tân Thành").count() == 0
    page.goto("/console/directory/channels?ward=tan-thanh")
    assert page.locator("table.channel-table").count() == 0
    assert "Không có kênh nào khớp bộ lọc" in page.locator("main").inner_text()
    # and the form to edit one of their channels refuses
    response = page.goto(f"/console/directory/channels/{others[0]['id']}")
    assert response.status == 403

    laptop = open_page()
    sign_in(laptop, "kiemduyet1", next_path="/console/directory/channels")  # moderators see every unit's
    assert laptop.locator("table.channel-table tbody tr").count() == 50 and laptop.get_by_text("Trang sau »").count()
    check_accessible(laptop, screenshot_dir, "directory-channels")


def test_a_unit_subscribes_to_tips_of_its_ward(open_page, web_stack, screenshot_dir):
    page = open_page()
    sign_in(page, "canbo.ninh-khanh", next_path="/console/directory/subscriptions")
    assert "trường dữ liệu (data)" in page.locator("main").inner_text()  # what a filter compares with
    page.get_by_label("Sự kiện").fill("tips.*")
    page.get_by_label("Phường, xã (ward)").select_option(label="Ninh Khánh")
    page.get_by_label("Lĩnh vực tin báo (category)").select_option(label="Ma túy")
    page.get_by_role("button", name="Thêm đăng ký").click()
    page.wait_for_url("**saved=1**")
    row = page.locator("tbody tr", has_text="tips.*")
    assert "Ninh Khánh" in row.inner_text() and "Ma túy" in row.inner_text()
    subscriptions = Api(web_stack.url, "canbo.ninh-khanh").get("/subscriptions?unit_id=ca-ninh-khanh")["items"]
    assert [s["filters"] for s in subscriptions if s["event_pattern"] == "tips.*"] == [
        {"ward": "ninh-khanh", "category": "drugs"}]
    check_accessible(page, screenshot_dir, "directory-subscriptions")

    row.get_by_role("button", name="Xoá đăng ký tips.*").click()
    page.wait_for_url("**deleted=1**")
    assert page.locator("tbody tr", has_text="tips.*").count() == 0


def test_an_admin_creates_an_officer_who_can_then_sign_in(open_page, web_stack, screenshot_dir):
    page = open_page()
    sign_in(page, "admin", password=web_stack.admin_password, next_path="/console/directory")
    assert page.get_by_text("Công an phường Ninh Khánh").count() and page.get_by_text("Đơn vị phối hợp (27)").count()
    check_accessible(page, screenshot_dir, "directory-units")

    page.get_by_role("link", name="Cán bộ").click()
    page.get_by_text("Tạo tài khoản cán bộ").click()  # the form opens above the list
    username = f"canbo.ninh-khanh-{uuid.uuid4().hex[:4]}"
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Họ tên").fill("Phạm Thị Hồng Nhung")
    page.get_by_label("Mật khẩu ban đầu").fill("mat-khau-ban-dau-1")
    page.get_by_label("Cán bộ vận hành đơn vị").check()
    page.get_by_role("button", name="Tạo tài khoản").click()  # no unit: refused, saying why
    assert "phải thuộc một đơn vị" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Tên đăng nhập").input_value() == username  # what was typed stays
    assert page.get_by_label("Mật khẩu ban đầu").input_value() == ""     # except the password

    page.get_by_label("Mật khẩu ban đầu").fill("mat-khau-ban-dau-1")
    page.get_by_label("Đơn vị", exact=True).select_option(label="Công an phường Ninh Khánh")
    page.get_by_role("button", name="Tạo tài khoản").click()
    assert f"Đã tạo tài khoản {username}" in page.locator("p.notice-ok").inner_text()
    assert "Phạm Thị Hồng Nhung" in page.locator(f"tr", has_text=username).inner_text()
    check_accessible(page, screenshot_dir, "directory-officers")

    newcomer = open_page()
    sign_in(newcomer, username, password="mat-khau-ban-dau-1", next_path="/console/directory/channels")
    assert "Ninh Khánh" in newcomer.locator("table.channel-table tbody").inner_text()
    assert newcomer.get_by_role("link", name="Cán bộ").count() == 0  # not an admin's tab


def send_tip(base_url, text, n):
    response = requests.post(f"{base_url}/api/v1/public/tips", json={"text": text},
                             headers={"X-Forwarded-For": f"10.77.0.{n}"}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["tip_code"]


def test_statistics_show_tables_and_charts_and_export_csv(open_page, web_stack, screenshot_dir):
    triage = Api(web_stack.url, "tiepnhan")
    codes = [send_tip(web_stack.url, text, n) for n, text in enumerate((
        "Có người đánh bạc ăn tiền ở phường Ninh Khánh mỗi tối", "Tôi bị lừa chuyển tiền qua mạng, kẻ gian tự xưng công an",
        "Trộm xe máy ở chợ Rồng phường Thanh Bình"), start=1)]
    tips = [wait_until(lambda code=code: triage.get(f"/tips?text={code}")["items"], what=f"tip {code} stored")[0]
            for code in codes]
    triage.post(f"/tips/{tips[0]['id']}/status", {"status": "in_progress"})
    published_post(web_stack.url, {"units": ["ca-ninh-khanh"], "channel_types": ["zalo_oa_group"]})
    wait_until(lambda: triage.get("/stats/deliveries")["total"], what="deliveries counted")

    page = open_page()
    sign_in(page, "tiepnhan", next_path="/console/stats?days=7")
    for key in ("tin-bao-theo-linh-vuc", "tin-bao-theo-phuong-xa", "tin-bao-theo-don-vi", "tin-bao-theo-tuan",
                "thoi-gian-xu-ly-tin-bao", "luot-gui-theo-loai-kenh", "thong-bao-truy-na"):
        assert page.locator(f"#{key} table").count() == 1, key
    categories = page.locator("#tin-bao-theo-linh-vuc table").inner_text()
    assert "Cờ bạc" in categories and "Lừa đảo" in categories
    assert "Nhóm Zalo OA (gửi tự động)" in page.locator("#luot-gui-theo-loai-kenh table").inner_text()
    acknowledged = page.locator("#thoi-gian-xu-ly-tin-bao tbody tr", has_text="Tiếp nhận xử lý")
    assert re.search(r"\d+ (giây|phút)", acknowledged.inner_text())
    # every chart box with figures is drawn by Chart.js
    page.wait_for_function("document.querySelectorAll('.chart-box:not([hidden]) canvas').length >= 5")
    drawn = page.evaluate("[...document.querySelectorAll('.chart-box:not([hidden]) canvas')]"
                          ".filter(c => window.Chart.getChart(c)).length")
    assert drawn >= 5
    check_accessible(page, screenshot_dir, "stats")

    with page.expect_download() as info:
        page.locator("#tin-bao-theo-linh-vuc").get_by_role("link", name=re.compile("Tải bảng này")).click()
    download = info.value
    assert re.fullmatch(r"binh-yen_tin-bao-theo-linh-vuc_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    body = open(download.path(), "rb").read()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "Lĩnh vực,Số tin báo" and any(line.startswith("Cờ bạc,") for line in lines[1:])

    # without JavaScript the tables are all there (the charts are an addition)
    plain = open_page(javascript=False)
    sign_in(plain, "thanhtra", next_path="/console/stats?days=7")
    assert "Cờ bạc" in plain.locator("#tin-bao-theo-linh-vuc table").inner_text()
    assert plain.locator(".chart-box:not([hidden])").count() == 0
