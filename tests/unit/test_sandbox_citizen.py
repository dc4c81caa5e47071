"""The sandbox's citizen: the events it builds are what the gateway's webhooks accept, and its
conversations put a citizen's messages and the police's replies together (no broker)."""
import json

import pytest

from gateway.api.webhooks import facebook_signature_ok, zalo_signature_ok
from sandbox.citizen import (Citizens, CitizenError, conversations, facebook_event, read_message,
                             zalo_event)

APP_ID, OA_KEY, FB_SECRET = "4321987650", "oa-secret-key", "fb-app-secret"


def test_zalo_event_is_user_send_text_signed_as_zalo_signs_it():
    raw, headers = zalo_event(APP_ID, OA_KEY, "8412345", "Có trộm ở phường Tân Thành", "msg-1", 1735689600000)
    event = json.loads(raw)
    assert (event["event_name"], event["sender"]["id"], event["message"]) == (
        "user_send_text", "8412345", {"text": "Có trộm ở phường Tân Thành", "msg_id": "msg-1"})
    assert event["app_id"] == APP_ID and event["timestamp"] == "1735689600000"
    signature = headers["X-ZEvent-Signature"]
    assert zalo_signature_ok(signature, APP_ID, raw, event["timestamp"], OA_KEY)
    assert not zalo_signature_ok(signature, APP_ID, raw, event["timestamp"], "another-key")


def test_facebook_event_is_a_page_message_signed_with_the_app_secret():
    raw, headers = facebook_event(FB_SECRET, "6001", "Lừa đảo qua mạng", "m_1", 1735689600000)
    event = json.loads(raw)
    assert event["object"] == "page"
    item, = event["entry"][0]["messaging"]
    assert item["sender"] == {"id": "6001"} and item["message"] == {"mid": "m_1", "text": "Lừa đảo qua mạng"}
    assert facebook_signature_ok(headers["X-Hub-Signature-256"], FB_SECRET, raw)
    assert not facebook_signature_ok(headers["X-Hub-Signature-256"], "other-secret", raw)


@pytest.mark.parametrize("body, problem", [
    ({}, "text"), ({"text": "   "}, "text"), ({"text": 5}, "text"), ({"text": "x" * 2001}, "2000"),
    ({"text": "Có trộm", "sender": "a b"}, "sender"), ({"text": "Có trộm", "sender": 7}, "sender"),
    ({"text": "Có trộm", "extra": 1}, "unknown"), (["Có trộm"], "object"),
])
def test_bad_citizen_messages_are_refused(body, problem):
    with pytest.raises(CitizenError) as caught:
        read_message(body)
    assert caught.value.status == 400 and problem in caught.value.message


def test_a_sandbox_without_the_gateway_url_or_the_secret_says_what_to_set_never_a_value():
    citizens = Citizens(None, {"ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_KEY})
    with pytest.raises(CitizenError) as caught:
        citizens.send("zalo", None, "Có trộm")
    assert caught.value.status == 409 and "SANDBOX_GATEWAY_URL" in caught.value.message
    assert Citizens("http://127.0.0.1:1", {"ZALO_APP_ID": APP_ID}).missing("facebook") == ["FACEBOOK_APP_SECRET"]
    assert APP_ID not in caught.value.message


def test_a_conversation_is_what_the_citizen_sent_and_the_replies_that_reached_them_in_order():
    sent = [{"platform": "zalo", "sender": "84", "text": "Có trộm", "seq": 1, "at": "t1",
             "gateway_status": 200, "tip_codes": ["AB12CD"], "gateway_answer": {}}]
    records = [
        {"platform": "zalo", "channel": "84", "to_user": True, "outcome": "ok", "seq": 2, "at": "t2",
         "body": {"recipient": {"user_id": "84"}, "message": {"text": "Đã tiếp nhận"}}},
        {"platform": "zalo", "channel": "84", "to_user": True, "outcome": "error", "seq": 3, "at": "t3",
         "body": {"recipient": {"user_id": "84"}, "message": {"text": "failed, never reached them"}}},
        {"platform": "zalo", "channel": "group-1", "outcome": "ok", "seq": 4, "at": "t4",   # a group post
         "body": {"recipient": {"group_id": "group-1"}, "message": {"text": "Cảnh báo"}}},
        {"platform": "facebook", "channel": "61", "to_user": True, "outcome": "ok", "seq": 5, "at": "t5",
         "body": {"recipient": {"id": "61"}, "message": {"text": "Cảm ơn bạn"}}},
    ]
    talks = conversations(sent, records)
    assert [(t["platform"], t["sender"]) for t in talks] == [("facebook", "61"), ("zalo", "84")]
    assert [(m["from"], m["text"]) for m in talks[1]["messages"]] == [("citizen", "Có trộm"),
                                                                      ("police", "Đã tiếp nhận")]
    assert [(m["from"], m["text"]) for m in talks[0]["messages"]] == [("police", "Cảm ơn bạn")]
