"""The citizens' site through the gateway, with real RabbitMQ, SecantusDB, groups, posts and tips:
news (published only, latest first, search without diacritics, Atom), a tip sent with the plain
HTML form (the intake queue, code and secret in a cookie, never in a URL), followed up with code
and secret, the FAQ answers of a procedure question, photos without EXIF, the honeypot, pasted
HTML shown as text, no page showing who sent a tip, separate read and send limits, and each
page's weight over the wire. Each citizen is a test client of its own (address and cookies)."""
import gzip
import itertools
import re
import xml.etree.ElementTree as ET
from io import BytesIO

import pytest
from PIL import ExifTags, Image

from services.tips.vault import generate_key
from tests.conftest import login
from tests.support import environment, wait_for
from tests.unit.test_tip_photos import phone_photo

pytestmark = pytest.mark.integration

DEMO_PASSWORD = "demo-password-123"
ENV = {"TIPS_VAULT_KEY": generate_key(), "PUBLIC_TIPS_PER_MINUTE": "6", "PUBLIC_TIPS_BURST": "3",
       "PUBLIC_TIPS_READS_PER_MINUTE": "6"}
AUDIENCE = {"kinds": ["boarding_house"], "wards": ["ninh-khanh"]}
WANTED = {"full_name": "Lê Văn Truy", "birth_year": 1991, "hometown": "xã Ninh Nhất, Ninh Bình",
          "charge": "Cướp tài sản", "warrant_number": "31/QĐ-CSĐT", "warrant_date": "2026-10-02",
          "issuing_authority": "Cơ quan CSĐT Công an thành phố Ninh Bình"}
PAGE_BUDGET = 100 * 1024
_addresses = (f"10.77.{n // 250}.{n % 250 + 1}" for n in itertools.count())


@pytest.fixture(scope="module")
def stack(module_stack):
    with environment(ENV):
        module_stack.start("groups", "posts", "tips")
        module_stack.rpc.groups.load_demo_data("city", DEMO_PASSWORD, "http://127.0.0.1:8900")
        client = module_stack.client
        module_stack.admin = login(client, "admin", "admin-password-for-tests")
        module_stack.editor = login(client, "bientap", DEMO_PASSWORD)
        module_stack.mod1 = login(client, "kiemduyet1", DEMO_PASSWORD)
        module_stack.mod2 = login(client, "kiemduyet2", DEMO_PASSWORD)
        module_stack.triage = login(client, "tiepnhan", DEMO_PASSWORD)
        yield module_stack


def citizen(stack):
    """A browser of its own: its own address (rate limits) and cookies."""
    client = stack.client.application.test_client()
    client.environ_base["REMOTE_ADDR"] = next(_addresses)
    return client


def page(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    return response.get_data(as_text=True)


def publish(stack, title, body="Người dân cảnh giác.", approvers=("mod1",), **fields):
    c = stack.client
    draft = {"kind": "news", "title": title, "body": body, "audience": AUDIENCE, **fields}
    if "wanted" in fields:
        draft.pop("body")  # rendered from the wanted fields
    post = c.post("/api/v1/posts", headers=stack.editor, json=draft).get_json()
    assert c.post(f"/api/v1/posts/{post['id']}/submit", headers=stack.editor, json={}).status_code == 200
    for who in approvers:
        assert c.post(f"/api/v1/posts/{post['id']}/approve", headers=getattr(stack, who), json={}).status_code == 200
    published = c.post(f"/api/v1/posts/{post['id']}/publish", headers=stack.mod1, json={})
    assert published.status_code == 200, published.data
    return published.get_json()


def send_tip(browser, text, **form):
    """The form as a browser posts it; returns the receipt page (after the redirect)."""
    data = {"text": text, "anonymous": "yes", "ward": "", "homepage": "", **form}
    sent = browser.post("/gui-tin-bao", data=data, content_type="multipart/form-data")
    assert sent.status_code == 303, sent.get_data(as_text=True)[:1500]
    assert sent.headers["Location"].endswith("/gui-tin-bao/da-gui") and "secret" not in sent.headers["Location"]
    return page(browser.get("/gui-tin-bao/da-gui"))


def keys_of(receipt):
    code = re.search(r'id="tip-code">([^<]+)<', receipt).group(1)
    secret = re.search(r'id="tip-secret">([^<]+)<', receipt).group(1)
    return code, secret


def staff_tip(stack, code):
    items = wait_for(lambda: stack.client.get(f"/api/v1/tips?text={code}", headers=stack.admin).get_json()["items"],
                     message=f"tip {code} stored")
    return stack.client.get(f"/api/v1/tips/{items[0]['id']}", headers=stack.admin).get_json()


def look_up(browser, code, secret):
    answer = browser.post("/tra-cuu", data={"code": code, "secret": secret})
    if answer.status_code != 303:
        return answer
    assert answer.headers["Location"].endswith("/tra-cuu/tin-bao")
    return browser.get("/tra-cuu/tin-bao")


# --- news ------------------------------------------------------------------------------------------

def test_news_lists_published_posts_latest_first_and_finds_them_without_diacritics(stack):
    draft = stack.client.post("/api/v1/posts", headers=stack.editor, json={
        "kind": "news", "title": "Bản nháp chưa duyệt về lừa đảo", "body": "Chưa đăng", "audience": AUDIENCE})
    older = publish(stack, "Cảnh báo lừa đảo chiếm đoạt tài sản qua Zalo", body="Không chuyển tiền.\nGọi 113.")
    newer = publish(stack, "<script>alert(1)</script> Cảnh báo giả danh công an")
    browser = citizen(stack)
    home = page(browser.get("/"))
    assert home.index(f"/tin/{newer['id']}") < home.index(f"/tin/{older['id']}")   # latest first
    assert "Bản nháp chưa duyệt" not in home and draft.get_json()["id"] not in home
    assert "<script>alert(1)</script>" not in home and "&lt;script&gt;alert(1)&lt;/script&gt;" in home
    found = page(browser.get("/?q=lua dao chiem doat"))
    assert f"/tin/{older['id']}" in found and f"/tin/{newer['id']}" not in found
    one = page(browser.get(f"/tin/{older['id']}"))
    assert "Không chuyển tiền.<br>Gọi 113." in one
    page(browser.get(f"/tin/{draft.get_json()['id']}"), 404)
    feed = browser.get("/tin.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    atom = ET.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in atom.findall("a:entry", ns)]
    assert "Cảnh báo lừa đảo chiếm đoạt tài sản qua Zalo" in titles and "Bản nháp chưa duyệt về lừa đảo" not in titles
    assert titles.index("<script>alert(1)</script> Cảnh báo giả danh công an") < titles.index(
        "Cảnh báo lừa đảo chiếm đoạt tài sản qua Zalo")


def test_wanted_notices_are_marked_and_resolved_ones_marked_resolved(stack):
    open_notice = publish(stack, "Thông báo truy nã Lê Văn Truy", kind="wanted_notice", wanted=WANTED,
                          approvers=("mod1", "mod2"))
    ended = publish(stack, "Thông báo truy nã Phạm Văn Đã", kind="wanted_notice",
                    wanted=dict(WANTED, full_name="Phạm Văn Đã", warrant_number="32/QĐ-CSĐT"),
                    approvers=("mod1", "mod2"))
    resolved = stack.client.post(f"/api/v1/posts/{ended['id']}/resolve", headers=stack.mod1,
                                 json={"outcome": "arrested", "create_follow_up": False})
    assert resolved.status_code == 200, resolved.data
    browser = citizen(stack)
    home = page(browser.get("/?q=thong bao truy na"))
    item = home[home.index(f"/tin/{open_notice['id']}"):]
    assert 'class="badge badge-urgent">Truy nã' in item[:600]
    assert "Đã kết thúc truy nã: đã bị bắt" in home[home.index(f"/tin/{ended['id']}"):][:600]
    notice = page(browser.get(f"/tin/{open_notice['id']}"))
    assert "Lê Văn Truy" in notice and "gửi tin báo" in notice
    gone = page(browser.get(f"/tin/{ended['id']}"))
    assert "đã kết thúc" in gone and "31/QĐ-CSĐT" not in gone and "32/QĐ-CSĐT" not in gone
    # the manual Zalo groups may still show it: the citizen is told such a copy no longer holds
    assert "đã kết thúc: đối tượng đã bị bắt" in gone and "không còn hiệu lực" in gone
    withdrawn = publish(stack, "Thông báo truy nã Đỗ Văn Huỷ", kind="wanted_notice",
                        wanted=dict(WANTED, full_name="Đỗ Văn Huỷ", warrant_number="33/QĐ-CSĐT"),
                        approvers=("mod1", "mod2"))
    stack.client.post(f"/api/v1/posts/{withdrawn['id']}/resolve", headers=stack.mod1,
                      json={"outcome": "withdrawn", "create_follow_up": False})
    assert "đã kết thúc: quyết định truy nã đã được đình nã" in page(browser.get(f"/tin/{withdrawn['id']}"))


# --- a tip, sent and followed up ------------------------------------------------------------------

def test_an_anonymous_tip_is_sent_followed_up_answered_and_added_to(stack):
    browser = citizen(stack)
    form = page(browser.get("/gui-tin-bao"))
    assert "gọi ngay" in form and "113" in form[:form.index("<form")]       # before anything else
    assert 'value="ninh-khanh"' in form and "Ninh Khánh" in form            # wards from groups
    receipt = send_tip(browser, "Tối nào cũng có nhóm thanh niên mua bán ma túy ở cuối ngõ 12",
                       ward="ninh-khanh")
    code, secret = keys_of(receipt)
    assert "Điều gì xảy ra tiếp theo" in receipt and "Tải về tệp" in receipt
    tip = staff_tip(stack, code)
    assert (tip["ward"], tip["channel"], tip["has_identity"]) == ("ninh-khanh", "web", False)

    saved = browser.post("/gui-tin-bao/luu-ma", data={"code": code, "secret": secret})
    assert saved.mimetype == "text/plain" and "attachment" in saved.headers["Content-Disposition"]
    assert code in saved.get_data(as_text=True) and secret in saved.get_data(as_text=True)

    # another phone: a wrong secret and an unknown code get the same answer
    stranger = citizen(stack)
    wrong_secret = page(look_up(stranger, code, "x" * 32), 401)
    wrong_code = page(look_up(stranger, "NB-2345-6789-ABCD", secret), 401)
    message = re.search(r'id="lookup-error">([^<]+)<', wrong_secret).group(1)
    assert message == re.search(r'id="lookup-error">([^<]+)<', wrong_code).group(1) and "không đúng" in message
    back = stranger.get("/tra-cuu/tin-bao")                 # no tip remembered: back to the form
    assert back.status_code == 303 and back.headers["Location"].endswith("/tra-cuu")

    reply = stack.client.post(f"/api/v1/tips/{tip['id']}/messages", headers=stack.admin,
                              json={"text": "Công an phường đã nhận tin & đang xác minh, cảm ơn bạn."})
    assert reply.status_code == 201, reply.data
    status = page(look_up(stranger, code, secret))
    assert "Đã chuyển đơn vị xử lý" in status and "Cán bộ sẽ đọc và xác minh" in status
    assert "Công an phường đã nhận tin &amp; đang xác minh" in status
    # the menu marks where the citizen is: following a tip up, not sending one
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', status) == ["/tra-cuu"]
    added = stranger.post("/tra-cuu/them", data={"text": "Bổ sung: <b>xe máy</b> màu đỏ đỗ ở đầu ngõ"})
    assert added.status_code == 303 and secret not in added.headers["Location"]
    after = page(stranger.get(added.headers["Location"]))
    assert "Đã gửi thêm thông tin" in after and "&lt;b&gt;xe máy&lt;/b&gt;" in after and "<b>xe máy</b>" not in after
    thread = stack.client.get(f"/api/v1/tips/{tip['id']}", headers=stack.admin).get_json()["messages"]
    assert thread[-1]["from"] == "citizen" and "xe máy" in thread[-1]["text"]
    # "Thoát" forgets the tip on this phone
    assert stranger.post("/tra-cuu/thoat").status_code == 303
    assert stranger.get("/tra-cuu/tin-bao").status_code == 303


def test_a_procedure_question_shows_faq_answers_at_once_and_stays_open(stack):
    browser = citizen(stack)
    receipt = send_tip(browser, "Cho hỏi đăng ký tạm trú cho người thuê trọ cần giấy tờ gì, làm ở đâu?")
    code, secret = keys_of(receipt)
    assert "Có thể bạn cần:" in receipt and "tạm trú" in receipt[receipt.index("Có thể bạn cần:"):].lower()
    status = page(look_up(browser, code, secret))
    assert "Có thể bạn cần:" in status and "Cán bộ vẫn đọc câu hỏi của bạn" in status
    tip = staff_tip(stack, code)
    assert tip["category"] == "procedure_question" and tip["status"] == "assigned"


def test_no_page_shows_who_sent_a_tip(stack):
    browser = citizen(stack)
    receipt = send_tip(browser, "Có người đánh bạc ăn tiền ở quán nước gần chợ, số của tôi 0912 345 678",
                       anonymous="no", name="Trần Thị Người Báo", phone="0987 654 321", email="bao.tin@example.vn")
    code, secret = keys_of(receipt)
    status = page(look_up(browser, code, secret))
    tip = staff_tip(stack, code)
    assert tip["has_identity"] and "contact" not in tip
    for shown in (receipt, status, page(browser.get("/gui-tin-bao"))):
        for who in ("Trần Thị Người Báo", "0987 654 321", "bao.tin@example.vn", "0912 345 678"):
            assert who not in shown
    # chose to stay anonymous, with the contact boxes filled in anyway: nothing is kept
    quiet = keys_of(send_tip(citizen(stack), "Có người lạ trộm xe đạp ở phường Tân Thành", anonymous="yes",
                             name="Không Được Lưu", phone="0911 222 333"))[0]
    assert staff_tip(stack, quiet)["has_identity"] is False


def test_a_photo_is_stored_without_its_exif_and_what_is_not_a_photo_is_refused(stack):
    browser = citizen(stack)
    receipt = send_tip(browser, "Xe tải đổ trộm phế thải ra đường ở phường Ninh Sơn",
                       photo=(BytesIO(phone_photo("JPEG", size=(80, 60))), "IMG_20261101_Nguyen.jpg"))
    tip = staff_tip(stack, keys_of(receipt)[0])
    attachment, = tip["attachments"]
    assert attachment["content_type"] == "image/jpeg" and attachment["filename"] == "anh.jpg"
    stored = stack.client.get(f"/api/v1/tips/{tip['id']}/attachments/{attachment['upload_id']}", headers=stack.triage)
    assert stored.status_code == 200 and stored.mimetype == "image/jpeg"
    for secret in (b"PhoneMaker", b"Model X 12", b"Exif"):
        assert secret not in stored.data
    with Image.open(BytesIO(stored.data)) as img:
        assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo) and img.size == (60, 80)
    assert stack.client.get(f"/api/v1/tips/{tip['id']}/attachments/{'0' * 32}",
                            headers=stack.triage).status_code == 404

    refused = browser.post("/gui-tin-bao", content_type="multipart/form-data", data={
        "text": "Ảnh giả", "anonymous": "yes", "photo": (BytesIO(b"<?php system($_GET[1]); ?>"), "anh.jpg")})
    text = page(refused, 422)
    assert "không phải ảnh" in text and "Ảnh giả" in text          # the text is kept for another try


def test_the_honeypot_and_an_empty_tip_send_nothing(stack):
    browser = citizen(stack)
    trapped = browser.post("/gui-tin-bao", data={"text": "Mua thuốc giá rẻ tại spam.example", "anonymous": "yes",
                                                  "homepage": "http://spam.example"})
    assert trapped.status_code == 400 and "binhyen_tip" not in trapped.headers.get("Set-Cookie", "")
    empty = page(browser.post("/gui-tin-bao", data={"text": "🙂🙂", "anonymous": "yes", "homepage": ""}), 422)
    assert 'aria-invalid="true"' in empty and "Tin chưa được gửi" in empty
    contactless = page(browser.post("/gui-tin-bao", data={"text": "Có trộm", "anonymous": "no", "homepage": ""}), 422)
    assert "Cần số điện thoại hoặc email" in contactless


def test_reading_a_status_does_not_spend_the_right_to_send(stack):
    browser = citizen(stack)
    code, secret = keys_of(send_tip(browser, "Có người trộm chó ở phường Nam Bình"))   # send 1 of 3; read 1 of 6
    checks = [browser.post("/tra-cuu", data={"code": code, "secret": secret}).status_code for _ in range(5)]
    assert checks == [303] * 5                                                          # reads 2..6
    limited = browser.post("/tra-cuu", data={"code": code, "secret": secret})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "113" in limited.get_data(as_text=True)
    # reading is used up, sending is not: a second tip goes through
    assert browser.post("/gui-tin-bao", data={"text": "Thêm một tin: trộm xe đạp ở Nam Bình", "anonymous": "yes",
                                               "homepage": ""}).status_code == 303


# --- weight and hosts -------------------------------------------------------------------------------

def over_the_wire(browser, response):
    """Bytes of a page and the stylesheets it links, gzipped as a phone receives them."""
    html = gzip.decompress(response.data).decode() if response.headers.get("Content-Encoding") == "gzip" \
        else response.get_data(as_text=True)
    total, parts = len(response.data), {"html": len(response.data)}
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        css = browser.get(href, headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200 and css.headers.get("Content-Encoding") == "gzip"
        parts[href.split("?")[0]] = len(css.data)
        total += len(css.data)
    return total, parts, html


def test_every_page_is_light_needs_no_script_and_loads_nothing_from_elsewhere(stack, capsys):
    post = publish(stack, "Tin để đo trang", body="Nội dung " * 200)
    browser = citizen(stack)
    code, secret = keys_of(send_tip(browser, "Có tiếng ồn lớn kéo dài ở khu trọ phường Ninh Phong"))
    pages = {"/": browser.get("/", headers={"Accept-Encoding": "gzip"}),
             "/tin/<id>": browser.get(f"/tin/{post['id']}", headers={"Accept-Encoding": "gzip"}),
             "/gui-tin-bao": browser.get("/gui-tin-bao", headers={"Accept-Encoding": "gzip"}),
             "/gui-tin-bao/da-gui": browser.get("/gui-tin-bao/da-gui", headers={"Accept-Encoding": "gzip"}),
             "/tra-cuu/tin-bao": browser.get("/tra-cuu/tin-bao", headers={"Accept-Encoding": "gzip"})}
    browser.post("/tra-cuu/thoat")
    pages["/tra-cuu"] = browser.get("/tra-cuu", headers={"Accept-Encoding": "gzip"})
    figures = []
    for path, response in pages.items():
        assert response.status_code == 200, path
        total, parts, html = over_the_wire(browser, response)
        figures.append(f"{path}: {total:,} bytes ({', '.join(f'{k} {v:,}' for k, v in parts.items())})")
        assert total < PAGE_BUDGET, figures[-1]
        assert "<script" not in html, path
        assert not re.findall(r'(?:src|href|action)="(?:https?:)?//', html), path     # nothing from another host
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        if path.startswith(("/gui", "/tra")):
            assert response.headers["Cache-Control"] == "no-store", path
    with capsys.disabled():
        print("\nsite page weights (gzip, page + stylesheets):\n  " + "\n  ".join(figures))
