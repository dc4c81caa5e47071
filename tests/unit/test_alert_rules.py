"""deploy/prometheus/alerts.yml: every rule names metrics the code exports, says what to do in
Vietnamese and English, and (with promtool) is valid and fires when it should."""
import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
EXPORTERS = ("services", "service_runtime", "gateway")
# What prometheus_client exports for each kind of metric object.
SUFFIXES = {"Counter": ("_total",), "Histogram": ("_bucket", "_count", "_sum"), "Summary": ("_count", "_sum"),
            "Gauge": ("",)}
METRIC = re.compile(r"\bbinhyen_[a-z0-9_]+\b")


def exported_metrics():
    """Metric names the code exports: prometheus_client objects (`Counter("binhyen_x", ...)`)
    and the figures stores yield at scrape time (`yield "binhyen_x", help, labels, value`)."""
    names = set()
    for package in EXPORTERS:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in SUFFIXES and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    names |= {node.args[0].value + suffix for suffix in SUFFIXES[node.func.id]}
                elif (isinstance(node, ast.Yield) and isinstance(node.value, ast.Tuple) and node.value.elts
                      and isinstance(node.value.elts[0], ast.Constant)
                      and str(node.value.elts[0].value).startswith("binhyen_")):
                    names.add(node.value.elts[0].value)
    return names


@pytest.fixture(scope="module")
def rules():
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_scan_finds_what_the_services_export():
    """The scan itself: the figures test_metrics.py scrapes from real processes are found."""
    names = exported_metrics()
    assert {"binhyen_outbox_oldest_age_seconds", "binhyen_store_up", "binhyen_entrypoint_seconds_count",
            "binhyen_deliveries_dead_total", "binhyen_delivery_send_seconds_bucket", "binhyen_relay_tasks",
            "binhyen_http_request_seconds_count"} <= names
    assert "binhyen_deliveries_dead" not in names  # a counter is exported with _total


def test_the_alerts_the_operators_need_are_there(rules):
    expressions = " ".join(rule["expr"] for rule in rules)
    for metric in ("binhyen_deliveries_dead_total", "binhyen_relay_tasks", "binhyen_outbox_oldest_age_seconds",
                   "binhyen_tips_sla_breached"):
        assert metric in expressions


def test_every_rule_names_exported_metrics_and_says_what_to_do(rules):
    exported = exported_metrics()
    assert len({rule["alert"] for rule in rules}) == len(rules)
    for rule in rules:
        named = set(METRIC.findall(rule["expr"]))
        assert named, rule["alert"]
        mentioned = named | set(METRIC.findall(" ".join(rule["annotations"].values())))
        assert mentioned <= exported, f"{rule['alert']}: {sorted(mentioned - exported)} is not exported by the code"
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert " / " in rule["annotations"]["summary"], f"{rule['alert']}: Vietnamese / English"
        assert rule["annotations"]["description"].strip(), rule["alert"]


def promtool(*args):
    if not shutil.which("promtool"):
        pytest.skip("promtool is not installed: `apt-get install --no-install-recommends prometheus` provides it "
                    "(.ci/run installs it)")
    return subprocess.run(["promtool", *args], cwd=RULES.parent, capture_output=True, text=True, timeout=60)


def test_promtool_accepts_the_rules():
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_when_it_should_and_not_before():
    result = promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {test["alertname"] for case in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
              for test in case["alert_rule_test"]}
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    assert tested == {rule["alert"] for group in rules for rule in group["rules"]}  # none untested
