"""Facebook page to one user (a tipster who messaged the page): Send API
`POST /{version}/me/messages?access_token=<page token>` with
`{"recipient": {"id"}, "messaging_type": "RESPONSE", "message": {"text"}}` -> `{"recipient_id", "message_id"}`.

Errors are Graph's `{"error": {...}}`, classified like the fanpage's.
"""
from services.notify.adapters.base import NoRetractApi, SendResult, call, credential, json_or_none, new_session
from services.notify.adapters.facebook_page import FacebookPage, graph_error, graph_url

_session = new_session()
TEXT_MAX = 2000  # the Send API's limit for a text message


class FacebookMessenger(FacebookPage):  # Graph errors, classified like the fanpage's
    channel_type = "facebook_messenger"

    def send(self, channel, message):
        token = credential(channel)
        body = {"recipient": {"id": channel["external_id"]}, "messaging_type": "RESPONSE",
                "message": {"text": (message.get("text") or "")[:TEXT_MAX]}}
        response = call(_session, "POST", graph_url("me/messages"), params={"access_token": token}, json=body)
        answer = json_or_none(response)
        if response.status_code != 200 or graph_error(answer) or not (answer or {}).get("message_id"):
            raise self.classify_error(response)
        return SendResult(external_id=answer["message_id"], raw=answer)

    def retract(self, channel, external_id):
        raise NoRetractApi(self.channel_type)


adapter = FacebookMessenger()
