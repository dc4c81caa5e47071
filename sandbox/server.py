"""The sandbox channel server: plays Facebook Graph, Zalo OpenAPI, YouTube, partner webhooks
and an SMTP server on this machine, records what it receives, and fails on request.

    python -m sandbox.server --port 8900 --smtp-port 2525 [--gateway-url http://127.0.0.1:8000]

Point the notify service at it:
    FACEBOOK_GRAPH_URL=http://127.0.0.1:8900  ZALO_OPENAPI_URL=http://127.0.0.1:8900
    YOUTUBE_API_URL=http://127.0.0.1:8900     SMTP_URL=smtp://127.0.0.1:2525
    webhook channels: http://127.0.0.1:8900/webhooks/<name>

Wire formats (what the adapters in services/notify/adapters speak):
    POST   /{version}/{page_id}/feed                     Graph: form message, link, access_token
    DELETE /{version}/{post_id}?access_token=...         Graph
    POST   /v3.0/oa/group/message                        Zalo: header access_token, JSON body
    POST   /upload/youtube/v3/videos?uploadType=resumable  -> 200 + Location
    PUT    <Location>                                    -> 200 {"id": ...}
    DELETE /youtube/v3/videos?id=...                     -> 204
    POST   /webhooks/<name>                              records, 200
    POST   /v3.0/oa/message/cs                           Zalo OA message to one user (recipient.user_id)
    POST   /{version}/me/messages?access_token=...       Facebook Send API (recipient.id, message.text)
    SMTP   any recipient                                 records the message

Channel keys (what config and /_sandbox/received?channel= name): the page id, the Zalo
group id, "youtube", the webhook name, the e-mail recipient; "*" configures every channel.

Control API (JSON):
    POST /_sandbox/config   {"channel": "123" | "*",          one object or a list of them
                             "latency_ms": 100,               delay before answering
                             "failure_rate": 0.2,             fraction failing with `error` (default HTTP 503 / SMTP 451)
                             "error": {"status": 503} | {"code": 190} | {"code": -32} |
                                      {"status": 429, "retry_after": 3} | {"code": "quotaExceeded"},
                                                              with no failure_rate: every request fails so
                             "sequence": [{"status": 503}, {"status": 503}, "ok"],  scripted, one per request,
                                                              then the other settings apply
                             "rate_limit": 5}                 requests/s per channel -> Graph code 4,
                                                              Zalo -32, HTTP 429 + Retry-After, SMTP 421
                            {"expired_tokens": ["tok"]}       these tokens are refused as expired
                                                              (Graph 190, Zalo -216, Google 401)
                            Posting a channel's config replaces that channel's previous one;
                            a channel's own settings win over "*", field by field.
    POST /_sandbox/reset    forget configs, expired tokens and everything received
    GET  /_sandbox/received?channel=...&platform=...   {"count", "requests": [...]}
    POST /_sandbox/citizen/zalo | /_sandbox/citizen/facebook   {"text": "...", "sender": optional}
                            a citizen writes to the police's Zalo OA or page: the platform's
                            signed event goes to the gateway's webhook (sandbox/citizen.py);
                            200 with the gateway's answer and tip_codes, 502 when it failed,
                            409 when the sandbox lacks the gateway URL or the platform's secret
    POST /_sandbox/citizen  the same from the HTML form (platform=zalo|facebook, text, sender):
                            303 back to the page
    GET  /_sandbox/citizens {"conversations": [{"platform", "sender", "messages": [...]}]}:
                            what each citizen sent and the police's replies (Zalo OA user
                            messages, Messenger Send API) that reached them
    GET  /_sandbox/         an HTML page: the citizens' conversations with a form to write as
                            one, then each channel and what it received
    GET  /_sandbox/health   {"ok": true}

Tokens are accepted unless configured as expired, and never recorded.
"""
import argparse
import collections
import hashlib
import html
import http
import itertools
import json
import random
import re
import sys
import threading
import time
import uuid
import warnings
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402
import eventlet.wsgi  # noqa: E402

from sandbox.citizen import (PLATFORM_NAMES, PLATFORMS, Citizens, CitizenError,  # noqa: E402
                             conversations, read_message)

MAX_RECORDS = 200_000      # kept in memory; the oldest go first
MAX_CITIZEN_MESSAGES = 10_000
TEXT_LIMIT = 64 * 1024     # characters of a text body kept in a record
SECRET_HEADERS = {"authorization", "access_token", "cookie", "proxy-authorization"}
GRAPH_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)(/feed)?/?$")
GRAPH_MESSAGES_PATH = re.compile(r"^/(v\d+\.\d+)/me/messages/?$")


def _now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class ChannelConfig:
    FIELDS = ("latency_ms", "failure_rate", "error", "sequence", "rate_limit")

    def __init__(self, spec):
        unknown = set(spec) - set(self.FIELDS) - {"channel"}
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        self.latency_ms = float(spec["latency_ms"]) if spec.get("latency_ms") is not None else None
        self.failure_rate = spec.get("failure_rate")
        self.error = spec.get("error")
        self.sequence = collections.deque(spec.get("sequence") or [])
        self.rate_limit = spec.get("rate_limit")

    def as_dict(self):
        return {"latency_ms": self.latency_ms, "failure_rate": self.failure_rate, "error": self.error,
                "sequence_left": list(self.sequence), "rate_limit": self.rate_limit}


class SandboxState:
    """Everything the sandbox knows: configs, what it received, what was posted."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.configs = {}
            self.expired_tokens = set()
            self.records = collections.deque(maxlen=MAX_RECORDS)
            self.citizen_messages = collections.deque(maxlen=MAX_CITIZEN_MESSAGES)
            self.buckets = {}            # channel -> (tokens, updated)
            self.posts = {}              # graph post id -> page id
            self.uploads = {}            # upload id -> snippet/status
            self.videos = {}             # video id -> resource
            self.counter = itertools.count(1)

    # --- configuration ---------------------------------------------------------------
    def configure(self, spec):
        """Apply one config object; a channel's settings replace its previous ones, and
        {"channel": "x"} alone clears them."""
        spec = dict(spec)
        expired = spec.pop("expired_tokens", None)
        config = ChannelConfig(spec)  # refuses unknown fields before anything changes
        with self.lock:
            if expired is not None:
                self.expired_tokens = set(expired)
            if "channel" in spec or set(spec) & set(ChannelConfig.FIELDS):
                channel = str(spec.get("channel", "*"))
                self.configs[channel] = config
                if channel == "*":
                    self.buckets.clear()  # a new rate starts with full buckets
                else:
                    self.buckets.pop(channel, None)

    def _setting(self, channel, name):
        for key in (channel, "*"):
            config = self.configs.get(key)
            if config is not None and getattr(config, name) is not None:
                return getattr(config, name)
        return None

    def latency(self, channel):
        return (self._setting(channel, "latency_ms") or 0) / 1000.0

    def decide(self, channel, token, token_required=True):
        """None to answer normally, or what to fail with: a dict error spec, or the strings
        "expired" / "rate_limited"."""
        with self.lock:
            if token_required and (not token or token in self.expired_tokens):
                return "expired"
            rate_limit = self._setting(channel, "rate_limit")
            if rate_limit and not self._take(channel, float(rate_limit)):
                return "rate_limited"
            for key in (channel, "*"):
                config = self.configs.get(key)
                if config is not None and config.sequence:
                    step = config.sequence.popleft()
                    return None if step in ("ok", None, {}) else dict(step)
            error = self._setting(channel, "error")
            rate = self._setting(channel, "failure_rate")
            if rate is not None:
                return dict(error or {}) if random.random() < float(rate) else None
            return dict(error) if error else None

    def _take(self, channel, rate):
        now = time.monotonic()
        tokens, updated = self.buckets.get(channel, (rate, now))
        tokens = min(rate, tokens + (now - updated) * rate)
        if tokens < 1:
            self.buckets[channel] = (tokens, now)
            return False
        self.buckets[channel] = (tokens - 1, now)
        return True

    # --- records ---------------------------------------------------------------------
    def record(self, **fields):
        with self.lock:
            fields["seq"] = next(self.counter)
            fields.setdefault("at", _now_iso())
            self.records.append(fields)
            return fields["seq"]

    def record_citizen(self, message):
        """A message a simulated citizen sent, with the gateway's answer."""
        with self.lock:
            message = dict(message, seq=next(self.counter), at=_now_iso())
            self.citizen_messages.append(message)
            return message

    def conversations(self):
        with self.lock:
            citizen_messages, records = list(self.citizen_messages), list(self.records)
        return conversations(citizen_messages, records)

    def received(self, channel=None, platform=None):
        with self.lock:
            return [r for r in self.records
                    if (channel is None or r.get("channel") == channel)
                    and (platform is None or r.get("platform") == platform)]

    def next_id(self):
        with self.lock:
            return next(self.counter)


# --- how each platform says "no" ------------------------------------------------------------

GRAPH_CODE_FOR_STATUS = {500: 1, 502: 2, 503: 2, 504: 2, 429: 4, 401: 190}
GOOGLE_REASON_FOR_STATUS = {401: "authError", 403: "forbidden", 404: "videoNotFound", 429: "rateLimitExceeded"}
GOOGLE_STATUS_FOR_REASON = {"authError": 401, "quotaExceeded": 403, "rateLimitExceeded": 403,
                            "userRateLimitExceeded": 403, "forbidden": 403, "backendError": 503,
                            "videoNotFound": 404}
EXPIRED = {
    "graph": {"status": 400, "code": 190, "subcode": 463,
              "message": "Error validating access token: Session has expired."},
    "zalo": {"code": -216, "message": "Access token is invalid"},
    "google": {"status": 401, "code": "authError", "message": "Request had invalid authentication credentials."},
    "plain": {"status": 401, "message": "Unauthorized"},
}
RATE_LIMITED = {
    "graph": {"status": 400, "code": 4, "message": "(#4) Application request limit reached"},
    "zalo": {"code": -32, "message": "Request exceeds the rate limit, retry later"},
    "google": {"status": 429, "code": "rateLimitExceeded", "retry_after": 1, "message": "Rate limit exceeded"},
    "plain": {"status": 429, "retry_after": 1, "message": "Too Many Requests"},
}
DEFAULT_FAILURE = {"status": 503, "message": "Service temporarily unavailable (sandbox)"}


def error_response(dialect, spec):
    status, headers, body = render_error(dialect, spec)
    return Response(status, body, headers)


def _headers_with_retry(spec):
    return [("Retry-After", str(spec["retry_after"]))] if spec.get("retry_after") is not None else []


def render_error(dialect, spec):
    """(status, headers, body) of a failure `spec` in a platform's own format."""
    spec = spec if isinstance(spec, dict) and spec else dict(DEFAULT_FAILURE)
    if not spec.get("status") and not spec.get("code"):
        spec = dict(DEFAULT_FAILURE, **spec)
    headers = _headers_with_retry(spec)
    if dialect == "graph":
        status = spec.get("status") or 400
        code = spec.get("code") if spec.get("code") is not None else GRAPH_CODE_FOR_STATUS.get(
            status, 2 if status >= 500 else 100)
        error = {"message": spec.get("message") or f"(#{code}) sandbox error", "type": "OAuthException",
                 "code": code, "fbtrace_id": uuid.uuid4().hex[:11]}
        if spec.get("subcode") is not None:
            error["error_subcode"] = spec["subcode"]
        return status, headers, {"error": error}
    if dialect == "zalo":
        status = spec.get("status") or 200
        if spec.get("code") is None and status != 200:
            return status, headers, spec.get("message") or http.HTTPStatus(status).phrase  # a proxy's page
        return status, headers, {"error": spec.get("code", -100), "message": spec.get("message") or "Sandbox error"}
    if dialect == "google":
        reason = spec.get("code")
        status = spec.get("status") or GOOGLE_STATUS_FOR_REASON.get(reason, 400)
        reason = reason or GOOGLE_REASON_FOR_STATUS.get(status, "backendError" if status >= 500 else "badRequest")
        message = spec.get("message") or reason
        return status, headers, {"error": {"code": status, "message": message,
                                           "errors": [{"reason": reason, "message": message,
                                                       "domain": "youtube.video"}]}}
    status = spec.get("status") or 503
    return status, headers, {"error": spec.get("message") or http.HTTPStatus(status).phrase}


# --- the WSGI application ---------------------------------------------------------------------

class SandboxProtocol(eventlet.wsgi.HttpProtocol):
    """Also hands the application the headers as sent: WSGI drops names with underscores,
    and Zalo's token header is `access_token`."""

    def get_environ(self):
        environ = super().get_environ()
        environ["sandbox.headers"] = {k.lower(): v for k, v in self.headers.items()}
        return environ


class Request:
    def __init__(self, environ):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"]
        self.path = environ.get("PATH_INFO") or "/"
        self.query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.headers = environ["sandbox.headers"]
        length = environ.get("CONTENT_LENGTH")
        stream = environ["wsgi.input"]
        self.body = stream.read(int(length)) if length else stream.read() if self.method in ("POST", "PUT") else b""

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            return None

    def form(self):
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    def bearer(self):
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def safe_headers(self):
        return {k: v for k, v in self.headers.items() if k not in SECRET_HEADERS}

    def safe_query(self):
        return {k: v for k, v in self.query.items() if k != "access_token"}

    def base_url(self):
        host = self.headers.get("host") or f"{self.environ['SERVER_NAME']}:{self.environ['SERVER_PORT']}"
        return f"{self.environ.get('wsgi.url_scheme', 'http')}://{host}"


class Response:
    def __init__(self, status, body=b"", headers=(), content_type="application/json; charset=utf-8"):
        self.status = status
        self.headers = list(headers)
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
            if content_type.startswith("application/json"):
                content_type = "text/plain; charset=utf-8"
        self.body = body
        if body or status != 204:
            self.headers.append(("Content-Type", content_type))


class SandboxApp:
    def __init__(self, state=None, citizens=None):
        self.state = state or SandboxState()
        self.citizens = citizens or Citizens.from_environment()

    def __call__(self, environ, start_response):
        try:
            response = self.route(Request(environ))
        except Exception as exc:  # a bug here must answer, not hang the client
            response = Response(500, {"error": f"sandbox bug: {type(exc).__name__}: {exc}"})
        start_response(f"{response.status} {http.HTTPStatus(response.status).phrase}",
                       response.headers + [("Content-Length", str(len(response.body)))])
        return [response.body]

    def route(self, req):
        path, method = req.path, req.method
        if path.startswith("/_sandbox"):
            return self.control(req)
        if path.startswith("/webhooks/") and method == "POST":
            return self.webhook(req, path[len("/webhooks/"):])
        if path == "/v3.0/oa/group/message" and method == "POST":
            return self.zalo_group_message(req)
        if path == "/v3.0/oa/message/cs" and method == "POST":
            return self.zalo_user_message(req)
        if GRAPH_MESSAGES_PATH.match(path) and method == "POST":
            return self.graph_send_message(req)
        if path.rstrip("/") == "/upload/youtube/v3/videos":
            if method == "POST":
                return self.youtube_start_upload(req)
            if method == "PUT":
                return self.youtube_upload(req)
        if path.rstrip("/") == "/youtube/v3/videos" and method == "DELETE":
            return self.youtube_delete(req)
        match = GRAPH_PATH.match(path)
        if match and method == "POST" and match.group(3):
            return self.graph_feed(req, match.group(2))
        if match and method == "DELETE" and not match.group(3):
            return self.graph_delete(req, match.group(2))
        return Response(404, {"error": f"sandbox: no route for {method} {path}"})

    # --- shared path of every platform call ---------------------------------------------
    def platform_call(self, req, platform, dialect, channel, token, body_summary, succeed,
                      token_required=True, to_user=False):
        """Wait the configured latency, decide, answer; record the request with its outcome
        (`to_user`: a message to one citizen, part of their conversation)."""
        delay = self.state.latency(channel)
        if delay:
            eventlet.sleep(delay)
        verdict = self.state.decide(channel, token, token_required)
        if verdict is None:
            response, outcome = succeed(), "ok"
        else:
            spec = {"expired": EXPIRED, "rate_limited": RATE_LIMITED}.get(verdict, {}).get(dialect, verdict) \
                if isinstance(verdict, str) else verdict
            response = error_response(dialect, spec)
            outcome = verdict if isinstance(verdict, str) else "error"
        self.state.record(platform=platform, method=req.method, path=req.path, query=req.safe_query(),
                          channel=channel, headers=req.safe_headers(), body=body_summary,
                          status=response.status, outcome=outcome, **({"to_user": True} if to_user else {}))
        return response

    # --- Facebook Graph ------------------------------------------------------------------------
    def graph_feed(self, req, page_id):
        form = req.form()
        token = form.pop("access_token", None) or req.query.get("access_token") or req.bearer()

        def succeed():
            if not form.get("message") and not form.get("link"):
                return error_response("graph", {"code": 100,
                                                "message": "(#100) Either message or link must be provided"})
            post_id = f"{page_id}_{self.state.next_id()}"
            with self.state.lock:
                self.state.posts[post_id] = page_id
            return Response(200, {"id": post_id})

        return self.platform_call(req, "facebook", "graph", page_id, token, form, succeed)

    def graph_delete(self, req, post_id):
        token = req.query.get("access_token") or req.form().get("access_token") or req.bearer()
        page_id = post_id.split("_", 1)[0]

        def succeed():
            with self.state.lock:
                known = self.state.posts.pop(post_id, None)
            if known is None:
                return error_response("graph", {"code": 100, "subcode": 33, "message":
                                      f"Unsupported delete request. Object with ID '{post_id}' does not exist"})
            return Response(200, {"success": True})

        return self.platform_call(req, "facebook", "graph", page_id, token, {"post_id": post_id}, succeed)

    # --- Zalo OA -------------------------------------------------------------------------------
    def zalo_group_message(self, req):
        body = req.json()
        group_id = ((body or {}).get("recipient") or {}).get("group_id") if isinstance(body, dict) else None
        text = ((body or {}).get("message") or {}).get("text") if isinstance(body, dict) else None

        def succeed():
            if not group_id or not text:
                return Response(200, {"error": -201, "message": "Invalid parameters: recipient.group_id and "
                                                                "message.text are required"})
            return Response(200, {"error": 0, "message": "Success",
                                  "data": {"message_id": uuid.uuid4().hex, "group_id": group_id}})

        summary = body if body is not None else req.body.decode("utf-8", "replace")[:TEXT_LIMIT]
        return self.platform_call(req, "zalo", "zalo", group_id or "?", req.headers.get("access_token"),
                                  summary, succeed)

    def zalo_user_message(self, req):
        """Zalo OA consultation message to one user (a tipster who wrote to the OA)."""
        body = req.json()
        user_id = ((body or {}).get("recipient") or {}).get("user_id") if isinstance(body, dict) else None
        text = ((body or {}).get("message") or {}).get("text") if isinstance(body, dict) else None

        def succeed():
            if not user_id or not text:
                return Response(200, {"error": -201, "message": "Invalid parameters: recipient.user_id and "
                                                                "message.text are required"})
            return Response(200, {"error": 0, "message": "Success",
                                  "data": {"message_id": uuid.uuid4().hex, "user_id": user_id}})

        summary = body if body is not None else req.body.decode("utf-8", "replace")[:TEXT_LIMIT]
        return self.platform_call(req, "zalo", "zalo", user_id or "?", req.headers.get("access_token"),
                                  summary, succeed, to_user=True)

    # --- Facebook Send API (Messenger) ------------------------------------------------------------
    def graph_send_message(self, req):
        body = req.json()
        recipient = ((body or {}).get("recipient") or {}).get("id") if isinstance(body, dict) else None
        text = ((body or {}).get("message") or {}).get("text") if isinstance(body, dict) else None
        token = req.query.get("access_token") or req.bearer()

        def succeed():
            if not recipient or not text:
                return error_response("graph", {"code": 100, "message": "(#100) recipient.id and message.text "
                                                                        "are required"})
            return Response(200, {"recipient_id": recipient, "message_id": f"m_{uuid.uuid4().hex}"})

        return self.platform_call(req, "facebook", "graph", recipient or "?", token, body, succeed, to_user=True)

    # --- YouTube -------------------------------------------------------------------------------
    def youtube_start_upload(self, req):
        metadata = req.json()

        def succeed():
            if req.query.get("uploadType") != "resumable" or not isinstance(metadata, dict) \
                    or not (metadata.get("snippet") or {}).get("title"):
                return error_response("google", {"status": 400, "code": "invalidTitle",
                                                 "message": "A resumable upload needs snippet.title"})
            upload_id = uuid.uuid4().hex
            with self.state.lock:
                self.state.uploads[upload_id] = metadata
            location = f"{req.base_url()}/upload/youtube/v3/videos?" + urlencode(
                {"uploadType": "resumable", "upload_id": upload_id})
            return Response(200, b"", [("Location", location)])

        return self.platform_call(req, "youtube", "google", "youtube", req.bearer(), metadata, succeed)

    def youtube_upload(self, req):
        upload_id = req.query.get("upload_id")
        summary = {"upload_id": upload_id, "bytes": len(req.body), "content_type": req.headers.get("content-type"),
                   "sha256": hashlib.sha256(req.body).hexdigest()}

        def succeed():
            with self.state.lock:
                metadata = self.state.uploads.pop(upload_id, None)
            if metadata is None:
                return error_response("google", {"status": 404, "code": "notFound",
                                                 "message": "No such upload session"})
            video_id = uuid.uuid4().hex[:11]
            resource = {"kind": "youtube#video", "id": video_id, "snippet": metadata.get("snippet"),
                        "status": dict(metadata.get("status") or {}, uploadStatus="uploaded")}
            with self.state.lock:
                self.state.videos[video_id] = resource
            return Response(200, resource)

        # The upload session URL is the credential of the second step.
        return self.platform_call(req, "youtube", "google", "youtube", None, summary, succeed,
                                  token_required=False)

    def youtube_delete(self, req):
        video_id = req.query.get("id")

        def succeed():
            with self.state.lock:
                known = self.state.videos.pop(video_id, None)
            if known is None:
                return error_response("google", {"status": 404, "code": "videoNotFound",
                                                 "message": "Video not found"})
            return Response(204, b"")

        return self.platform_call(req, "youtube", "google", "youtube", req.bearer(), {"id": video_id}, succeed)

    # --- partner webhooks --------------------------------------------------------------------
    def webhook(self, req, name):
        text = req.body.decode("utf-8", "replace")
        summary = {"raw": text[:TEXT_LIMIT], "json": req.json()}
        return self.platform_call(req, "webhook", "plain", name, None, summary,
                                  lambda: Response(200, {"received": True}), token_required=False)

    # --- control -------------------------------------------------------------------------------
    def control(self, req):
        path = req.path.rstrip("/")
        if path == "/_sandbox/config" and req.method == "POST":
            specs = req.json()
            specs = specs if isinstance(specs, list) else [specs]
            try:
                for spec in specs:
                    if not isinstance(spec, dict):
                        raise ValueError("each config must be a JSON object")
                    self.state.configure(dict(spec))
            except (ValueError, TypeError) as exc:
                return Response(400, {"error": str(exc)})
            return Response(200, self.config_summary())
        if path == "/_sandbox/config" and req.method == "GET":
            return Response(200, self.config_summary())
        if path == "/_sandbox/reset" and req.method == "POST":
            self.state.reset()
            return Response(200, {"reset": True})
        if path == "/_sandbox/received" and req.method == "GET":
            records = self.state.received(req.query.get("channel"), req.query.get("platform"))
            return Response(200, {"count": len(records), "requests": records})
        if path == "/_sandbox/citizen" or path.startswith("/_sandbox/citizen/"):
            if req.method != "POST":
                return Response(405, {"error": "POST a message"}, [("Allow", "POST")])
            return self.citizen_writes(req, path[len("/_sandbox/citizen/"):] or None)
        if path == "/_sandbox/citizens" and req.method == "GET":
            return Response(200, {"conversations": self.state.conversations()})
        if path == "/_sandbox/health":
            return Response(200, {"ok": True})
        if path == "/_sandbox" and req.method == "GET":
            return Response(200, self.html_page(), content_type="text/html; charset=utf-8")
        return Response(404, {"error": f"sandbox: no control route {req.method} {req.path}"})

    def citizen_writes(self, req, platform):
        """A simulated citizen's message to the gateway's webhook, from JSON or the page's form."""
        from_form = req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        body = req.form() if from_form else req.json()
        try:
            if platform is None:
                platform = body.pop("platform", None) if isinstance(body, dict) else None
            sender, text = read_message(body)
            message = self.state.record_citizen(self.citizens.send(platform, sender, text))
        except CitizenError as exc:
            if from_form:
                page = (f"<!doctype html><html lang='vi'><meta charset='utf-8'><title>Sandbox</title><body>"
                        f"<p>Không gửi được / not sent: {html.escape(exc.message)}</p>"
                        f"<p><a href='/_sandbox/#citizens'>Quay lại / back</a></p></body></html>")
                return Response(exc.status, page, content_type="text/html; charset=utf-8")
            return Response(exc.status, {"error": exc.message})
        if from_form:
            return Response(303, b"", [("Location", "/_sandbox/#citizens")])
        return Response(200 if 200 <= message["gateway_status"] < 300 else 502, message)

    def config_summary(self):
        with self.state.lock:
            return {"channels": {k: v.as_dict() for k, v in self.state.configs.items()},
                    "expired_tokens": len(self.state.expired_tokens)}

    def html_page(self):
        by_channel = collections.OrderedDict()
        for record in self.state.received():
            by_channel.setdefault((record["platform"], record["channel"]), []).append(record)
        rows = []
        for (platform, channel), records in sorted(by_channel.items()):
            ok = sum(1 for r in records if r["outcome"] == "ok")
            items = "".join(
                f"<li><code>{html.escape(r['at'])} {r['method']} {html.escape(r['path'])} → {r['status']}"
                f" ({html.escape(r['outcome'])})</code><br><small>{html.escape(_summary_text(r['body']))}</small></li>"
                for r in records[-20:])
            rows.append(f"<h2>{html.escape(platform)} · {html.escape(str(channel))}</h2>"
                        f"<p>{len(records)} yêu cầu / requests, {ok} thành công / ok</p><ol>{items}</ol>")
        body = "".join(rows) or "<p>Chưa nhận gì / nothing received yet.</p>"
        return ("<!doctype html><html lang='vi'><meta charset='utf-8'><title>Bình Yên sandbox</title>"
                "<body><h1>Sandbox kênh / channel sandbox</h1>" + self.citizens_html() +
                "<h2>Kênh / channels</h2>" + body + "</body></html>")

    def citizens_html(self):
        """The form to write as a citizen (no JavaScript) and each citizen's conversation."""
        notes = "".join(
            f"<p><strong>{html.escape(PLATFORM_NAMES[platform])}</strong>: chưa thiết lập / not set up "
            f"({html.escape(', '.join(missing))})</p>"
            for platform in PLATFORMS for missing in [self.citizens.missing(platform)] if missing)
        buttons = "".join(f"<button type='submit' name='platform' value='{platform}'>Gửi qua / send on "
                          f"{html.escape(PLATFORM_NAMES[platform])}</button> " for platform in PLATFORMS)
        form = ("<form method='post' action='/_sandbox/citizen'>"
                "<p><label>Tin nhắn / message<br><textarea name='text' required rows='3' cols='70' "
                "maxlength='2000' placeholder='Có người lạ trộm xe máy ở phường Tân Thành / a stranger is "
                "stealing motorbikes in Tân Thành ward'></textarea></label></p>"
                "<p><label>Mã người gửi / sender id (tuỳ chọn / optional) <input name='sender' maxlength='64'>"
                "</label></p><p>" + buttons + "</p></form>")
        talks = []
        for talk in self.state.conversations():
            items = "".join(_conversation_item(m) for m in talk["messages"][-50:])
            talks.append(f"<h3>{html.escape(PLATFORM_NAMES.get(talk['platform'], talk['platform']))} · "
                         f"{html.escape(talk['sender'])}</h3><ol>{items}</ol>")
        return ("<section id='citizens'><h2>Người dân nhắn tin / citizens writing on Zalo and Messenger</h2>"
                + notes + form + ("".join(talks) or "<p>Chưa có hội thoại / no conversation yet.</p>")
                + "</section>")


def _conversation_item(message):
    """One line of a citizen's conversation: their message with the gateway's answer, or a reply."""
    when = f"<small>{html.escape(message['at'])}</small>"
    if message["from"] == "police":
        return f"<li><strong>Công an / police</strong> {when}{_message_text(message['text'])}</li>"
    status, answer = message["gateway_status"], message["gateway_answer"]
    if 200 <= status < 300 and message["tip_codes"]:
        outcome = "mã tin báo / tip code " + ", ".join(message["tip_codes"])
    elif 200 <= status < 300:
        outcome = "không thành tin báo / not a tip (ignored)"
    else:
        outcome = answer.get("detail") or answer.get("title") if isinstance(answer, dict) else answer
        outcome = f"lỗi / error: {outcome}"
    return (f"<li><strong>Người dân / citizen</strong> {when}{_message_text(message['text'])}"
            f"<small>→ {status}: {html.escape(_summary_text(outcome))}</small></li>")


def _message_text(text):
    return f"<div style='white-space: pre-line'>{html.escape(text)}</div>"  # replies are several lines


def _summary_text(body, limit=300):
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


# --- running it -------------------------------------------------------------------------------

def serve(http_sock, state, smtp_sock=None, pool_size=4000, citizens=None):
    """Serve HTTP (and SMTP) on already-bound green sockets until killed."""
    from sandbox.smtp import serve_smtp
    threads = []
    if smtp_sock is not None:
        threads.append(eventlet.spawn(serve_smtp, smtp_sock, state))
    try:
        eventlet.wsgi.server(http_sock, SandboxApp(state, citizens), custom_pool=eventlet.GreenPool(pool_size),
                             protocol=SandboxProtocol, log_output=False, keepalive=True, socket_timeout=60)
    finally:
        for thread in threads:
            thread.kill()


class SandboxHandle:
    """A sandbox running in this process: `.url`, `.smtp_url`, `.state`, `.stop()`."""

    def __init__(self, url, smtp_port, state, stop_event, thread):
        self.url, self.smtp_port, self.state = url, smtp_port, state
        self.smtp_url = f"smtp://127.0.0.1:{smtp_port}" if smtp_port else None
        self._stop_event, self._thread = stop_event, thread

    def stop(self, timeout=5):
        self._stop_event.set()
        self._thread.join(timeout)


def run_in_thread(port=0, smtp_port=0, host="127.0.0.1", gateway_url=None):
    """Start a sandbox in this process (a green thread when eventlet patched threading, as
    in the test suite). Returns (base_url, handle); port 0 picks a free port; smtp_port=None
    runs no SMTP sink; gateway_url (and the platform secrets in the environment) let it play
    citizens writing to the gateway's webhooks."""
    http_sock = eventlet.listen((host, port), backlog=1024)
    smtp_sock = eventlet.listen((host, smtp_port), backlog=1024) if smtp_port is not None else None
    state = SandboxState()
    citizens = Citizens.from_environment(gateway_url)
    stop_event = threading.Event()

    def run():
        server = eventlet.spawn(serve, http_sock, state, smtp_sock, citizens=citizens)
        # Poll rather than block: in an unpatched process this is a real thread whose own
        # eventlet hub must keep turning to serve requests.
        while not stop_event.is_set():
            eventlet.sleep(0.05)
        server.kill()

    thread = threading.Thread(target=run, name="sandbox", daemon=True)
    thread.start()
    url = f"http://{host}:{http_sock.getsockname()[1]}"
    handle = SandboxHandle(url, smtp_sock.getsockname()[1] if smtp_sock is not None else None,
                           state, stop_event, thread)
    return url, handle


def main(argv=None):
    parser = argparse.ArgumentParser(description="Bình Yên channel sandbox (Graph, Zalo, YouTube, webhooks, SMTP)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--smtp-port", type=int, default=2525, help="SMTP sink port; -1 for none")
    parser.add_argument("--gateway-url", help="the gateway's base URL, where simulated citizens' Zalo and "
                        "Messenger messages are posted (default: SANDBOX_GATEWAY_URL)")
    args = parser.parse_args(argv)
    citizens = Citizens.from_environment(args.gateway_url)
    http_sock = eventlet.listen((args.host, args.port), backlog=4096)
    smtp_sock = eventlet.listen((args.host, args.smtp_port), backlog=1024) if args.smtp_port >= 0 else None
    port = http_sock.getsockname()[1]
    smtp = f" smtp://{args.host}:{smtp_sock.getsockname()[1]}" if smtp_sock is not None else ""
    print(f"sandbox listening on http://{args.host}:{port}{smtp}", flush=True)
    try:
        serve(http_sock, SandboxState(), smtp_sock, citizens=citizens)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    eventlet.monkey_patch()
    sys.exit(main())
