"""Facebook fanpage: Graph API `POST /{page-id}/feed`, `DELETE /{post-id}`.

Graph errors are `{"error": {"message", "type", "code", "error_subcode"}}`; the code (not
the HTTP status, which is mostly 400) says what the failure is.
"""
from services.notify.adapters.base import (ChannelAdapter, DeliveryError, SendResult, call, credential,
                                           json_or_none, new_session, redact, retry_after_of, settings)
from services.notify.domain import classify_failure

_session = new_session()

# Graph's "object does not exist" (code 100, subcode 33): a delete of a post that is
# already gone has done its job.
ALREADY_GONE = (100, 33)


def graph_url(path):
    base = settings().FACEBOOK_GRAPH_URL.rstrip("/")
    version = settings().FACEBOOK_GRAPH_VERSION
    return f"{base}/{version}/{path}"


def graph_error(body):
    error = (body or {}).get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


class FacebookPage(ChannelAdapter):
    channel_type = "facebook_page"

    def send(self, channel, message):
        token = credential(channel)
        form = {"message": message.get("text") or "", "access_token": token}
        if message.get("link"):
            form["link"] = message["link"]
        response = call(_session, "POST", graph_url(f"{channel['external_id']}/feed"), data=form)
        body = json_or_none(response)
        if response.status_code != 200 or graph_error(body) or not (body or {}).get("id"):
            raise self.classify_error(response)
        return SendResult(external_id=body["id"], raw=body)

    def retract(self, channel, external_id):
        token = credential(channel)
        response = call(_session, "DELETE", graph_url(external_id), params={"access_token": token})
        if response.status_code == 200 and not graph_error(json_or_none(response)):
            return None
        error = graph_error(json_or_none(response)) or {}
        if (error.get("code"), error.get("error_subcode")) == ALREADY_GONE:
            return None
        raise self.classify_error(response)

    def _classify_response(self, response):
        error = graph_error(json_or_none(response))
        if error is None:
            return super()._classify_response(response)
        code = error.get("code")
        return DeliveryError(classify_failure(response.status_code, "graph", code),
                             redact(error.get("message") or f"Graph error {code}"),
                             retry_after=retry_after_of(response), platform_code=code)


adapter = FacebookPage()
