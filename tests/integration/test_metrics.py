"""Prometheus metrics: a service process serves /metrics with latency and outbox figures;
notify its delivery figures; the gateway serves request latency."""
import re
import urllib.request
from types import SimpleNamespace

import pytest
import yaml

from sandbox.server import run_in_thread
from tests.conftest import free_port
from tests.integration.test_notify import channel_env, configure, publish_post, sandbox_key, wait_consumer
from tests.support import ROOT, answers, spawn_service, wait_for

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


def test_notify_serves_delivery_figures_the_alert_rules_use(config, rpc, run_services, tmp_path):
    """A notify process with METRICS_PORT: sends timed by channel type and outcome, retries and
    dead deliveries counted, what waits (relay tasks, retries) read from MongoDB at scrape time."""
    _, sandbox = run_in_thread(port=0, smtp_port=0)
    port = free_port()
    notify = None
    try:
        run_services("groups")
        rpc.groups.load_demo_data("city", None, sandbox.url)
        channels = rpc.groups.list_channels(ADMIN, {"limit": 500})["items"]
        zalo = [c for c in channels if c["type"] == "zalo_oa_group"][:2]
        manual = next(c for c in channels if c["type"] == "zalo_group_manual")
        down = next(c for c in channels if c["type"] == "webhook")
        page = next(c for c in channels if c["type"] == "facebook_page")  # its own bucket: the pause stays there
        configure(sandbox, {"channel": sandbox_key(down), "error": {"status": 503}},
                  {"channel": sandbox_key(page), "error": {"status": 429, "retry_after": 60}})
        notify = spawn_service("notify", config, dict(channel_env(sandbox), METRICS_PORT=str(port)),
                               tmp_path / "notify.log")
        wait_consumer(SimpleNamespace(config=config))
        publish_post(config, zalo + [manual, down, page])

        def figures():
            text = scrape(port) or ""
            # dead after 4 attempts (3 retries), the relay task overdue after 2 x 2 s
            ready = ('binhyen_deliveries_dead_total{channel_type="webhook"} 1.0' in text
                     and 'binhyen_relay_tasks{purpose="post",status="overdue"} 1.0' in text)
            return ready and text
        text = wait_for(figures, timeout=40, interval=0.5, message="notify's delivery figures")
        assert 'binhyen_delivery_send_seconds_count{channel_type="zalo_oa_group",outcome="ok"} 2.0' in text
        assert 'binhyen_delivery_send_seconds_count{channel_type="webhook",outcome="retry"} 4.0' in text
        assert 'binhyen_delivery_send_seconds_count{channel_type="zalo_group_manual",outcome="relay_required"} ' \
               '1.0' in text
        assert 'binhyen_delivery_retries_total{channel_type="webhook"} 3.0' in text
        # what waits, from MongoDB: the dead one, the relay, the group paused by its Retry-After
        assert 'binhyen_deliveries{channel_type="webhook",status="dead"} 1.0' in text
        assert 'binhyen_deliveries{channel_type="zalo_group_manual",status="relay_pending"} 1.0' in text
        assert re.search(r'binhyen_deliveries\{channel_type="facebook_page",status="(retry_wait|sending|pending)"\} '
                         r'1\.0', text)
        oldest = float(re.search(r"^binhyen_delivery_oldest_pending_age_seconds (\S+)$", text, re.M).group(1))
        assert oldest > 1.0  # the paused delivery has waited since the post was published

        # every metric an alert rule reads from notify is in its scrape
        rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
        named = {m for group in rules["groups"] for rule in group["rules"]
                 for m in re.findall(r"binhyen_[a-z0-9_]+", rule["expr"])}
        served = set(re.findall(r"^(binhyen_[a-z0-9_]+)[{ ]", text, re.M))
        assert named - served == {"binhyen_tips_sla_breached"}  # the tips service's own
    finally:
        if notify is not None:
            notify.terminate()
            notify.wait(timeout=20)
        sandbox.stop()
