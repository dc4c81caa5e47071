"""Prometheus metrics for a service: RPC/handler latency, outbox backlog, and whatever
the service's store counts (deliveries by status, tips by urgency, ...).

Served at http://<host>:METRICS_PORT/metrics when METRICS_PORT is set (compose sets it;
tests leave it unset). Domain figures are read from MongoDB when Prometheus scrapes, so
several instances of a service report the same totals and nothing is lost on restart.
"""
import logging
import time

from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from service_runtime.config import container_settings

logger = logging.getLogger(__name__)

ENTRYPOINT_SECONDS = Histogram(
    "binhyen_entrypoint_seconds", "Time to handle one RPC call, event or timer tick",
    ["service", "entrypoint", "kind", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class StoreCollector:
    """Asks the store for its figures at scrape time."""

    def __init__(self, store_provider):
        self.store_provider = store_provider

    def describe(self):
        return []  # figures are only known at scrape time (and the store may not exist yet)

    def collect(self):
        try:
            figures = list(self.store_provider.store.metrics())
        except Exception:  # MongoDB down: say so through the up gauge, not a failed scrape
            logger.warning("metrics: store unavailable")
            service = {"service": self.store_provider.store.service_name}
            figures = [("binhyen_store_up", "1 when the service's MongoDB answers", service, 0)]
        families = {}
        for name, help_text, labels, value in figures:
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(name, help_text, labels=sorted(labels))
            family.add_metric([str(labels[key]) for key in sorted(labels)], value)
        return list(families.values())


class Metrics(DependencyProvider):
    """Times every entrypoint and serves /metrics (one per process)."""

    _server_started = False

    def setup(self):
        port = container_settings(self.container).METRICS_PORT
        if port and not Metrics._server_started:
            start_http_server(port)
            Metrics._server_started = True
            store_provider = next((d for d in self.container.dependencies if hasattr(d, "store")), None)
            if store_provider is not None:
                REGISTRY.register(StoreCollector(store_provider))
        self._started = {}  # id(worker_ctx) -> start time (worker_ctx.data would travel on RPC)

    def worker_setup(self, worker_ctx):
        self._started[id(worker_ctx)] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(id(worker_ctx), None)
        if started is None:
            return
        ENTRYPOINT_SECONDS.labels(
            service=self.container.service_name, entrypoint=worker_ctx.entrypoint.method_name,
            kind=getattr(worker_ctx.entrypoint, "metric_kind", type(worker_ctx.entrypoint).__name__.lower()),
            outcome="ok" if exc_info is None else exc_info[0].__name__,
        ).observe(time.perf_counter() - started)
