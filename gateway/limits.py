"""Rate limits of the public endpoints (the JSON API's and the citizens' pages), per client address.

Two allowances, counted apart, so that checking a tip never costs the right to send one:
  send  a tip, or information added to one   PUBLIC_TIPS_BURST within BURST/PER_MINUTE minutes
  read  a tip's status                       PUBLIC_TIPS_READS_PER_MINUTE a minute
Each is a moving window (the `limits` package). The counts live in this gunicorn worker's
memory (N workers allow up to N times the rate, and a restart forgets them), or in a store
every worker shares when RATE_LIMIT_STORAGE_URI names one (`redis://host:6379/0`). When that
store does not answer, requests go through and a warning is logged: a broken limiter must not
stop a citizen's tip. Behind a reverse proxy set PUBLIC_TIPS_TRUSTED_PROXIES to the number
of proxies that append X-Forwarded-For.
"""
import logging
import math
import os
import threading
import time

from flask import current_app, request
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import SCHEMES, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from service_runtime import logs

logger = logging.getLogger(__name__)

SEND, READ = "send", "read"
STORE_TIMEOUT_SECONDS = 0.5  # a shared store slower than this is treated as down
WARN_EVERY_SECONDS = 60


class RateLimited(Exception):
    """Too many requests of this kind from this address; retry after `retry_after` seconds."""

    def __init__(self, kind, retry_after):
        super().__init__(kind)
        self.kind = kind
        self.retry_after = retry_after


def allowances(settings):
    """{kind: limit item or None (off)} from the gateway's settings (0 turns one off)."""
    per_minute = settings.PUBLIC_TIPS_PER_MINUTE
    burst = settings.PUBLIC_TIPS_BURST
    reads = settings.PUBLIC_TIPS_READS_PER_MINUTE
    # A bucket of `burst` refilled at `per_minute`: at most `burst` in any burst/rate window.
    send = RateLimitItemPerSecond(burst, max(1, math.ceil(burst * 60 / per_minute))) \
        if per_minute > 0 and burst > 0 else None
    return {SEND: send, READ: RateLimitItemPerMinute(reads) if reads > 0 else None}


class PublicLimits:
    """The allowances and where they are counted (the store is opened at first use, in the
    worker that uses it: memory stores and connection pools are per process)."""

    def __init__(self, storage_uri, items):
        self.storage_uri = storage_uri or "memory://"
        self.items = items
        self.enabled = True
        self._pid = None
        self._lock = threading.Lock()
        self._warned_at = 0.0

    def _strategy(self):
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    options = {}
                    if self.storage_uri.startswith(("redis://", "rediss://")):
                        options = {"key_prefix": "binhyen-limits", "socket_timeout": STORE_TIMEOUT_SECONDS,
                                   "socket_connect_timeout": STORE_TIMEOUT_SECONDS}
                    self._limiter = MovingWindowRateLimiter(storage_from_string(self.storage_uri, **options))
                    self._pid = os.getpid()
        return self._limiter

    def check(self, kind, client):
        """Count one request of `kind` from `client`; raise RateLimited when over the allowance."""
        if not self.enabled:
            return
        try:
            limiter = self._strategy()
            item = self.items.get(kind)
            if item is None:
                return
            if limiter.hit(item, client, kind):
                return
            reset_at = limiter.get_window_stats(item, client, kind).reset_time
        except Exception as exc:  # the shared store is down: let the request through
            now = time.monotonic()
            if now - self._warned_at > WARN_EVERY_SECONDS:
                self._warned_at = now
                logs.log(logger, logging.WARNING, "rate limit store unavailable; not limiting",
                         error=type(exc).__name__)
            return
        raise RateLimited(kind, max(1, math.ceil(reset_at - time.time())))


def register(app):
    uri = app.config.get("RATE_LIMIT_STORAGE_URI") or ""
    scheme = uri.partition("://")[0]
    if uri and (scheme not in SCHEMES or scheme.startswith("async+")):  # a typo must not turn limits off
        raise RuntimeError(f"RATE_LIMIT_STORAGE_URI: unknown store {scheme!r} (redis://host:6379/0, or unset)")
    app.extensions["public_limits"] = PublicLimits(uri, allowances(app.config["SETTINGS"]))


def client_ip():
    """The client's address; with N trusted proxies, the Nth X-Forwarded-For entry from the right."""
    hops = current_app.config["SETTINGS"].PUBLIC_TIPS_TRUSTED_PROXIES
    route = request.access_route if hops else [request.remote_addr or "unknown"]
    return route[-hops] if hops and len(route) >= hops else route[0]


def check(kind):
    """Count this request against the client's `kind` allowance (raises RateLimited)."""
    current_app.extensions["public_limits"].check(kind, client_ip())
