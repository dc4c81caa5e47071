"""Tips end to end through the HTTP API, with real RabbitMQ, SecantusDB, groups and two tips
instances: intake (web through the intake queue; Zalo, Facebook) with valid and forged
signatures, duplicate deliveries, triage -> routing -> tips.assigned, SLA escalation by the
real timer, two-way follow-up, identity reveal with audit, role and unit-scope boundaries,
bad input; the queue itself: a message delivered twice, a poison message, a tip accepted
while the tips service is down, a broker that is down or never answers."""
import hashlib
import hmac
import itertools
import json
import socket
import subprocess
import time
import unicodedata
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import pytest
from kombu import Connection, Queue

from contracts.events import REGISTRY, make_event
from contracts.tips import INTAKE_QUEUE
from gateway.api import public_tips
from gateway.intake import IntakePublisher, ServiceUnavailable
from service_runtime.outbox import DEAD_LETTER_QUEUE
from services.tips import domain
from services.tips.vault import generate_key
from tests.conftest import JWT_SECRET, free_port, login
from tests.support import environment, problem, wait_for

pytestmark = pytest.mark.integration

DEMO_PASSWORD = "demo-password-123"
ZALO_APP_ID, ZALO_KEY = "4321987650", "zalo-oa-secret-for-tests"
FB_SECRET, FB_VERIFY = "facebook-app-secret-for-tests", "fb-verify-token"
EMERGENCY_SLA = 3
ENV = {
    "TIPS_VAULT_KEY": generate_key(),
    "ZALO_APP_ID": ZALO_APP_ID, "ZALO_OA_SECRET_KEY": ZALO_KEY,
    "FACEBOOK_APP_SECRET": FB_SECRET, "FACEBOOK_VERIFY_TOKEN": FB_VERIFY,
    "SLA_EMERGENCY_SECONDS": str(EMERGENCY_SLA),   # tiny: the real timer escalates within the test
    "SLA_CHECK_SECONDS": "0.3",
    "PUBLIC_TIPS_PER_MINUTE": "60", "PUBLIC_TIPS_BURST": "3",
}
_ips = (f"10.6.{n // 250}.{n % 250 + 1}" for n in itertools.count())


@pytest.fixture(scope="module")
def stack(module_stack):
    with environment(ENV):
        module_stack.start("groups", "tips")
        module_stack.start("tips")  # a second instance: the SLA timer must still escalate once
        module_stack.rpc.groups.load_demo_data("city", DEMO_PASSWORD, "http://127.0.0.1:8900")
        client = module_stack.client
        module_stack.admin = login(client, "admin", "admin-password-for-tests")
        module_stack.triage = login(client, "tiepnhan", DEMO_PASSWORD)          # triage_officer, city police
        module_stack.ninh_khanh = login(client, "canbo.ninh-khanh", DEMO_PASSWORD)  # unit_operator of a ward
        module_stack.tan_thanh = login(client, "canbo.tan-thanh", DEMO_PASSWORD)
        module_stack.auditor = login(client, "thanhtra", DEMO_PASSWORD)
        module_stack.editor = login(client, "bientap", DEMO_PASSWORD)
        yield module_stack


def send_tip(stack, payload, ip=None, **kwargs):
    """POST a public tip from its own client address (the rate limit is per address)."""
    return stack.client.post("/api/v1/public/tips", json=payload,
                             environ_base={"REMOTE_ADDR": ip or next(_ips)}, **kwargs)


def accepted(response):
    assert response.status_code == 202, response.get_data(as_text=True)[:800]
    return response.get_json()


def tip_by_code(stack, code, headers=None):
    """The tip with this code, once the tips service has stored it (web tips wait in the
    intake queue first)."""
    items = wait_for(lambda: stack.client.get(f"/api/v1/tips?text={code}",
                                              headers=headers or stack.admin).get_json()["items"],
                     message=f"tip {code} stored")
    assert len(items) == 1, items
    return stack.client.get(f"/api/v1/tips/{items[0]['id']}", headers=headers or stack.admin).get_json()


def events_for(stack, tip_id, event_type=None):
    query = {"envelope.data.tip_id": tip_id}
    if event_type:
        query["envelope.type"] = event_type
    return list(stack.db("tips").outbox.find(query, sort=[("_id", 1)]))


def status(stack, code, secret):
    return stack.client.get(f"/api/v1/public/tips/{code}", headers={"X-Tip-Secret": secret},
                            environ_base={"REMOTE_ADDR": next(_ips)})


# --- intake: web --------------------------------------------------------------------------------

def test_web_tip_is_stored_triaged_routed_and_announced_without_the_tipster(stack):
    receipt = accepted(send_tip(stack, {
        "text": "Tối nào cũng có nhóm thanh niên tụ tập mua bán ma túy ở cuối ngõ 12 phường Ninh Khánh, "
                "xe biển 35A-123.45, gọi tôi 0912 345 678",
        "contact": {"name": "Trần Thị Báo Tin", "phone": "0987 654 321"}, "anonymous": True}))
    assert set(receipt) == {"tip_code", "secret", "status_url", "urgency", "message", "duplicate"}
    assert receipt["secret"] and not receipt["duplicate"]
    assert receipt["status_url"].startswith("http") and receipt["status_url"].endswith(receipt["tip_code"])
    assert "113" in receipt["message"]

    tip = tip_by_code(stack, receipt["tip_code"], stack.triage)
    assert (tip["status"], tip["category"], tip["ward"], tip["unit_id"]) == (
        "assigned", "drugs", "ninh-khanh", "doi-ma-tuy")
    assert tip["has_identity"] and tip["tipster_alias"].startswith("Người báo tin #")
    dumped = json.dumps(tip, ensure_ascii=False)
    assert "Trần Thị Báo Tin" not in dumped and "0987 654 321" not in dumped and "secret" not in dumped

    # received, triaged, assigned: in the same transaction as the tip, then published
    types = [e["envelope"]["type"] for e in events_for(stack, tip["id"])]
    assert types == ["tips.received", "tips.triaged", "tips.assigned"]
    wait_for(lambda: all(e["sent_at"] for e in events_for(stack, tip["id"])), message="events published")
    assigned = events_for(stack, tip["id"], "tips.assigned")[0]["envelope"]["data"]
    assert assigned["unit_id"] == "doi-ma-tuy" and assigned["tip_code"] == receipt["tip_code"]
    # a unit's subscription to tips.* filtered by ward receives every tips event of its ward
    for event in events_for(stack, tip["id"]):
        assert event["envelope"]["data"]["ward"] == "ninh-khanh", event["envelope"]["type"]
    everything = json.dumps([e["envelope"] for e in events_for(stack, tip["id"])], ensure_ascii=False)
    for private in ("0987 654 321", "Trần Thị Báo Tin", "0912 345 678", "35A-123.45"):
        assert private not in everything
    # the identity lives sealed in the vault, apart from the tip
    sealed = stack.db("tips").vault.find_one({"_id": tip["id"]})
    assert sealed and "0987" not in json.dumps(sealed, default=str)
    stored = stack.db("tips").tips.find_one({"_id": tip["id"]})
    assert "contact" not in json.dumps(stored, default=str) and stored["secret_hash"] != receipt["secret"]


def test_emergency_tip_says_call_113_and_the_timer_escalates_each_level_once(stack):
    receipt = accepted(send_tip(stack, {
        "text": "Cứu với! Có người đang cầm dao đâm nhau ngay bây giờ trước chợ phường Ninh Khánh"}))
    assert receipt["urgency"] is None  # triaged when stored: every web receipt leads with the advice
    assert "113" in receipt["message"].splitlines()[0]
    tip = tip_by_code(stack, receipt["tip_code"])
    assert tip["urgency"] == "emergency"
    # 3 s SLA, two tips instances each checking every 0.3 s: level 1 goes to the parent unit
    escalated = wait_for(lambda: events_for(stack, tip["id"], "tips.escalated"), timeout=15,
                         message="tips.escalated")
    data = escalated[0]["envelope"]["data"]
    assert (data["level"], data["from_unit_id"], data["to_unit_id"], data["urgency"]) == (
        1, tip["unit_id"], "catp", "emergency")
    time.sleep(EMERGENCY_SLA + 0.5)  # level 2 is due; the city police have no parent: nothing more, nothing twice
    assert len(events_for(stack, tip["id"], "tips.escalated")) == 1
    after = stack.client.get(f"/api/v1/tips/{tip['id']}", headers=stack.admin).get_json()
    assert [e["level"] for e in after["escalations"]] == [1]
    assert after["audit"][-1]["action"] == "escalate"


def test_acknowledged_tips_do_not_escalate(stack):
    receipt = accepted(send_tip(stack, {
        "text": "Cứu với, có kẻ đang cầm dao dọa giết người ở phường Tân Thành ngay lúc này"}))
    tip = tip_by_code(stack, receipt["tip_code"])
    assert tip["urgency"] == "emergency"
    moved = stack.client.post(f"/api/v1/tips/{tip['id']}/status", headers=stack.triage,
                              json={"status": "in_progress"})
    assert moved.status_code == 200, moved.data
    time.sleep(EMERGENCY_SLA + 0.5)
    assert events_for(stack, tip["id"], "tips.escalated") == []


def test_an_officer_acknowledges_a_waiting_tip_and_its_sla_clock_stops(stack):
    receipt = accepted(send_tip(stack, {
        "text": "Cứu với, có người đang bị đánh bằng gậy ngay bây giờ ở đầu ngõ phường Nam Bình"}))
    tip = tip_by_code(stack, receipt["tip_code"], stack.triage)
    assert (tip["urgency"], tip["status"]) == ("emergency", "assigned")
    client, h = stack.client, stack.triage

    def listed(query, headers=h):
        return {t["id"] for t in client.get(f"/api/v1/tips?limit=500&{query}", headers=headers).get_json()["items"]}
    assert tip["id"] in listed("waiting=1&urgency=emergency")
    assert tip["id"] not in listed("past_sla=1")
    counts = stack.rpc.tips.work_counts({"id": "o", "roles": ["triage_officer"], "unit_id": "catp"})
    assert counts["emergency"] >= 1 and counts["waiting"] >= counts["emergency"]
    wait_for(lambda: tip["id"] in listed("past_sla=true"), timeout=EMERGENCY_SLA + 5, message="past its SLA")
    assert stack.rpc.tips.work_counts({"id": "o", "roles": ["triage_officer"], "unit_id": "catp"})["past_sla"] >= 1
    url = f"/api/v1/tips/{tip['id']}/acknowledge"
    problem(client.post(url, headers=stack.auditor), 403)
    problem(client.post(url, headers=stack.editor), 403)
    problem(client.post(url, headers=stack.tan_thanh), 404)
    problem(client.post(url), 401)
    problem(client.post("/api/v1/tips/no-such-tip/acknowledge", headers=h), 404)
    taken = client.post(url, headers=h)
    assert taken.status_code == 200, taken.data
    body = taken.get_json()
    assert body["status"] == "in_progress" and body["acknowledged_at"]
    assert body["audit"][-1]["action"] == "acknowledge"
    again = problem(client.post(url, headers=h), 409)
    assert "đã được tiếp nhận" in again["detail"]
    assert tip["id"] not in listed("waiting=1") | listed("past_sla=1")
    change = events_for(stack, tip["id"], "tips.status_changed")[-1]["envelope"]["data"]
    assert (change["from_status"], change["to_status"]) == ("assigned", "in_progress")
    assert status(stack, receipt["tip_code"], receipt["secret"]).get_json()["status"]["code"] == "in_progress"
    # acknowledged: the timer escalates it no further, whatever level it had reached
    levels = len(events_for(stack, tip["id"], "tips.escalated"))
    time.sleep(EMERGENCY_SLA + 0.5)
    assert len(events_for(stack, tip["id"], "tips.escalated")) == levels
    problem(client.get("/api/v1/tips?waiting=perhaps", headers=h), 422)


# --- intake: Zalo -------------------------------------------------------------------------------

def zalo_body(text, msg_id, sender="8412345", event="user_send_text"):
    return json.dumps({"app_id": ZALO_APP_ID, "user_id_by_app": "u" + sender, "event_name": event,
                       "timestamp": "1735689600000", "sender": {"id": sender}, "recipient": {"id": "oa-1"},
                       "message": {"text": text, "msg_id": msg_id}}, ensure_ascii=False).encode()


def zalo_post(stack, raw, signature="valid"):
    if signature == "valid":
        timestamp = json.loads(raw)["timestamp"]
        signature = "mac=" + hashlib.sha256(ZALO_APP_ID.encode() + raw + timestamp.encode()
                                            + ZALO_KEY.encode()).hexdigest()
    headers = {"X-ZEvent-Signature": signature} if signature else {}
    return stack.client.post("/api/v1/webhooks/zalo", data=raw, headers=headers, content_type="application/json")


def test_zalo_message_becomes_one_tip_even_when_delivered_twice(stack):
    msg_id = uuid.uuid4().hex
    raw = zalo_body("Có đối tượng lạ trộm xe máy ở phường Tân Thành lúc 9h sáng nay", msg_id)
    first = zalo_post(stack, raw)
    assert first.status_code == 200, first.data
    assert first.get_json()["received"] == 1
    again = zalo_post(stack, raw)  # Zalo retries when an answer is late
    assert again.status_code == 200 and again.get_json()["tip_codes"] == first.get_json()["tip_codes"]
    assert stack.db("tips").tips.count_documents({"channel": "zalo", "message_id": msg_id}) == 1
    tip = tip_by_code(stack, first.get_json()["tip_codes"][0])
    assert tip["channel"] == "zalo" and tip["category"] == "theft_robbery" and tip["has_identity"]
    # the acknowledgement goes back on Zalo: notify asks tips for the recipient, an audited read
    ack = events_for(stack, tip["id"], "tips.reply_sent")
    assert len(ack) == 1 and ack[0]["envelope"]["data"]["source"] == "zalo"
    assert "8412345" not in json.dumps([e["envelope"] for e in events_for(stack, tip["id"])])
    assert stack.rpc.tips.reply_recipient(tip["id"]) == {"source": "zalo", "zalo_user_id": "8412345"}
    assert [a["kind"] for a in stack.rpc.tips.reveal_audit(tip["id"])] == ["system_read"]


def test_zalo_forged_or_missing_signature_is_401_and_stores_nothing(stack):
    msg_id = uuid.uuid4().hex
    raw = zalo_body("Có trộm ở phường Tân Thành", msg_id)
    problem(zalo_post(stack, raw, signature="mac=" + "0" * 64), 401)
    problem(zalo_post(stack, raw, signature=None), 401)
    forged = zalo_body("Có trộm ở phường Tân Thành", msg_id, sender="attacker")
    good_sig_other_body = "mac=" + hashlib.sha256(ZALO_APP_ID.encode() + raw + b"1735689600000"
                                                  + ZALO_KEY.encode()).hexdigest()
    problem(zalo_post(stack, forged, signature=good_sig_other_body), 401)
    assert stack.db("tips").tips.count_documents({"message_id": msg_id}) == 0


def test_zalo_events_that_are_not_text_are_acknowledged_and_ignored(stack):
    response = zalo_post(stack, zalo_body("", uuid.uuid4().hex, event="user_send_sticker"))
    assert response.status_code == 200 and response.get_json() == {"received": 0, "ignored": 1, "tip_codes": []}
    emoji = zalo_post(stack, zalo_body("😡😡😡", uuid.uuid4().hex))  # nothing a retry would fix
    assert emoji.status_code == 200 and emoji.get_json()["ignored"] == 1


# --- intake: Facebook ---------------------------------------------------------------------------

def facebook_body(text, mid, sender="6001", echo=False):
    message = {"mid": mid, "text": text, **({"is_echo": True} if echo else {})}
    return json.dumps({"object": "page", "entry": [{"id": "page-1", "time": 1735689600000, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": "page-1"}, "timestamp": 1735689600000,
         "message": message}]}]}, ensure_ascii=False).encode()


def facebook_post(stack, raw, signature="valid"):
    if signature == "valid":
        signature = "sha256=" + hmac.new(FB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature-256": signature} if signature else {}
    return stack.client.post("/api/v1/webhooks/facebook", data=raw, headers=headers,
                             content_type="application/json")


def test_facebook_verification_challenge(stack):
    ok = stack.client.get("/api/v1/webhooks/facebook?hub.mode=subscribe&hub.verify_token="
                          f"{FB_VERIFY}&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    problem(stack.client.get("/api/v1/webhooks/facebook?hub.mode=subscribe&hub.verify_token=wrong"
                             "&hub.challenge=1"), 403)
    problem(stack.client.get("/api/v1/webhooks/facebook?hub.mode=subscribe"), 422)


def test_facebook_message_becomes_one_tip_and_forgeries_are_refused(stack):
    mid = "m_" + uuid.uuid4().hex
    raw = facebook_body("Nhận được tin nhắn giả danh công an yêu cầu chuyển tiền, lừa đảo ở phường Vân Giang", mid)
    problem(facebook_post(stack, raw, signature="sha256=" + "f" * 64), 401)
    problem(facebook_post(stack, raw, signature=None), 401)
    assert stack.db("tips").tips.count_documents({"message_id": mid}) == 0
    first = facebook_post(stack, raw)
    assert first.status_code == 200 and first.get_json()["received"] == 1, first.data
    again = facebook_post(stack, raw)
    assert again.get_json()["tip_codes"] == first.get_json()["tip_codes"]
    assert stack.db("tips").tips.count_documents({"channel": "facebook", "message_id": mid}) == 1
    tip = tip_by_code(stack, first.get_json()["tip_codes"][0])
    assert tip["category"] == "fraud" and tip["channel"] == "facebook"
    assert stack.rpc.tips.reply_recipient(tip["id"]) == {"source": "facebook", "facebook_user_id": "6001"}
    echo = facebook_post(stack, facebook_body("Cảm ơn bạn", "m_" + uuid.uuid4().hex, echo=True))
    assert echo.status_code == 200 and echo.get_json()["received"] == 0


# --- follow-up ----------------------------------------------------------------------------------

def test_tipster_and_staff_talk_both_ways(stack):
    receipt = accepted(send_tip(stack, {"text": "Quán karaoke ở phường Ninh Khánh hát to sau 23h gây mất trật tự"}))
    code, secret = receipt["tip_code"], receipt["secret"]
    tip = tip_by_code(stack, code, stack.ninh_khanh)
    assert tip["unit_id"] == "ca-ninh-khanh"
    reply = stack.client.post(f"/api/v1/tips/{tip['id']}/messages", headers=stack.ninh_khanh,
                              json={"text": "Công an phường đã tiếp nhận, liên hệ cán bộ qua số 0912 345 678"})
    assert reply.status_code == 201, reply.data
    note = stack.client.post(f"/api/v1/tips/{tip['id']}/messages", headers=stack.ninh_khanh,
                             json={"text": "Nội bộ: đã kiểm tra chủ quán", "internal": True})
    assert note.status_code == 201
    public = status(stack, code, secret)
    assert public.status_code == 200, public.data
    view = public.get_json()
    assert view["status"]["code"] == "assigned"
    assert [m["from"] for m in view["public_messages"]] == ["police"]
    assert "[số điện thoại]" in view["public_messages"][0]["text"] and "Nội bộ" not in json.dumps(view)
    sent = events_for(stack, tip["id"], "tips.reply_sent")
    assert len(sent) == 1 and sent[0]["envelope"]["data"]["source"] == "web"
    assert "0912 345 678" not in sent[0]["envelope"]["data"]["text"]

    added = stack.client.post(f"/api/v1/public/tips/{code}/messages", headers={"X-Tip-Secret": secret},
                              json={"text": "Tối nay quán vẫn mở nhạc rất to"},
                              environ_base={"REMOTE_ADDR": next(_ips)})
    assert added.status_code == 201, added.data
    assert [m["from"] for m in added.get_json()["public_messages"]] == ["police", "citizen"]
    staff = stack.client.get(f"/api/v1/tips/{tip['id']}", headers=stack.ninh_khanh).get_json()
    assert staff["messages"][-1]["from"] == "citizen" and "vẫn mở nhạc" in staff["messages"][-1]["text"]
    assert staff["notes"][0]["text"].startswith("Nội bộ")


def test_wrong_secret_and_unknown_code_get_the_same_401(stack):
    receipt = accepted(send_tip(stack, {"text": "Có người đánh bạc ăn tiền ở phường Bích Đào"}))
    tip_by_code(stack, receipt["tip_code"])
    wrong_secret = status(stack, receipt["tip_code"], "x" * 32)
    unknown_code = status(stack, "NB-2222-2222", receipt["secret"])
    nonsense = status(stack, "not-a-code", receipt["secret"])
    bodies = [problem(r, 401) for r in (wrong_secret, unknown_code, nonsense)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert {r.headers["Retry-After"] for r in (wrong_secret, unknown_code, nonsense)} == {"2"}
    no_header = stack.client.get(f"/api/v1/public/tips/{receipt['tip_code']}",
                                 environ_base={"REMOTE_ADDR": next(_ips)})
    assert problem(no_header, 401) == bodies[0]
    posted = stack.client.post(f"/api/v1/public/tips/{receipt['tip_code']}/messages",
                               headers={"X-Tip-Secret": "y" * 32}, json={"text": "thêm thông tin"},
                               environ_base={"REMOTE_ADDR": next(_ips)})
    assert problem(posted, 401) == bodies[0]
    # typed loosely by a citizen, the right code still works
    loose = status(stack, receipt["tip_code"].lower().replace("-", " "), receipt["secret"])
    assert loose.status_code == 200


# --- identity ------------------------------------------------------------------------------------

def test_identity_reveal_is_admin_only_needs_a_reason_and_is_audited(stack):
    receipt = accepted(send_tip(stack, {"text": "Tôi biết nơi cất giấu ma túy ở phường Nam Bình",
                                        "contact": {"name": "Lê Văn Nhân Chứng", "phone": "0911 222 333"},
                                        "anonymous": False}))
    tip = tip_by_code(stack, receipt["tip_code"])
    url = f"/api/v1/tips/{tip['id']}/reveal"
    reason = {"reason": "Cần liên hệ nhân chứng để lấy lời khai"}
    for headers in (stack.triage, stack.ninh_khanh, stack.auditor):
        problem(stack.client.post(url, headers=headers, json=reason), 403)
    problem(stack.client.post(url, json=reason), 401)
    problem(stack.client.post(url, headers=stack.admin, json={}), 422)
    problem(stack.client.post(url, headers=stack.admin, json={"reason": "   ngắn   "}), 422)
    assert stack.rpc.tips.reveal_audit(tip["id"]) == []
    revealed = stack.client.post(url, headers=stack.admin, json=reason)
    assert revealed.status_code == 200, revealed.data
    body = revealed.get_json()
    assert body["identity"]["contact"] == {"name": "Lê Văn Nhân Chứng", "phone": "0911 222 333"}
    audit = stack.rpc.tips.reveal_audit(tip["id"])
    assert len(audit) == 1 and audit[0]["id"] == body["audit_id"]
    assert (audit[0]["kind"], audit[0]["reason"], audit[0]["tip_id"]) == ("reveal", reason["reason"], tip["id"])
    after = stack.client.get(f"/api/v1/tips/{tip['id']}", headers=stack.admin).get_json()
    assert after["audit"][-1]["action"] == "reveal_identity"

    # the reveal audit: admins read it; nobody else, not even the auditor
    reveals = stack.client.get(f"/api/v1/tips/{tip['id']}/reveals", headers=stack.admin)
    assert reveals.status_code == 200, reveals.data
    assert [(r["id"], r["kind"], r["reason"]) for r in reveals.get_json()] == [
        (body["audit_id"], "reveal", reason["reason"])]
    for headers in (stack.triage, stack.ninh_khanh, stack.auditor):
        problem(stack.client.get(f"/api/v1/tips/{tip['id']}/reveals", headers=headers), 403)
    problem(stack.client.get("/api/v1/tips/no-such-tip/reveals", headers=stack.admin), 404)

    anonymous = accepted(send_tip(stack, {"text": "Có người bán ma túy ở phường Nam Bình"}))
    tip2 = tip_by_code(stack, anonymous["tip_code"])
    assert not tip2["has_identity"]
    assert stack.client.post(f"/api/v1/tips/{tip2['id']}/reveal", headers=stack.admin,
                             json=reason).get_json()["identity"] is None


# --- roles and unit scope --------------------------------------------------------------------------

def test_an_operator_sees_and_acts_only_within_their_unit_and_ward(stack):
    mine = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Nhóm thanh niên tụ tập gây rối trật tự công cộng ở phường Ninh Khánh"}))["tip_code"])
    drugs = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Có người bán ma túy ở phường Ninh Khánh"}))["tip_code"])
    elsewhere = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Có người bán ma túy ở phường Tân Thành"}))["tip_code"])
    assert mine["unit_id"] == "ca-ninh-khanh" and drugs["unit_id"] == elsewhere["unit_id"] == "doi-ma-tuy"
    client = stack.client
    # the ward police see their unit's tips and every tip of their ward, whoever handles it
    listed = client.get("/api/v1/tips?limit=500", headers=stack.ninh_khanh).get_json()["items"]
    assert {mine["id"], drugs["id"]} <= {t["id"] for t in listed} and elsewhere["id"] not in {t["id"] for t in listed}
    assert all(t["unit_id"] == "ca-ninh-khanh" or t["ward"] == "ninh-khanh" for t in listed)
    assert client.get(f"/api/v1/tips/{drugs['id']}", headers=stack.ninh_khanh).status_code == 200
    noted = client.post(f"/api/v1/tips/{drugs['id']}/messages", headers=stack.ninh_khanh,
                        json={"text": "Công an phường đã nắm địa điểm", "internal": True})
    assert noted.status_code == 201, noted.data
    problem(client.get(f"/api/v1/tips/{elsewhere['id']}", headers=stack.ninh_khanh), 404)
    problem(client.post(f"/api/v1/tips/{elsewhere['id']}/status", headers=stack.ninh_khanh,
                        json={"status": "in_progress"}), 404)
    # another ward's operator: neither sees nor acts
    assert mine["id"] not in {t["id"] for t in client.get("/api/v1/tips?limit=500",
                                                          headers=stack.tan_thanh).get_json()["items"]}
    problem(client.get(f"/api/v1/tips/{mine['id']}", headers=stack.tan_thanh), 404)
    problem(client.post(f"/api/v1/tips/{mine['id']}/assign", headers=stack.tan_thanh,
                        json={"unit_id": "ca-tan-thanh", "reason": "chuyển về phường tôi"}), 404)
    problem(client.post(f"/api/v1/tips/{mine['id']}/messages", headers=stack.tan_thanh, json={"text": "xin chào"}),
            404)
    # auditors read everything and change nothing; editors do not handle tips
    assert client.get(f"/api/v1/tips/{drugs['id']}", headers=stack.auditor).status_code == 200
    problem(client.post(f"/api/v1/tips/{drugs['id']}/status", headers=stack.auditor,
                        json={"status": "in_progress"}), 403)
    problem(client.get("/api/v1/tips", headers=stack.editor), 403)
    problem(client.get("/api/v1/tips"), 401)
    # the ward operator hands a tip that is not theirs on, with a reason; then it leaves their view
    problem(client.post(f"/api/v1/tips/{mine['id']}/assign", headers=stack.ninh_khanh,
                        json={"unit_id": "doi-cshs"}), 422)  # reassigning needs a reason
    moved = client.post(f"/api/v1/tips/{mine['id']}/assign", headers=stack.ninh_khanh,
                        json={"unit_id": "doi-cshs", "reason": "Có dấu hiệu cố ý gây thương tích"})
    assert moved.status_code == 200 and moved.get_json()["unit_id"] == "doi-cshs"
    assert [e["envelope"]["data"]["unit_id"] for e in events_for(stack, mine["id"], "tips.assigned")] == [
        "ca-ninh-khanh", "doi-cshs"]
    # still in their ward: they still see it; once its ward is corrected, it is the other ward's
    assert client.get(f"/api/v1/tips/{mine['id']}", headers=stack.ninh_khanh).status_code == 200
    moved_ward = client.post(f"/api/v1/tips/{mine['id']}/triage", headers=stack.triage, json={"ward": "tan-thanh"})
    assert moved_ward.status_code == 200, moved_ward.data
    problem(client.get(f"/api/v1/tips/{mine['id']}", headers=stack.ninh_khanh), 404)
    assert client.get(f"/api/v1/tips/{mine['id']}", headers=stack.tan_thanh).status_code == 200
    problem(client.post(f"/api/v1/tips/{drugs['id']}/assign", headers=stack.triage,
                        json={"unit_id": "no-such-unit", "reason": "thử đơn vị không có"}), 422)


def test_lifecycle_merge_and_filters(stack):
    client, h = stack.client, stack.triage
    text = "Bị kẻ gian giật túi xách trên đường Lê Hồng Phong phường Vân Giang sáng nay"
    original = tip_by_code(stack, accepted(send_tip(stack, {"text": text}))["tip_code"])
    repeat = tip_by_code(stack, accepted(send_tip(stack, {"text": text + " lúc 7 giờ"}))["tip_code"])
    assert original["id"] in {c["tip_id"] for c in repeat["duplicate_candidates"]}
    merged = client.post(f"/api/v1/tips/{repeat['id']}/merge", headers=h, json={"into": original["tip_code"]})
    assert merged.status_code == 200, merged.data
    assert (merged.get_json()["status"], merged.get_json()["close_reason"], merged.get_json()["merged_into"]) == (
        "closed", "duplicate", original["id"])
    linked = client.get(f"/api/v1/tips/{original['id']}", headers=h).get_json()["linked_tips"]
    assert [t["tip_id"] for t in linked] == [repeat["id"]]
    problem(client.post(f"/api/v1/tips/{repeat['id']}/status", headers=h, json={"status": "in_progress"}), 409)
    problem(client.post(f"/api/v1/tips/{original['id']}/merge", headers=h, json={"into": original["id"]}), 422)
    problem(client.post(f"/api/v1/tips/{original['id']}/status", headers=h, json={"status": "closed"}), 422)

    for target in ("in_progress", "resolved"):
        response = client.post(f"/api/v1/tips/{original['id']}/status", headers=h, json={"status": target})
        assert response.status_code == 200 and response.get_json()["status"] == target
    changes = [(e["envelope"]["data"]["from_status"], e["envelope"]["data"]["to_status"])
               for e in events_for(stack, original["id"], "tips.status_changed")]
    assert changes == [("assigned", "in_progress"), ("in_progress", "resolved")]

    # filters: folded text search, category, status, ward, dates
    found = client.get("/api/v1/tips?text=giat tui xach&status=resolved", headers=h).get_json()["items"]
    assert [t["id"] for t in found] == [original["id"]]
    assert client.get("/api/v1/tips?category=theft_robbery&ward=van-giang&limit=500",
                      headers=h).get_json()["items"]
    assert client.get("/api/v1/tips?from=2099-01-01T00:00:00%2B07:00", headers=h).get_json()["items"] == []
    web = client.get("/api/v1/tips?channel=web&limit=500", headers=h).get_json()["items"]
    assert original["id"] in {t["id"] for t in web} and {t["channel"] for t in web} == {"web"}
    assert original["id"] not in {t["id"] for t in client.get("/api/v1/tips?channel=zalo&limit=500",
                                                              headers=h).get_json()["items"]}
    problem(client.get("/api/v1/tips?channel=telegram", headers=h), 422)
    problem(client.get("/api/v1/tips?status=lost", headers=h), 422)
    problem(client.get("/api/v1/tips?from=yesterday", headers=h), 422)
    page1 = client.get("/api/v1/tips?limit=2", headers=h).get_json()
    page2 = client.get(f"/api/v1/tips?limit=2&cursor={page1['next_cursor']}", headers=h).get_json()
    assert not {t["id"] for t in page1["items"]} & {t["id"] for t in page2["items"]}
    assert page1["items"][0]["received_at"] >= page2["items"][0]["received_at"]  # newest first


# --- routing rules, FAQ, stats ---------------------------------------------------------------------

def test_routing_rules_are_admin_edited_and_checked(stack):
    client = stack.client
    assert client.get("/api/v1/routing-rules", headers=stack.auditor).status_code == 200
    problem(client.get("/api/v1/routing-rules", headers=stack.ninh_khanh), 403)
    rules = {"rules": [{"category": "fraud", "ward": "ninh-son", "unit_id": "ca-ninh-son"}]}
    problem(client.put("/api/v1/routing-rules", headers=stack.triage, json=rules), 403)
    bad = problem(client.put("/api/v1/routing-rules", headers=stack.admin, json={"rules": [
        {"category": "fraud", "ward": "atlantis", "unit_id": "ca-ninh-son"},
        {"category": "fraud", "unit_id": "no-such-unit"}]}), 422)
    assert set(bad["errors"]) == {"rules.0.ward", "rules.1.unit_id"}
    problem(client.put("/api/v1/routing-rules", headers=stack.admin,
                       json={"rules": [{"category": "not-a-category", "unit_id": "catp"}]}), 422)
    saved = client.put("/api/v1/routing-rules", headers=stack.admin, json=rules)
    assert saved.status_code == 200 and saved.get_json()["rules"] == rules["rules"]
    tip = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Tôi bị lừa đảo chuyển khoản 20 triệu qua mạng, nhà ở phường Ninh Sơn"}))["tip_code"])
    assert (tip["category"], tip["unit_id"]) == ("fraud", "ca-ninh-son")
    client.put("/api/v1/routing-rules", headers=stack.admin, json={"rules": []})


def test_procedure_questions_get_faq_suggestions_and_the_faq_is_editable(stack):
    client = stack.client
    faq = client.get("/api/v1/faq?limit=100", headers=stack.ninh_khanh).get_json()["items"]
    assert len(faq) == 24
    tip = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Cho hỏi con tôi đủ 14 tuổi thì làm thẻ căn cước lần đầu ở đâu, cần mang giấy tờ gì?"}))["tip_code"])
    assert tip["category"] == "procedure_question" and tip["unit_id"] == "doi-qlhc"
    suggestions = tip["faq_suggestions"]
    assert 1 <= len(suggestions) <= 3 and suggestions[0]["faq_id"] == "can-cuoc-cap-lan-dau"
    assert all(s["score"] > 0 for s in suggestions)
    entry = {"id": "dang-ky-tam-tru-sinh-vien", "title": "Đăng ký tạm trú cho sinh viên",
             "question_variants": ["Sinh viên thuê trọ có phải đăng ký tạm trú không?"],
             "answer": "Sinh viên thuê trọ đăng ký tạm trú tại Công an phường nơi ở."}
    problem(client.post("/api/v1/faq", headers=stack.ninh_khanh, json=entry), 403)
    created = client.post("/api/v1/faq", headers=stack.triage, json=entry)
    assert created.status_code == 201, created.data
    problem(client.post("/api/v1/faq", headers=stack.triage, json=entry), 409)
    patched = client.patch(f"/api/v1/faq/{entry['id']}", headers=stack.admin, json={"answer": "Câu trả lời mới."})
    assert patched.status_code == 200 and patched.get_json()["answer"] == "Câu trả lời mới."
    problem(client.patch("/api/v1/faq/no-such-entry", headers=stack.admin, json={"answer": "x"}), 404)
    problem(client.post("/api/v1/faq", headers=stack.admin, json=dict(entry, id="Bad Id")), 422)


def test_reply_templates_are_admin_edited_and_offered_by_category(stack):
    client = stack.client
    seeded = client.get("/api/v1/reply-templates", headers=stack.ninh_khanh)
    assert seeded.status_code == 200, seeded.data
    assert {t["category"] for t in seeded.get_json()["items"]} >= {"*", "fraud"}
    template = {"category": "fraud", "title": "Lừa đảo đầu tư tiền ảo", "text": "Không nạp thêm tiền; giữ lại chứng từ."}
    for headers in (stack.triage, stack.ninh_khanh, stack.auditor):
        problem(client.post("/api/v1/reply-templates", headers=headers, json=template), 403)
    problem(client.post("/api/v1/reply-templates", json=template), 401)
    for bad in (dict(template, category="aliens"), dict(template, text="🙏🙏"), {"title": "x"},
                dict(template, **{"$set": 1})):
        problem(client.post("/api/v1/reply-templates", headers=stack.admin, json=bad), 422)
    created = client.post("/api/v1/reply-templates", headers=stack.admin,
                          json=dict(template, title=unicodedata.normalize("NFD", template["title"])))
    assert created.status_code == 201, created.data
    made = created.get_json()
    assert made["title"] == template["title"] and made["updated_by"]  # NFC, and who wrote it
    offered = client.get("/api/v1/reply-templates?category=fraud", headers=stack.triage).get_json()["items"]
    categories = [t["category"] for t in offered]
    assert made["id"] in {t["id"] for t in offered} and set(categories) == {"fraud", "*"}
    assert categories.index("*") > max(i for i, c in enumerate(categories) if c == "fraud")  # its own first
    assert made["id"] not in {t["id"] for t in client.get("/api/v1/reply-templates?category=traffic",
                                                          headers=stack.triage).get_json()["items"]}
    problem(client.get("/api/v1/reply-templates?category=aliens", headers=stack.triage), 422)
    problem(client.get("/api/v1/reply-templates", headers=stack.editor), 403)
    url = f"/api/v1/reply-templates/{made['id']}"
    problem(client.patch(url, headers=stack.triage, json={"text": "Mới"}), 403)
    problem(client.patch(url, headers=stack.admin, json={}), 422)
    patched = client.patch(url, headers=stack.admin, json={"category": "*", "text": "Giữ lại chứng từ."})
    assert patched.status_code == 200 and patched.get_json()["category"] == "*"
    assert made["id"] in {t["id"] for t in client.get("/api/v1/reply-templates?category=traffic",
                                                      headers=stack.triage).get_json()["items"]}
    problem(client.delete(url, headers=stack.triage), 403)
    assert client.delete(url, headers=stack.admin).status_code == 204
    problem(client.delete(url, headers=stack.admin), 404)
    problem(client.patch(url, headers=stack.admin, json={"text": "x"}), 404)


def test_stats_count_and_time_tips_within_the_officers_scope(stack):
    tip_by_code(stack, accepted(send_tip(stack, {"text": "Có người đánh bạc ở phường Ninh Khánh"}))["tip_code"])
    everything = stack.client.get("/api/v1/stats/tips", headers=stack.auditor)
    assert everything.status_code == 200, everything.data
    stats = everything.get_json()
    assert stats["total"] == sum(stats["by_status"].values()) == sum(stats["by_category"].values()) > 5
    assert stats["time_to_triage_seconds"]["count"] > 0 and stats["time_to_triage_seconds"]["p50"] >= 0
    assert stats["time_to_resolve_seconds"]["count"] >= 1
    ward = stack.client.get("/api/v1/stats/tips", headers=stack.ninh_khanh).get_json()
    assert 0 < ward["total"] < stats["total"]
    # the same tips the ward's list shows: its unit's, and its ward's whoever handles them
    listed = stack.client.get("/api/v1/tips?limit=500", headers=stack.ninh_khanh).get_json()["items"]
    assert ward["total"] == len(listed)
    assert ward["by_unit"]["ca-ninh-khanh"] == sum(t["unit_id"] == "ca-ninh-khanh" for t in listed)
    assert ward["by_ward"]["ninh-khanh"] == sum(t["ward"] == "ninh-khanh" for t in listed)
    assert "doi-ma-tuy" in ward["by_unit"]  # drugs in the ward, handled by the city team
    problem(stack.client.get("/api/v1/stats/tips", headers=stack.editor), 403)
    problem(stack.client.get("/api/v1/stats/tips?from=not-a-date", headers=stack.auditor), 422)


def test_stats_count_tips_per_week_and_time_them_to_acknowledgement(stack):
    start = datetime.now(timezone.utc).isoformat()
    tip = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Nhóm thanh niên đua xe, lạng lách trên đường Tràng An phường Ninh Khánh mỗi tối"}))["tip_code"])
    window = f"/api/v1/stats/tips?from={start.replace('+', '%2B')}"
    before = stack.client.get(window, headers=stack.auditor).get_json()
    assert before["time_to_acknowledge_seconds"]["count"] == 0 and before["time_to_acknowledge_seconds"]["p50"] is None
    assert before["by_week"] == {domain.week_of(tip["received_at"]): before["total"]}
    moved = stack.client.post(f"/api/v1/tips/{tip['id']}/status", headers=stack.triage, json={"status": "in_progress"})
    assert moved.status_code == 200, moved.data
    after = stack.client.get(window, headers=stack.auditor).get_json()
    acknowledged = after["time_to_acknowledge_seconds"]
    assert acknowledged["count"] == 1 and 0 <= acknowledged["p50"] == acknowledged["p90"] < 120
    other_ward = stack.client.get(window, headers=stack.tan_thanh).get_json()  # not in that officer's scope
    assert other_ward["total"] == 0 and other_ward["by_week"] == {}


# --- wanted notices -----------------------------------------------------------------------------------

@pytest.mark.skipif(("posts.published", 1) not in REGISTRY, reason="contracts/posts.py has no posts.published yet")
def test_a_sighting_links_to_the_wanted_notice_it_names(stack):
    from nameko.standalone.events import event_dispatcher
    post_id = uuid.uuid4().hex
    event = make_event("posts.published", {
        "post_id": post_id, "publication_id": uuid.uuid4().hex, "kind": "wanted_notice",
        "title": "Truy nã đối tượng Đinh Văn Trốn", "body": "Thông báo truy nã...", "audience": {},
        "published_at": "2025-03-01T08:00:00+07:00", "version": 1,
        "wanted": {"full_name": "Đinh Văn Trốn", "birth_year": 1990}}, producer="posts")
    event_dispatcher(stack.config)("posts", "posts.published", event)
    wait_for(lambda: stack.db("tips").wanted_notices.find_one({"_id": post_id}), message="notice projection")
    tip = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Tôi vừa nhìn thấy đối tượng truy nã dinh van tron ở quán nước phường Thanh Bình"}))["tip_code"])
    assert tip["category"] == "wanted_sighting"
    assert tip["wanted_notice"]["post_id"] == post_id
    # the notice's sightings, listed from the notice
    linked = stack.client.get(f"/api/v1/tips?wanted_post_id={post_id}", headers=stack.triage).get_json()["items"]
    assert [t["id"] for t in linked] == [tip["id"]]
    assert stack.client.get(f"/api/v1/tips?wanted_post_id={uuid.uuid4().hex}",
                            headers=stack.triage).get_json()["items"] == []


# --- bad input -----------------------------------------------------------------------------------

def test_an_officer_corrects_triage_and_the_correction_becomes_a_labelled_example(stack):
    client, h = stack.client, stack.triage
    tip = tip_by_code(stack, accepted(send_tip(stack, {
        "text": "Tối qua nhà tôi ở phường Ninh Khánh bị trộm mất xe máy, ai thấy gọi 0912 345 678"}))["tip_code"])
    assert (tip["category"], tip["ward"]) == ("theft_robbery", "ninh-khanh")
    url = f"/api/v1/tips/{tip['id']}/triage"
    # bad input changes nothing
    for payload in ({}, {"category": "alien"}, {"urgency": "soon"}, {"ward": "no-such-ward"},
                    {"category": "violence", "unit_id": "doi-cshs"}, {"$set": {"category": "spam"}},
                    {"category": tip["category"]}):
        problem(client.post(url, headers=h, json=payload), 422)
    # role and unit scope, as for every other action
    problem(client.post(url, headers=stack.tan_thanh, json={"category": "violence"}), 404)
    problem(client.post(url, headers=stack.auditor, json={"category": "violence"}), 403)
    problem(client.post(url, headers=stack.editor, json={"category": "violence"}), 403)
    problem(client.post(url, json={"category": "violence"}), 401)
    assert stack.db("tips").triage_corrections.count_documents({"tip_id": tip["id"]}) == 0
    assert client.get(f"/api/v1/tips/{tip['id']}", headers=h).get_json()["category"] == "theft_robbery"

    corrected = client.post(url, headers=h, json={"category": "violence", "urgency": "high",
                                                  "reason": "Thực ra là đánh nhau / a fight"})
    assert corrected.status_code == 200, corrected.get_data(as_text=True)
    after = corrected.get_json()
    assert (after["category"], after["urgency"], after["ward"]) == ("violence", "high", "ninh-khanh")
    assert after["unit_id"] == tip["unit_id"]  # a correction does not reassign
    assert after["sla_due_at"] != tip["sla_due_at"]  # the SLA follows the new urgency
    # announced again with the corrected values, from the outbox
    triaged = [e["envelope"]["data"] for e in events_for(stack, tip["id"], "tips.triaged")]
    assert [(e["category"], e["urgency"]) for e in triaged] == [("theft_robbery", "normal"), ("violence", "high")]
    assert [e["envelope"]["type"] for e in events_for(stack, tip["id"], "tips.assigned")] == ["tips.assigned"]
    # the labelled example: text redacted as events redact it
    stored = stack.db("tips").triage_corrections.find_one({"tip_id": tip["id"]})
    assert "0912 345 678" not in stored["text"] and "[số điện thoại]" in stored["text"]
    assert stored["before"]["category"] == "theft_robbery" and stored["category"] == "violence"
    assert sorted(stored["changed"]) == ["category", "urgency"]
    # ward: null means no ward of the city
    cleared = client.post(url, headers=h, json={"ward": None})
    assert cleared.status_code == 200 and cleared.get_json()["ward"] is None

    report = stack.rpc.tips.triage_corrections({"id": "cli:test", "roles": ["admin"], "unit_id": None}, {})
    label = next(r for r in report["labels"] if r["id"] == f"officer-{tip['tip_code']}")
    assert set(label) == {"id", "channel", "text", "category", "urgency", "ward", "is_anonymous_request", "note"}
    assert (label["category"], label["urgency"], label["ward"]) == ("violence", "high", None)
    assert ["category", "theft_robbery", "violence", 1] in report["pairs"]
    assert ["ward", "ninh-khanh", None, 1] in report["pairs"]


@pytest.fixture
def queued(stack, monkeypatch):
    """Every message the gateway puts on the intake queue during the test."""
    with stack.client.application.app_context():
        publisher = public_tips.publisher()
    sent, publish = [], publisher.publish
    monkeypatch.setattr(publisher, "publish", lambda message, intake_id: (sent.append(message),
                                                                         publish(message, intake_id)))
    return sent


@pytest.mark.parametrize("payload, status", [
    ({"text": ""}, 422),
    ({"text": "   "}, 422),
    ({"text": "đ" * 100_000}, 422),
    ({"text": "😀🙏🚓"}, 422),
    ({"text": "Có trộm", "attachments": [{"content_type": "application/x-msdownload", "size": 100}]}, 422),
    ({"text": "Có trộm", "attachments": [{"content_type": "image/png", "size": 50 * 1024 * 1024}]}, 422),
    ({"text": "Có trộm", "category": "spam"}, 422),
    ({"text": "Có trộm", "zalo_user_id": "spoofed"}, 422),
    ({"text": "Có trộm", "$where": "1"}, 422),
    ({"text": 42}, 422),
    (["not", "an", "object"], 422),
])
def test_bad_tips_are_refused_with_a_problem_never_a_500(stack, queued, payload, status):
    before = stack.db("tips").tips.count_documents({})
    problem(send_tip(stack, payload), status)
    assert queued == []  # nothing on its way to the store either
    assert stack.db("tips").tips.count_documents({}) == before


def test_invalid_utf8_and_malformed_json_are_400(stack):
    for raw in (b'{"text": "C\xf3 tr\xff\xfem"}', b'{"text": "unterminated'):
        problem(stack.client.post("/api/v1/public/tips", data=raw, content_type="application/json",
                                  environ_base={"REMOTE_ADDR": next(_ips)}), 400)


def test_nfd_vietnamese_is_the_same_tip_as_nfc_and_unknown_wards_are_accepted(stack):
    text = "Có người đánh nhau gây thương tích ở phường Đông Thành tối qua"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    a = tip_by_code(stack, accepted(send_tip(stack, {"text": text}))["tip_code"])
    b = tip_by_code(stack, accepted(send_tip(stack, {
        "text": nfd, "ward": unicodedata.normalize("NFD", "Đông Thành")}))["tip_code"])
    assert b["text"] == text
    assert (a["category"], a["ward"], a["unit_id"]) == (b["category"], b["ward"], b["unit_id"]) == (
        "violence", "dong-thanh", a["unit_id"])
    unknown = tip_by_code(stack, accepted(send_tip(stack, {"text": "Mất trộm xe đạp ở gần nhà tôi",
                                                           "ward": "Phường Không Tồn Tại"}))["tip_code"])
    assert unknown["ward"] is None and unknown["ward_text"] == "Phường Không Tồn Tại"
    assert unknown["status"] == "assigned"


def test_public_intake_is_rate_limited_per_address(stack):
    ip = "10.99.0.1"
    answers = [send_tip(stack, {"text": f"Tin báo thử số {n} về trộm cắp"}, ip=ip).status_code for n in range(4)]
    assert answers[:3] == [202, 202, 202]
    limited = send_tip(stack, {"text": "Tin báo thử về trộm cắp"}, ip=ip)
    body = problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1 and "113" in body["detail"]
    assert send_tip(stack, {"text": "Tin báo từ địa chỉ khác về trộm cắp"}).status_code == 202


def test_openapi_documents_every_tips_endpoint_and_its_errors(stack):
    spec = stack.client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path, method in [("/api/v1/public/tips", "post"), ("/api/v1/public/tips/{code}", "get"),
                         ("/api/v1/public/tips/{code}/messages", "post"), ("/api/v1/webhooks/zalo", "post"),
                         ("/api/v1/webhooks/facebook", "get"), ("/api/v1/webhooks/facebook", "post"),
                         ("/api/v1/tips", "get"), ("/api/v1/tips/{tip_id}/reveal", "post"),
                         ("/api/v1/routing-rules", "put"), ("/api/v1/faq/{faq_id}", "patch"),
                         ("/api/v1/stats/tips", "get"), ("/api/v1/tips/{tip_id}/triage", "post"),
                         ("/api/v1/tips/{tip_id}/acknowledge", "post"), ("/api/v1/tips/{tip_id}/reveals", "get"),
                         ("/api/v1/reply-templates", "get"), ("/api/v1/reply-templates", "post"),
                         ("/api/v1/reply-templates/{template_id}", "patch"),
                         ("/api/v1/reply-templates/{template_id}", "delete")]:
        responses = paths[path][method]["responses"]
        assert any(code.startswith("2") for code in responses), (path, method)
        assert any(code.startswith("4") for code in responses), (path, method)


# --- the intake queue -------------------------------------------------------------------------------

def intake_message(text, **fields):
    """An intake message as the gateway makes it (the secret is 's' * 32)."""
    return {"intake_id": uuid.uuid4().hex, "received_at": datetime.now(timezone.utc).isoformat(),
            "tip_code": domain.new_tip_code(), "secret_hash": domain.hash_secret("s" * 32),
            "payload": {"text": text}, **fields}


def messages_in(config, queue):
    """Messages on a queue, ready or delivered and not yet acked."""
    vhost = unquote(urlsplit(config["AMQP_URI"]).path[1:])
    listing = subprocess.run(["rabbitmqctl", "-q", "--no-table-headers", "list_queues", "-p", vhost, "name",
                              "messages"], check=True, capture_output=True, text=True, timeout=60).stdout
    counts = dict(line.split("\t") for line in listing.splitlines() if "\t" in line)
    return int(counts.get(queue, 0))


def dead_letters(config, intake_ids, timeout=20):
    """The dead-lettered intake messages with these ids (acked: taken off the queue)."""
    found = {}
    deadline = time.monotonic() + timeout
    with Connection(config["AMQP_URI"]) as conn:
        dead = conn.SimpleQueue(Queue(DEAD_LETTER_QUEUE, durable=True, no_declare=True))
        try:
            while set(found) != set(intake_ids) and time.monotonic() < deadline:
                try:
                    message = dead.get(timeout=1)
                except dead.Empty:
                    continue
                message.ack()
                if message.payload.get("intake_id") in intake_ids:
                    found[message.payload["intake_id"]] = message
        finally:
            dead.close()
    return found


def test_a_queued_tip_is_stored_once_however_often_it_is_delivered(stack):
    message = intake_message("Có người trộm xe máy ở phường Tân Thành sáng nay")
    publisher = IntakePublisher(stack.config["AMQP_URI"])
    publisher.publish(message, message["intake_id"])
    publisher.publish(message, message["intake_id"])  # at once: two tips instances may take one each
    tip = tip_by_code(stack, message["tip_code"])
    wait_for(lambda: messages_in(stack.config, INTAKE_QUEUE.name) == 0, message="intake queue drained")
    publisher.publish(message, message["intake_id"])  # later: found by its intake id
    wait_for(lambda: messages_in(stack.config, INTAKE_QUEUE.name) == 0, message="intake queue drained")
    tips = stack.db("tips").tips
    assert tips.count_documents({"tip_code": message["tip_code"]}) == 1
    assert tips.count_documents({"channel": "web", "message_id": message["intake_id"]}) == 1
    assert [e["envelope"]["type"] for e in events_for(stack, tip["id"])] == [
        "tips.received", "tips.triaged", "tips.assigned"]
    assert tip["received_at"].startswith(message["received_at"][:19])  # the gateway's time: the SLA starts there
    assert status(stack, message["tip_code"], "s" * 32).status_code == 200


def test_poison_intake_messages_are_dead_lettered_not_lost(stack):
    taken = tip_by_code(stack, accepted(send_tip(stack, {"text": "Có người đánh bạc ở phường Nam Bình"}))["tip_code"])
    broken = {"intake_id": uuid.uuid4().hex, "tip_code": "NB-2222-3333-4444"}    # fields missing
    only_emoji = intake_message("😀🙏🚓")                                         # passes the schema, not the rules
    code_taken = intake_message("Có trộm ở phường Nam Bình", tip_code=taken["tip_code"])  # its sender holds that code
    publisher = IntakePublisher(stack.config["AMQP_URI"])
    for message in (broken, only_emoji, code_taken):
        publisher.publish(message, message["intake_id"])
    ids = {m["intake_id"] for m in (broken, only_emoji, code_taken)}
    dead = dead_letters(stack.config, ids)
    assert set(dead) == ids
    for message in dead.values():
        assert message.headers["x-consumer"] == "tips.store_queued_tip"
    assert "taken" in dead[code_taken["intake_id"]].headers["x-reason"]
    assert dead[code_taken["intake_id"]].payload == code_taken  # all of it, for an operator to act on
    tips = stack.db("tips").tips
    assert tips.count_documents({"message_id": {"$in": sorted(ids)}}) == 0
    assert tips.count_documents({"tip_code": taken["tip_code"]}) == 1
    assert messages_in(stack.config, INTAKE_QUEUE.name) == 0


def test_a_tip_accepted_while_the_tips_service_is_down_is_stored_when_it_starts(run_services, gateway, rpc,
                                                                                   config):
    run_services("groups")  # no tips service has ever run here: the gateway declares the queue itself
    response = gateway.post("/api/v1/public/tips", json={
        "text": "Có người lạ đột nhập nhà trọ ở phường Ninh Khánh", "contact": {"phone": "0912 345 678"}})
    receipt = accepted(response)
    assert messages_in(config, INTAKE_QUEUE.name) == 1  # durably queued, waiting
    run_services("tips")
    wait_for(lambda: _public_status(rpc, receipt), message="the queued tip stored")
    assert messages_in(config, INTAKE_QUEUE.name) == 0
    view = gateway.get(f"/api/v1/public/tips/{receipt['tip_code']}", headers={"X-Tip-Secret": receipt["secret"]})
    assert view.status_code == 200 and view.get_json()["tip_code"] == receipt["tip_code"]


def _public_status(rpc, receipt):
    try:
        return rpc.tips.public_status(receipt["tip_code"], receipt["secret"])
    except Exception:
        return None


def test_a_broker_that_is_down_or_silent_gets_503_quickly_and_nothing_is_kept(run_services, rpc, config):
    from gateway.app import create_app
    run_services("groups", "tips")
    silent = socket.socket()  # takes the connection, never speaks AMQP
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        for uri in (f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                    f"amqp://guest:guest@127.0.0.1:{silent.getsockname()[1]}/"):
            client = create_app({"AMQP_URI": uri, "JWT_SECRET": JWT_SECRET}).test_client()
            started = time.monotonic()
            response = client.post("/api/v1/public/tips", json={"text": "Có trộm xe máy ở phường Tân Thành"})
            assert time.monotonic() - started < 10, uri
            body = problem(response, 503)
            assert int(response.headers["Retry-After"]) > 0 and "secret" not in json.dumps(body)
    finally:
        silent.close()
    assert rpc.tips.tip_stats({"id": "t", "roles": ["admin"], "unit_id": None}, {})["total"] == 0


def test_an_unroutable_tip_is_refused_not_lost_silently(amqp_uri):
    """`mandatory`: a message no queue is bound for comes back, and the citizen hears 503, not 202."""
    exchange_only = Queue(INTAKE_QUEUE.name, INTAKE_QUEUE.exchange, routing_key=INTAKE_QUEUE.routing_key,
                          durable=True, no_declare=True)
    with Connection(amqp_uri) as conn:
        INTAKE_QUEUE.exchange(conn.default_channel).declare()  # the exchange exists; no queue is bound to it
    message = intake_message("Có trộm ở phường Tân Thành")
    with pytest.raises(ServiceUnavailable):
        IntakePublisher(amqp_uri, queue=exchange_only).publish(message, message["intake_id"])
    IntakePublisher(amqp_uri).publish(message, message["intake_id"])  # declares and binds the queue first
