"""Zalo OA to one user (a tipster who wrote to the OA): consultation message
`POST /v3.0/oa/message/cs`, header `access_token`, `{"recipient": {"user_id"}, "message": {"text"}}`.

Zalo allows these replies within its consultation window after the user's last message;
outside it the API answers with an error code, which the error table classifies.
"""
from services.notify.adapters.base import (NoRetractApi, SendResult, call, credential, json_or_none, new_session,
                                           settings)
from services.notify.adapters.zalo_oa_group import ZaloOaGroup

_session = new_session()


def message_url():
    return settings().ZALO_OPENAPI_URL.rstrip("/") + "/v3.0/oa/message/cs"


class ZaloOaUser(ZaloOaGroup):  # same error format as the group API
    channel_type = "zalo_oa_user"

    def send(self, channel, message):
        token = credential(channel)
        body = {"recipient": {"user_id": channel["external_id"]}, "message": {"text": message.get("text") or ""}}
        response = call(_session, "POST", message_url(), json=body, headers={"access_token": token})
        answer = json_or_none(response)
        if response.status_code != 200 or not isinstance(answer, dict) or answer.get("error") != 0:
            raise self.classify_error(response)
        return SendResult(external_id=(answer.get("data") or {}).get("message_id"), raw=answer)

    def retract(self, channel, external_id):
        raise NoRetractApi(self.channel_type)


adapter = ZaloOaUser()
