"""Prometheus metrics: a service process serves /metrics with latency and outbox figures;
the gateway serves request latency."""
import urllib.request

import pytest

from tests.conftest import free_port
from tests.support import answers, spawn_service, wait_for

pytestmark = pytest.mark.integration

ADMIN = {"id": "admin", "username": "admin", "roles": ["admin"], "unit_id": None}


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def test_a_service_process_serves_its_metrics(config, rpc, tmp_path):
    port = free_port()
    groups = spawn_service("groups", config, {"METRICS_PORT": str(port)}, tmp_path / "groups.log")
    try:
        wait_for(lambda: scrape(port), timeout=30, message="metrics endpoint")
        wait_for(lambda: answers(rpc.groups), timeout=30, message="groups answers")
        rpc.groups.create_unit(ADMIN, {"name": "Tổ đo đạc", "kind": "team"})
        text = wait_for(lambda: (t := scrape(port)) and 'entrypoint="create_unit"' in t and t,
                        message="create_unit timed")
        assert 'binhyen_entrypoint_seconds_count{entrypoint="create_unit",kind="rpc",outcome="ok",service="groups"}' \
            in text
        assert 'binhyen_outbox_backlog{service="groups"}' in text
        assert 'binhyen_store_up{service="groups"} 1.0' in text
    finally:
        groups.terminate()
        groups.wait(timeout=20)


def test_the_gateway_counts_requests(gateway):
    gateway.get("/healthz")
    text = gateway.get("/metrics").get_data(as_text=True)
    assert 'binhyen_http_request_seconds_count{endpoint="/healthz",method="GET",status="200"}' in text
