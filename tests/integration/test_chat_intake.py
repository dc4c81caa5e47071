"""Zalo and Messenger tips end to end as `make run` wires them: the sandbox plays a citizen who
writes to the police's Zalo OA or Facebook page, posts the platform's signed event over HTTP
to the gateway's webhook (the gateway app served on a real socket), the tips service stores
the tip, and the police's replies (the automatic acknowledgement, then an officer's answer)
come back through notify to the sandbox's Zalo OA user-message and Messenger Send API
endpoints, where the sandbox's page shows the conversation. Real RabbitMQ, SecantusDB,
groups, tips and notify."""
import html
import uuid

import eventlet
import eventlet.wsgi
import pytest
import requests

from sandbox.server import run_in_thread
from services.tips.vault import generate_key
from tests.conftest import JWT_SECRET, login
from tests.support import environment, wait_for

pytestmark = pytest.mark.integration

DEMO_PASSWORD = "demo-password-123"
TOKEN = "sandbox-token-" + "t" * 20
ENV = {
    "TIPS_VAULT_KEY": generate_key(),
    # What `make run` generates and gives the gateway and the sandbox alike.
    "ZALO_APP_ID": "512345678901234567", "ZALO_OA_SECRET_KEY": "sandbox-zalo-oa-secret-for-tests",
    "FACEBOOK_APP_SECRET": "sandbox-facebook-app-secret-for-tests", "FACEBOOK_VERIFY_TOKEN": "sandbox-verify",
    # notify's replies to tipsters go out with these tokens, quickly
    "ZALO_OA_TOKEN": TOKEN, "FACEBOOK_PAGE_TOKEN": TOKEN, "FACEBOOK_GRAPH_VERSION": "v19.0",
    "DELIVERY_POLL_SECONDS": "0.1", "HTTP_TIMEOUT_SECONDS": "3",
}


@pytest.fixture(scope="module")
def gateway_socket():
    sock = eventlet.listen(("127.0.0.1", 0))
    yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture(scope="module")
def sandbox(gateway_socket):
    with environment(ENV):
        _, handle = run_in_thread(port=0, smtp_port=None, gateway_url=gateway_socket[1])
        yield handle
        handle.stop()


@pytest.fixture(scope="module")
def stack(module_stack, sandbox, gateway_socket):
    from gateway.app import create_app
    with environment(dict(ENV, ZALO_OPENAPI_URL=sandbox.url, FACEBOOK_GRAPH_URL=sandbox.url)):
        module_stack.start("groups", "tips", "notify")
        module_stack.rpc.groups.load_demo_data("city", DEMO_PASSWORD, sandbox.url)
        app = create_app({"AMQP_URI": module_stack.config["AMQP_URI"], "JWT_SECRET": JWT_SECRET})
        server = eventlet.spawn(eventlet.wsgi.server, gateway_socket[0], app, log_output=False)
        module_stack.gateway_url = gateway_socket[1]
        module_stack.admin = login(module_stack.client, "admin", "admin-password-for-tests")
        yield module_stack
        server.kill()


def citizen_writes(sandbox, platform, text, sender):
    answer = requests.post(f"{sandbox.url}/_sandbox/citizen/{platform}", json={"text": text, "sender": sender},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def conversation(sandbox, platform, sender):
    talks = requests.get(f"{sandbox.url}/_sandbox/citizens", timeout=5).json()["conversations"]
    return next((t["messages"] for t in talks if (t["platform"], t["sender"]) == (platform, sender)), [])


def police_replies(sandbox, platform, sender, count):
    """The police's messages that reached this citizen, once there are `count` of them."""
    def replies():
        texts = [m["text"] for m in conversation(sandbox, platform, sender) if m["from"] == "police"]
        return texts if len(texts) >= count else None
    return wait_for(replies, timeout=20, message=f"{count} replies to {platform} citizen {sender}")


def test_a_zalo_citizen_gets_a_tip_code_and_the_police_replies_reach_them(stack, sandbox):
    sender = str(8400000000000000 + uuid.uuid4().int % 10**12)
    text = "Có đối tượng lạ trộm xe máy <Honda Wave> ở phường Tân Thành lúc 9h sáng nay"
    sent = citizen_writes(sandbox, "zalo", text, sender)
    assert sent["gateway_status"] == 200 and sent["gateway_answer"]["received"] == 1
    code, = sent["tip_codes"]
    # stored once, from the signed platform event, with the citizen's Zalo id in the vault only
    tip = stack.db("tips").tips.find_one({"tip_code": code})
    assert (tip["channel"], tip["message_id"], tip["category"]) == ("zalo", sent["message_id"], "theft_robbery")
    assert sender not in str(tip)
    assert stack.rpc.tips.reply_recipient(tip["_id"]) == {"source": "zalo", "zalo_user_id": sender}

    # the acknowledgement goes back on Zalo (notify -> the OA user-message API) with the code
    ack, = police_replies(sandbox, "zalo", sender, 1)
    assert code in ack
    # an officer answers; the citizen reads it in the same chat
    reply = stack.client.post(f"/api/v1/tips/{tip['_id']}/messages", headers=stack.admin,
                              json={"text": "Công an phường Tân Thành đã tiếp nhận & đang xác minh"})
    assert reply.status_code == 201, reply.data
    replies = police_replies(sandbox, "zalo", sender, 2)
    assert replies[1] == "Công an phường Tân Thành đã tiếp nhận & đang xác minh"
    talk = conversation(sandbox, "zalo", sender)
    assert [m["from"] for m in talk] == ["citizen", "police", "police"]

    page = requests.get(f"{sandbox.url}/_sandbox/", timeout=5).text
    assert html.escape(text) in page and "<Honda Wave>" not in page
    assert html.escape("đã tiếp nhận & đang xác minh") in page and code in page


def test_a_messenger_citizen_writes_from_the_page_form_without_javascript(stack, sandbox):
    sender = str(6100000000000000 + uuid.uuid4().int % 10**12)
    text = "Nhận được tin nhắn giả danh công an yêu cầu chuyển tiền, lừa đảo ở phường Vân Giang"
    answer = requests.post(f"{sandbox.url}/_sandbox/citizen", allow_redirects=False, timeout=30,
                           data={"platform": "facebook", "text": text, "sender": sender})
    assert answer.status_code == 303 and answer.headers["Location"] == "/_sandbox/#citizens"
    sent, = conversation(sandbox, "facebook", sender)
    assert sent["from"] == "citizen" and sent["gateway_status"] == 200 and sent["text"] == text
    tip = stack.db("tips").tips.find_one({"tip_code": sent["tip_codes"][0]})
    assert (tip["channel"], tip["message_id"], tip["category"]) == ("facebook", sent["message_id"], "fraud")
    ack, = police_replies(sandbox, "facebook", sender, 1)  # through the Messenger Send API
    assert sent["tip_codes"][0] in ack
    send_api = [r for r in sandbox.state.received(sender, "facebook") if r.get("to_user")]
    assert send_api[0]["path"] == "/v19.0/me/messages" and send_api[0]["body"]["recipient"] == {"id": sender}


def test_a_procedure_question_on_zalo_gets_the_faq_answers_in_the_chat_and_stays_open(stack, sandbox):
    sender = str(8410000000000000 + uuid.uuid4().int % 10**12)
    sent = citizen_writes(sandbox, "zalo", "Cho hỏi con tôi đủ 14 tuổi thì làm thẻ căn cước lần đầu ở đâu, "
                                           "cần mang giấy tờ gì?", sender)
    code, = sent["tip_codes"]
    tip = stack.db("tips").tips.find_one({"tip_code": code})
    assert tip["category"] == "procedure_question" and tip["faq_suggestions"]
    replies = police_replies(sandbox, "zalo", sender, 1 + len(tip["faq_suggestions"]))
    # separate chat messages, delivered concurrently: their order on the platform is not fixed
    assert sum(code in r for r in replies) == 1
    answers = [r for r in replies if r.startswith("Có thể bạn cần")]
    assert len(answers) == len(tip["faq_suggestions"])
    assert any("Cấp thẻ căn cước lần đầu" in r and "từ đủ 14 tuổi" in r for r in answers)
    assert stack.db("tips").tips.find_one({"tip_code": code})["status"] == "assigned"  # open for an officer


def test_what_the_gateway_refuses_is_shown_not_hidden(stack, sandbox):
    before = stack.db("tips").tips.count_documents({})
    empty = requests.post(f"{sandbox.url}/_sandbox/citizen/zalo", json={"text": " "}, timeout=5)
    assert empty.status_code == 400 and "text" in empty.json()["error"]
    # A sandbox holding another OA secret key signs what the gateway cannot verify: 401, no tip.
    with environment(dict(ENV, ZALO_OA_SECRET_KEY="not-the-gateway-key")):
        _, forger = run_in_thread(port=0, smtp_port=None, gateway_url=stack.gateway_url)
    try:
        refused = requests.post(f"{forger.url}/_sandbox/citizen/zalo", json={"text": "Có trộm ở phường Tân Thành"},
                                timeout=30)
        assert refused.status_code == 502 and refused.json()["gateway_status"] == 401
        assert refused.json()["tip_codes"] == []
        page = requests.get(f"{forger.url}/_sandbox/", timeout=5).text
        assert "→ 401" in page
    finally:
        forger.stop()
    assert stack.db("tips").tips.count_documents({}) == before


def test_readyz_over_http_lists_both_webhooks_as_configured(stack):
    ready = requests.get(f"{stack.gateway_url}/readyz", timeout=10).json()
    assert ready["integrations"] == {"zalo_webhook": "configured", "facebook_webhook": "configured"}
    assert "posts" in ready["down"] and "zalo_webhook" not in ready["down"]  # posts is not started here
