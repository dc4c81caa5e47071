"""Zalo OA group: `POST /v3.0/oa/group/message` with the OA's token in an `access_token` header.

Zalo reports a failure as HTTP 200 with a non-zero `error` and a `message`; group messages
cannot be deleted through the API.
"""
from services.notify.adapters.base import (ChannelAdapter, DeliveryError, NoRetractApi, SendResult, call,
                                           credential, json_or_none, new_session, redact, retry_after_of, settings)
from services.notify.domain import classify_failure

_session = new_session()


def message_url():
    return settings().ZALO_OPENAPI_URL.rstrip("/") + "/v3.0/oa/group/message"


def zalo_text(message):
    """Zalo group messages carry text only: the link goes on its own line at the end."""
    text = message.get("text") or ""
    if message.get("link") and message["link"] not in text:
        text = f"{text}\n{message['link']}" if text else message["link"]
    return text


class ZaloOaGroup(ChannelAdapter):
    channel_type = "zalo_oa_group"

    def send(self, channel, message):
        token = credential(channel)
        body = {"recipient": {"group_id": channel["external_id"]}, "message": {"text": zalo_text(message)}}
        response = call(_session, "POST", message_url(), json=body, headers={"access_token": token})
        answer = json_or_none(response)
        if response.status_code != 200 or not isinstance(answer, dict) or answer.get("error") != 0:
            raise self.classify_error(response)
        data = answer.get("data") or {}
        return SendResult(external_id=data.get("message_id"), raw=answer)

    def retract(self, channel, external_id):
        raise NoRetractApi(self.channel_type)

    def _classify_response(self, response):
        answer = json_or_none(response)
        code = answer.get("error") if isinstance(answer, dict) else None
        if code in (None, 0):
            return super()._classify_response(response)
        return DeliveryError(classify_failure(response.status_code, "zalo", code),
                             redact(answer.get("message") or f"Zalo error {code}"),
                             retry_after=retry_after_of(response), platform_code=code)


adapter = ZaloOaGroup()
