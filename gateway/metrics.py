"""Prometheus metrics of the gateway: request latency per endpoint and status.

gunicorn runs several worker processes; each writes its figures to PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py sets it) and /metrics adds them up, so a scrape sees the whole gateway
whichever worker answers.
"""
import os
import time

from flask import Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest

from gateway.auth import public

REQUEST_SECONDS = Histogram(
    "binhyen_http_request_seconds", "Time to answer one HTTP request", ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def register(app):
    # Set by gunicorn.conf.py before the workers start (prometheus_client's own variable).
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    @app.before_request
    def start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            REQUEST_SECONDS.labels(request.method, endpoint, str(response.status_code)).observe(
                time.perf_counter() - started)
        return response

    @app.route("/metrics")
    @public
    def metrics():
        registry = REGISTRY
        if multiprocess_dir:
            from prometheus_client import multiprocess
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
