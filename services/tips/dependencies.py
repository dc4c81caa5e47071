"""The tips service's dependencies: the identity vault, values kept from other services, the SLA
timer and the triage model (nameko DependencyProviders and entrypoints, each set up once)."""
import logging
import threading
import time

import eventlet
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from contracts.tips import VaultUnavailable
from service_runtime import logs
from service_runtime.config import container_settings
from services.tips.triage.model import default_model
from services.tips.vault import Vault, VaultKeyError

logger = logging.getLogger(__name__)

DIRECTORY_RPC_SECONDS = 5      # groups did not answer (a lost reply waits forever): use the last copy


class VaultProvider(DependencyProvider):
    """The identity vault, keyed from TIPS_VAULT_KEY.

    Without a key the service still runs and still takes anonymous tips, but refuses any
    tip that carries an identity (503 VaultUnavailable, so the citizen can retry) and says
    so in health() and in an error log line at start-up.
    """

    def setup(self):
        try:
            self.vault, self.error = Vault.from_settings(container_settings(self.container)), None
        except VaultKeyError as exc:
            self.vault, self.error = None, str(exc)
            logger.error("tips vault unavailable: %s", exc)

    def get_dependency(self, worker_ctx):
        return self

    def require(self):
        if self.vault is None:
            raise VaultUnavailable("Kho bảo mật chưa được cấu hình, vui lòng thử lại sau / "
                                   "the identity vault is not configured, retry later")
        return self.vault


class Cached(DependencyProvider):
    """Values other services own, kept for a while: get(key, ttl, load).

    When the owner does not answer (within DIRECTORY_RPC_SECONDS), the last value (however
    old) is used: intake keeps going on a slightly stale ward list rather than failing.
    """

    def setup(self):
        self.values = {}
        self.lock = threading.Lock()

    def get_dependency(self, worker_ctx):
        return self

    def get(self, key, ttl, loader):
        entry = self.values.get(key)
        if entry is not None and time.monotonic() - entry[0] < ttl:
            return entry[1]
        try:
            with eventlet.Timeout(DIRECTORY_RPC_SECONDS, TimeoutError):
                value = loader()
        except Exception as exc:
            if entry is None:
                raise
            logs.log(logger, logging.WARNING, "using a stale copy", key=key, error=type(exc).__name__)
            return entry[1]
        with self.lock:
            self.values[key] = (time.monotonic(), value)
        return value

    def forget(self, key):
        self.values.pop(key, None)


class SlaTimer(Timer):
    """A timer whose interval comes from SLA_CHECK_SECONDS (config or environment) at start-up."""

    def setup(self):
        self.interval = container_settings(self.container).SLA_CHECK_SECONDS
        super().setup()


sla_timer = SlaTimer.decorator


class TriageModelProvider(DependencyProvider):
    """The learned triage model (services/tips/triage/model/), read once at start-up.
    Without the file, triage runs on the lexicons alone and health() says so."""

    def setup(self):
        self.model = default_model()
        if self.model is None:
            logger.error("triage model file missing: lexicons only (python -m services.tips.train)")

    def get_dependency(self, worker_ctx):
        return self.model
