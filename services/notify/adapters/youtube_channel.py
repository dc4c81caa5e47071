"""YouTube channel: Data API v3 resumable upload, then `DELETE /youtube/v3/videos?id=`.

Two steps: POST the metadata (answer: 200 with the upload session URL in `Location`), then
PUT the bytes to that URL (answer: 200/201 with the video resource). Errors are Google's
`{"error": {"code", "message", "errors": [{"reason"}]}}`; the reason refines the status.
"""
from services.notify.adapters.base import (ChannelAdapter, DeliveryError, SendResult, call, credential,
                                           http_timeout, json_or_none, new_session, redact, retry_after_of,
                                           settings)
from services.notify.domain import ErrorClass, classify_failure

_session = new_session()

TITLE_MAX = 100           # characters YouTube accepts in a title
DESCRIPTION_MAX = 5000    # bytes YouTube accepts in a description
FORBIDDEN_CHARS = str.maketrans("", "", "<>")  # YouTube rejects titles/descriptions with these


def api_url(path):
    return settings().YOUTUBE_API_URL.rstrip("/") + path


def snippet(message):
    text = (message.get("text") or "").translate(FORBIDDEN_CHARS)
    title = (message.get("title") or text.split("\n", 1)[0] or "Bình Yên").translate(FORBIDDEN_CHARS)
    description = text
    if message.get("link"):
        description = f"{description}\n\n{message['link']}".strip()
    description = description.encode("utf-8")[:DESCRIPTION_MAX].decode("utf-8", "ignore")
    return {"title": title[:TITLE_MAX].strip(), "description": description}


def google_error(response):
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


class YouTubeChannel(ChannelAdapter):
    channel_type = "youtube_channel"

    def send(self, channel, message):
        video = message.get("video")
        if not video or not video.get("data"):
            raise DeliveryError(ErrorClass.PERMANENT, "Bài đăng YouTube cần có video / a YouTube post needs a video")
        token = credential(channel)
        auth = {"Authorization": f"Bearer {token}"}
        content_type = video.get("content_type") or "video/*"
        started = call(_session, "POST", api_url("/upload/youtube/v3/videos"),
                       params={"uploadType": "resumable", "part": "snippet,status"},
                       json={"snippet": snippet(message), "status": {"privacyStatus": "public"}},
                       headers={**auth, "X-Upload-Content-Type": content_type,
                                "X-Upload-Content-Length": str(len(video["data"]))})
        location = started.headers.get("Location")
        if started.status_code != 200 or not location:
            raise self.classify_error(started)
        # The upload may take long: allow the read timeout to grow with the size (1 s per MB).
        timeout = http_timeout() + len(video["data"]) / 1_000_000
        uploaded = call(_session, "PUT", location, data=video["data"],
                        headers={**auth, "Content-Type": content_type}, timeout=timeout)
        body = json_or_none(uploaded)
        if uploaded.status_code not in (200, 201) or not isinstance(body, dict) or not body.get("id"):
            raise self.classify_error(uploaded)
        return SendResult(external_id=body["id"], raw=body)

    def retract(self, channel, external_id):
        token = credential(channel)
        response = call(_session, "DELETE", api_url("/youtube/v3/videos"), params={"id": external_id},
                        headers={"Authorization": f"Bearer {token}"})
        if response.status_code in (200, 204, 404):  # 404: already gone, the take-down holds
            return None
        raise self.classify_error(response)

    def _classify_response(self, response):
        error = google_error(response)
        if error is None:
            return super()._classify_response(response)
        reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
        reason = reasons[0] if reasons else None
        return DeliveryError(classify_failure(response.status_code, "youtube", reason),
                             redact(error.get("message") or f"YouTube HTTP {response.status_code}"),
                             retry_after=retry_after_of(response), platform_code=reason or response.status_code)


adapter = YouTubeChannel()
