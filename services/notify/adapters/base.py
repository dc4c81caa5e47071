"""What every channel adapter is: `send`, `retract`, `classify_error`, and their shared parts.

An adapter never decides what a failure means by itself: it reads the platform's code out
of the answer and asks the error table in `services.notify.domain`.
"""
import re
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter

from contracts.settings import DEFINED, load, read_secret
from services.notify.domain import ErrorClass, classify_failure, parse_retry_after

# credentials_ref names an environment variable or a file, never holds a secret itself.
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
# Anything that may carry a token inside an error text (URLs, headers) is cut out.
_SECRET_IN_TEXT = re.compile(r"(access_token=)[^&\s'\"]+|(Bearer\s+)[^\s'\"]+", re.IGNORECASE)


_settings = None    # the notify process's settings (contracts.settings), given by the engine at start-up
_sessions = []      # every adapter module's Session, re-sized by use_settings


def use_settings(settings):
    """Base URLs, timeouts and pool sizes from now on: the engine calls this once at start-up."""
    global _settings
    _settings = settings
    for session in _sessions:
        _mount(session, settings.HTTP_POOL_SIZE)


def settings():
    """The settings the adapters run with; an adapter used on its own (a test, a tool) reads
    them from the environment the first time."""
    if _settings is None:
        use_settings(load("notify"))
    return _settings


@dataclass
class SendResult:
    external_id: str | None          # the platform's id of what was posted (None: manual relay)
    raw: dict = field(default_factory=dict)  # the platform's answer, for the delivery record
    relay_required: bool = False     # True: an officer must post it by hand (RelayTask)


class DeliveryError(Exception):
    """A send or retract that failed, with its class and the platform's own words."""

    def __init__(self, error_class, message, retry_after=None, platform_code=None):
        super().__init__(message)
        self.error_class = ErrorClass(error_class)
        self.message = message
        self.retry_after = retry_after
        self.platform_code = platform_code

    def __repr__(self):
        return (f"DeliveryError({self.error_class.value!r}, {self.message!r}, "
                f"retry_after={self.retry_after!r}, platform_code={self.platform_code!r})")


class NoRetractApi(Exception):
    """The platform cannot delete what was posted: the caller makes a manual take-down task."""

    def __init__(self, channel_type):
        super().__init__(f"Kênh {channel_type} không có API gỡ bài: cần gỡ thủ công / "
                         f"{channel_type} has no delete API: manual take-down required")
        self.channel_type = channel_type


def redact(text):
    """Text safe to log or store: tokens in URLs and Authorization headers removed."""
    return _SECRET_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + "***", str(text))


def credential(channel):
    """The secret named by channel["credentials_ref"]; a missing one is `reauthorize`."""
    ref = channel.get("credentials_ref")
    name = channel.get("name") or channel.get("id")
    value = None
    if ref and ref.startswith("file:"):
        try:
            with open(ref[len("file:"):], encoding="utf-8") as fh:
                value = fh.read().strip()
        except OSError:
            value = None
    elif ref and _ENV_NAME.match(ref):
        value = read_secret(ref)  # read at each send: a rotated token needs no restart
    elif ref:
        # Not a name: perhaps a token pasted where its name belongs. Never echo it.
        raise DeliveryError(ErrorClass.REAUTHORIZE,
                            f"credentials_ref của kênh {name} không phải tên biến môi trường hay file:/... / "
                            f"credentials_ref of channel {name} is not an environment variable name or file:/path")
    if not value:
        raise DeliveryError(ErrorClass.REAUTHORIZE,
                            f"Thiếu mã truy cập cho kênh {name} ({ref or 'không có credentials_ref'}) / "
                            f"missing credential for channel {name} ({ref or 'no credentials_ref'})")
    return value


def http_timeout(variable="HTTP_TIMEOUT_SECONDS"):
    """Seconds a call may take: `variable` (WEBHOOK_TIMEOUT_SECONDS), else HTTP_TIMEOUT_SECONDS."""
    return settings()[variable] or settings().HTTP_TIMEOUT_SECONDS


def new_session():
    """A Session per adapter module: keeps connections to the platform open between sends.

    The pool is sized for a fan-out of many green threads to one host (the default 10
    would open and throw away a connection per extra concurrent send).
    """
    session = requests.Session()
    _mount(session, _settings.HTTP_POOL_SIZE if _settings is not None else DEFINED["HTTP_POOL_SIZE"].default)
    _sessions.append(session)
    return session


def _mount(session, size):
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


# A URL requests cannot even try is a registry mistake, not an outage.
_BAD_ADDRESS = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader)


def transport_error(exc):
    """A DeliveryError for a call that got no answer (timeout, refused, reset): retry."""
    if isinstance(exc, _BAD_ADDRESS):
        return DeliveryError(ErrorClass.PERMANENT, f"Địa chỉ kênh không hợp lệ / invalid channel address: "
                                                   f"{redact(exc)}")
    kind = "timeout" if isinstance(exc, requests.Timeout) else "connection"
    return DeliveryError(classify_failure(source="transport", code=kind),
                         f"Không kết nối được nền tảng ({kind}) / platform unreachable ({kind}): "
                         f"{redact(type(exc).__name__)}: {redact(exc)}",
                         platform_code=kind)


def call(session, method, url, **kwargs):
    """session.request with a timeout always set; no answer becomes a retry DeliveryError."""
    kwargs.setdefault("timeout", http_timeout())
    try:
        return session.request(method, url, **kwargs)
    except requests.RequestException as exc:
        raise transport_error(exc) from None


def retry_after_of(response):
    return parse_retry_after(response.headers.get("Retry-After")) if response is not None else None


def json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


class ChannelAdapter:
    """The interface. Subclasses set `channel_type` and implement send/retract/classify_error."""

    channel_type = None

    def send(self, channel, message):
        """Post `message` to `channel`; SendResult, or DeliveryError."""
        raise NotImplementedError

    def retract(self, channel, external_id):
        """Delete what send posted; None, DeliveryError, or NoRetractApi."""
        raise NoRetractApi(self.channel_type)

    def classify_error(self, exc_or_response):
        """The DeliveryError (returned, not raised) that an exception or a failed answer means."""
        if isinstance(exc_or_response, DeliveryError):
            return exc_or_response
        if isinstance(exc_or_response, requests.RequestException):
            return transport_error(exc_or_response)
        if isinstance(exc_or_response, requests.Response):
            return self._classify_response(exc_or_response)
        return DeliveryError(ErrorClass.PERMANENT, redact(exc_or_response))

    def _classify_response(self, response):
        """Default: by HTTP status alone (platforms with their own codes override)."""
        return DeliveryError(classify_failure(response.status_code),
                             f"HTTP {response.status_code}: {redact(response.text[:500])}",
                             retry_after=retry_after_of(response), platform_code=response.status_code)
