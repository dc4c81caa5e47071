"""Channel adapters against the sandbox channel server running in this process.

No RabbitMQ or MongoDB: the sandbox plays Facebook, Zalo, YouTube, partner webhooks and
SMTP, and records what it received.
"""
import base64
import json
import socket
import time

import pytest
import requests

from contracts.settings import load
from sandbox.server import run_in_thread
from services.notify.adapters import ADAPTERS, adapter_for, adapter_for_channel, use_settings
from services.notify.adapters.base import DeliveryError, NoRetractApi
from services.notify.adapters.webhook import verify_signature

pytestmark = pytest.mark.integration

TOKEN = "EAAB-sandbox-token-ninh-binh"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"partner-secret-0123456789abcdef").decode()
TEXT = "Công an TP Ninh Bình thông báo: cảnh giác lừa đảo qua mạng. Đừng chuyển tiền cho người lạ!"

FANPAGE = {"id": "fb-1", "name": "Công an thành phố Ninh Bình", "type": "facebook_page",
           "external_id": "100000000000000", "credentials_ref": "FACEBOOK_PAGE_TOKEN", "delivery": "api"}
ZALO_GROUP = {"id": "zg-1", "name": "Nhóm Zalo phường Đông Thành", "type": "zalo_oa_group",
              "external_id": "zg1000001", "credentials_ref": "ZALO_OA_TOKEN", "delivery": "api"}
YOUTUBE = {"id": "yt-1", "name": "Kênh YouTube", "type": "youtube_channel", "external_id": "UCninhbinhcatp",
           "credentials_ref": "YOUTUBE_TOKEN", "delivery": "api"}
EMAIL = {"id": "em-1", "name": "Đội Cảnh sát hình sự", "type": "email", "external_id": "doi.hinhsu@congan.example.vn",
         "credentials_ref": None, "delivery": "api"}
MANUAL = {"id": "zm-1", "name": "Nhóm Zalo nhà trọ", "type": "zalo_group_manual", "external_id": "zg1000099",
          "delivery": "manual_relay", "relay_officer_id": "canbo.dong-thanh"}


@pytest.fixture(scope="module")
def sandbox():
    url, handle = run_in_thread(port=0, smtp_port=0)
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def channels_env(sandbox, monkeypatch):
    sandbox.state.reset()
    monkeypatch.setenv("FACEBOOK_GRAPH_URL", sandbox.url)
    monkeypatch.setenv("FACEBOOK_GRAPH_VERSION", "v19.0")
    monkeypatch.setenv("ZALO_OPENAPI_URL", sandbox.url)
    monkeypatch.setenv("YOUTUBE_API_URL", sandbox.url)
    monkeypatch.setenv("SMTP_URL", sandbox.smtp_url)
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "5")
    for name in ("FACEBOOK_PAGE_TOKEN", "ZALO_OA_TOKEN", "YOUTUBE_TOKEN"):
        monkeypatch.setenv(name, TOKEN)
    monkeypatch.setenv("PARTNER_WEBHOOK_SECRET", WEBHOOK_SECRET)
    settings_from_environment()


def settings_from_environment():
    """The adapters' settings as this test set the environment (a notify process reads them
    once at start-up); credentials are read at each send, so they need no call."""
    use_settings(load("notify"))


def configure(sandbox, *specs):
    response = requests.post(f"{sandbox.url}/_sandbox/config", json=list(specs), timeout=5)
    assert response.status_code == 200, response.text


def received(sandbox, channel=None):
    params = {"channel": channel} if channel else {}
    return requests.get(f"{sandbox.url}/_sandbox/received", params=params, timeout=5).json()["requests"]


def webhook_channel(sandbox, name="so-tu-phap"):
    return {"id": f"wh-{name}", "name": f"Hệ thống {name}", "type": "webhook", "delivery": "api",
            "external_id": f"{sandbox.url}/webhooks/{name}", "credentials_ref": "PARTNER_WEBHOOK_SECRET"}


def envelope(event_id="3f1c9a4e-0000-4000-8000-000000000001"):
    return {"id": event_id, "type": "posts.published", "version": 1, "occurred_at": "2026-03-01T02:00:00+00:00",
            "producer": "posts", "correlation_id": "c0ffee", "data": {"post_id": "p-1", "title": "Cảnh báo lừa đảo"}}


def send_error(adapter, channel, message):
    with pytest.raises(DeliveryError) as caught:
        adapter.send(channel, message)
    return caught.value


# --- each channel type, the right wire format ------------------------------------------------------

def test_facebook_post_arrives_as_a_graph_feed_post_and_retracts(sandbox):
    adapter = adapter_for("facebook_page")
    result = adapter.send(FANPAGE, {"text": TEXT, "link": "https://congan.ninhbinh.example.vn/bai/1"})
    assert result.external_id.startswith(f"{FANPAGE['external_id']}_")

    [request] = received(sandbox, FANPAGE["external_id"])
    assert (request["method"], request["path"]) == ("POST", f"/v19.0/{FANPAGE['external_id']}/feed")
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert request["body"] == {"message": TEXT, "link": "https://congan.ninhbinh.example.vn/bai/1"}

    assert adapter.retract(FANPAGE, result.external_id) is None
    delete = received(sandbox, FANPAGE["external_id"])[-1]
    assert (delete["method"], delete["path"], delete["status"]) == ("DELETE", f"/v19.0/{result.external_id}", 200)
    assert adapter.retract(FANPAGE, result.external_id) is None  # already gone: the take-down holds


def test_zalo_group_message_wire_format_and_no_retract(sandbox):
    adapter = adapter_for("zalo_oa_group")
    result = adapter.send(ZALO_GROUP, {"text": TEXT})
    assert result.external_id and result.raw["error"] == 0

    [request] = received(sandbox, ZALO_GROUP["external_id"])
    assert request["path"] == "/v3.0/oa/group/message"
    assert request["body"] == {"recipient": {"group_id": ZALO_GROUP["external_id"]}, "message": {"text": TEXT}}
    with pytest.raises(NoRetractApi):
        adapter.retract(ZALO_GROUP, result.external_id)


def test_youtube_resumable_upload_in_two_steps_and_delete(sandbox):
    adapter = adapter_for("youtube_channel")
    video = {"filename": "canh-bao.mp4", "content_type": "video/mp4", "data": b"\x00\x00\x00\x18ftypmp42" * 1000}
    result = adapter.send(YOUTUBE, {"title": "Cảnh báo lừa đảo", "text": TEXT, "video": video})

    start, upload = received(sandbox, "youtube")
    assert (start["method"], start["path"]) == ("POST", "/upload/youtube/v3/videos")
    assert start["query"] == {"uploadType": "resumable", "part": "snippet,status"}
    assert start["body"] == {"snippet": {"title": "Cảnh báo lừa đảo", "description": TEXT},
                             "status": {"privacyStatus": "public"}}
    assert start["headers"]["x-upload-content-length"] == str(len(video["data"]))
    assert upload["method"] == "PUT" and upload["body"]["bytes"] == len(video["data"])
    assert upload["body"]["content_type"] == "video/mp4"

    assert adapter.retract(YOUTUBE, result.external_id) is None
    assert received(sandbox, "youtube")[-1]["status"] == 204


def test_youtube_post_without_a_video_is_permanent(sandbox):
    error = send_error(adapter_for("youtube_channel"), YOUTUBE, {"text": TEXT})
    assert error.error_class == "permanent"
    assert received(sandbox) == []


def test_webhook_is_signed_like_standard_webhooks(sandbox):
    channel = webhook_channel(sandbox)
    event = envelope()
    result = adapter_for("webhook").send(channel, {"envelope": event})
    assert result.external_id == event["id"]

    [request] = received(sandbox, "so-tu-phap")
    headers, raw = request["headers"], request["body"]["raw"]
    assert headers["webhook-id"] == event["id"]  # partners de-duplicate on it
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert json.loads(raw) == event
    assert verify_signature(WEBHOOK_SECRET, headers, raw.encode("utf-8"))
    assert not verify_signature("whsec_" + base64.b64encode(b"someone-else").decode(), headers, raw)
    assert not verify_signature(WEBHOOK_SECRET, headers, raw.replace("p-1", "p-2"))
    assert not verify_signature(WEBHOOK_SECRET, headers, raw, now=time.time() + 3600)  # replayed later
    with pytest.raises(NoRetractApi):
        adapter_for("webhook").retract(channel, result.external_id)


def test_webhook_secret_without_prefix_is_used_as_utf8(sandbox, monkeypatch):
    monkeypatch.setenv("PARTNER_WEBHOOK_SECRET", "bí-mật-đối-tác")
    adapter_for("webhook").send(webhook_channel(sandbox), {"envelope": envelope()})
    [request] = received(sandbox, "so-tu-phap")
    assert verify_signature("bí-mật-đối-tác", request["headers"], request["body"]["raw"])


def test_email_has_text_and_html_parts_with_vietnamese_intact(sandbox):
    adapter = adapter_for("email")
    adapter.send(EMAIL, {"subject": "Thông báo khẩn – Công an phường", "text": TEXT,
                         "html": f"<p><strong>{TEXT}</strong></p>"})
    [mail] = received(sandbox, EMAIL["external_id"])
    body = mail["body"]
    assert body["content_type"] == "multipart/alternative"
    assert body["parts"] == ["text/plain", "text/html"]
    assert body["subject"] == "Thông báo khẩn – Công an phường"
    assert TEXT in body["text"] and TEXT in body["html"]
    assert body["from"] == "binhyen@localhost" and body["to"] == EMAIL["external_id"]
    with pytest.raises(NoRetractApi):
        adapter.retract(EMAIL, "x")


def test_email_without_html_gets_one_made_from_the_text(sandbox):
    adapter_for("email").send(EMAIL, {"text": "Dòng 1 <b>\nDòng 2"})
    body = received(sandbox, EMAIL["external_id"])[0]["body"]
    assert "Dòng 1 &lt;b&gt;<br>" in body["html"]


def test_manual_relay_asks_for_a_relay_task_and_a_manual_takedown(sandbox):
    adapter = adapter_for_channel(MANUAL)
    result = adapter.send(MANUAL, {"text": TEXT})
    assert result.relay_required and result.external_id is None
    assert result.raw["relay_officer_id"] == "canbo.dong-thanh"
    with pytest.raises(NoRetractApi):
        adapter.retract(MANUAL, None)
    assert received(sandbox) == []  # no API was called


def test_every_registry_channel_type_has_an_adapter():
    from services.groups.domain import CHANNEL_TYPES
    assert set(CHANNEL_TYPES) <= set(ADAPTERS)


# --- failures and their classes -----------------------------------------------------------------

def test_transient_503_is_retry_and_a_scripted_sequence_recovers(sandbox):
    adapter = adapter_for("facebook_page")
    configure(sandbox, {"channel": FANPAGE["external_id"], "sequence": [{"status": 503}, {"status": 503}, "ok"]})
    for _ in range(2):
        assert send_error(adapter, FANPAGE, {"text": TEXT}).error_class == "retry"
    assert adapter.send(FANPAGE, {"text": TEXT}).external_id
    assert [r["status"] for r in received(sandbox, FANPAGE["external_id"])] == [503, 503, 200]


def test_graph_190_expired_token_is_reauthorize(sandbox):
    configure(sandbox, {"expired_tokens": [TOKEN]})
    error = send_error(adapter_for("facebook_page"), FANPAGE, {"text": TEXT})
    assert error.error_class == "reauthorize" and error.platform_code == 190
    assert "Session has expired" in error.message


def test_graph_rate_limit_code_4_is_retry(sandbox):
    configure(sandbox, {"channel": "*", "rate_limit": 2})
    adapter = adapter_for("facebook_page")
    adapter.send(FANPAGE, {"text": TEXT})
    adapter.send(FANPAGE, {"text": TEXT})
    error = send_error(adapter, FANPAGE, {"text": TEXT})
    assert (error.error_class, error.platform_code) == ("retry", 4)


def test_graph_content_error_is_permanent(sandbox):
    configure(sandbox, {"channel": FANPAGE["external_id"], "error": {"code": 506, "message": "Duplicate status message"}})
    error = send_error(adapter_for("facebook_page"), FANPAGE, {"text": TEXT})
    assert (error.error_class, error.message) == ("permanent", "Duplicate status message")


def test_zalo_error_with_http_200_keeps_the_platform_message(sandbox):
    message = "Tham số không hợp lệ: group_id không tồn tại"
    configure(sandbox, {"channel": ZALO_GROUP["external_id"], "error": {"code": -201, "message": message}})
    error = send_error(adapter_for("zalo_oa_group"), ZALO_GROUP, {"text": TEXT})
    assert (error.error_class, error.platform_code, error.message) == ("permanent", -201, message)
    assert received(sandbox, ZALO_GROUP["external_id"])[0]["status"] == 200


@pytest.mark.parametrize("code, expected", [(-32, "retry"), (-216, "reauthorize"), (-124, "reauthorize")])
def test_zalo_codes_map_through_the_table(sandbox, code, expected):
    configure(sandbox, {"channel": "*", "error": {"code": code}})
    assert send_error(adapter_for("zalo_oa_group"), ZALO_GROUP, {"text": TEXT}).error_class == expected


def test_zalo_expired_token_is_reauthorize(sandbox):
    configure(sandbox, {"expired_tokens": [TOKEN]})
    error = send_error(adapter_for("zalo_oa_group"), ZALO_GROUP, {"text": TEXT})
    assert (error.error_class, error.platform_code) == ("reauthorize", -216)


def test_429_with_retry_after_is_retry_with_the_delay(sandbox):
    configure(sandbox, {"channel": "so-tu-phap", "error": {"status": 429, "retry_after": 7}})
    error = send_error(adapter_for("webhook"), webhook_channel(sandbox), {"envelope": envelope()})
    assert (error.error_class, error.retry_after) == ("retry", 7)


def test_webhook_gone_is_permanent(sandbox):
    configure(sandbox, {"channel": "so-tu-phap", "error": {"status": 410}})
    error = send_error(adapter_for("webhook"), webhook_channel(sandbox), {"envelope": envelope()})
    assert error.error_class == "permanent"


def test_youtube_quota_is_retry_and_expired_token_reauthorize(sandbox):
    video = {"filename": "a.mp4", "content_type": "video/mp4", "data": b"x" * 10}
    configure(sandbox, {"channel": "youtube", "sequence": [{"code": "quotaExceeded"}]})
    error = send_error(adapter_for("youtube_channel"), YOUTUBE, {"text": TEXT, "video": video})
    assert (error.error_class, error.platform_code) == ("retry", "quotaExceeded")
    configure(sandbox, {"expired_tokens": [TOKEN]})
    error = send_error(adapter_for("youtube_channel"), YOUTUBE, {"text": TEXT, "video": video})
    assert error.error_class == "reauthorize"


@pytest.mark.parametrize("code, expected", [(451, "retry"), (550, "permanent")])
def test_smtp_refusals(sandbox, code, expected):
    configure(sandbox, {"channel": EMAIL["external_id"], "error": {"status": code}})
    error = send_error(adapter_for("email"), EMAIL, {"text": TEXT})
    assert (error.error_class, error.platform_code) == (expected, code)


def test_timeout_is_retry(sandbox, monkeypatch):
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "0.2")
    settings_from_environment()
    configure(sandbox, {"channel": ZALO_GROUP["external_id"], "latency_ms": 1000})
    error = send_error(adapter_for("zalo_oa_group"), ZALO_GROUP, {"text": TEXT})
    assert (error.error_class, error.platform_code) == ("retry", "timeout")


def test_unreachable_platform_is_retry_and_the_token_is_not_in_the_message(sandbox, monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    monkeypatch.setenv("FACEBOOK_GRAPH_URL", f"http://127.0.0.1:{closed_port}")
    settings_from_environment()
    error = send_error(adapter_for("facebook_page"), FANPAGE, {"text": TEXT})
    assert error.error_class == "retry"
    with pytest.raises(DeliveryError) as caught:
        adapter_for("facebook_page").retract(FANPAGE, "100000000000000_1")  # token in the query string
    assert caught.value.error_class == "retry" and TOKEN not in caught.value.message


def test_missing_credential_is_reauthorize(sandbox, monkeypatch):
    monkeypatch.delenv("ZALO_OA_TOKEN")
    error = send_error(adapter_for("zalo_oa_group"), ZALO_GROUP, {"text": TEXT})
    assert error.error_class == "reauthorize" and "ZALO_OA_TOKEN" in error.message
    monkeypatch.delenv("PARTNER_WEBHOOK_SECRET")
    assert send_error(adapter_for("webhook"), webhook_channel(sandbox),
                      {"envelope": envelope()}).error_class == "reauthorize"
    assert received(sandbox) == []


def test_a_token_pasted_as_credentials_ref_is_refused_and_not_echoed(sandbox):
    channel = dict(FANPAGE, credentials_ref="EAAB-a-real-looking-token")
    error = send_error(adapter_for("facebook_page"), channel, {"text": TEXT})
    assert error.error_class == "reauthorize" and "EAAB-a-real-looking-token" not in error.message


def test_credential_from_a_file(sandbox, tmp_path):
    secret = tmp_path / "page-token"
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    assert adapter_for("facebook_page").send(dict(FANPAGE, credentials_ref=f"file:{secret}"), {"text": TEXT})


def test_tokens_are_never_recorded(sandbox):
    adapter_for("facebook_page").send(FANPAGE, {"text": TEXT})
    adapter_for("zalo_oa_group").send(ZALO_GROUP, {"text": TEXT})
    adapter_for("youtube_channel").send(YOUTUBE, {"text": TEXT, "video": {"content_type": "video/mp4",
                                                                          "data": b"x"}})
    dump = json.dumps(received(sandbox))
    assert TOKEN not in dump
    assert len(received(sandbox)) == 4


def test_sandbox_page_lists_each_channel(sandbox):
    adapter_for("zalo_oa_group").send(ZALO_GROUP, {"text": TEXT})
    page = requests.get(f"{sandbox.url}/_sandbox/", timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")
    assert ZALO_GROUP["external_id"] in page.text and "Công an TP Ninh Bình" in page.text
    assert requests.post(f"{sandbox.url}/_sandbox/config", json={"channel": "*", "bogus": 1},
                         timeout=5).status_code == 400


def test_failure_rate_fails_a_fraction_with_the_default_503(sandbox):
    configure(sandbox, {"channel": "so-tu-phap", "failure_rate": 0.5})
    outcomes = []
    for n in range(40):
        try:
            adapter_for("webhook").send(webhook_channel(sandbox), {"envelope": envelope(f"e-{n}")})
            outcomes.append("ok")
        except DeliveryError as exc:
            outcomes.append(exc.error_class)
    assert set(outcomes) == {"ok", "retry"}
    assert {r["status"] for r in received(sandbox, "so-tu-phap")} == {200, 503}


def test_zalo_rate_limit_answers_minus_32_with_http_200(sandbox):
    configure(sandbox, {"channel": ZALO_GROUP["external_id"], "rate_limit": 1})
    adapter = adapter_for("zalo_oa_group")
    adapter.send(ZALO_GROUP, {"text": TEXT})
    error = send_error(adapter, ZALO_GROUP, {"text": TEXT})
    assert (error.error_class, error.platform_code) == ("retry", -32)
