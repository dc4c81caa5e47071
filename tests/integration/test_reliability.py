"""The reliability suite in its reduced form (`python -m tools.reliability --reduced`; the full
one is `make reliability`): the whole system as OS processes under steady tip load while a
post fans out to the city directory, through a RabbitMQ restart (a private node, so the
broker the rest of the suite uses is never stopped), SIGKILL and restart of every service
and of the gateway, and a restart of the MongoDB server. Nothing acknowledged may be lost
or stored twice, every delivery must end terminal, every outbox must drain."""
import json
import shutil
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.timeout(480)
def test_reduced_reliability_suite(tmp_path):
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: the suite makes its broker vhost (or node) with it")
    figures, output = tmp_path / "figures.json", tmp_path / "output.txt"
    with open(output, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tools.reliability", "--reduced", "--json", str(figures)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            code = proc.wait(timeout=420)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the suite cleans up what it started on SIGTERM
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            pytest.fail("the reliability suite did not finish in 420 s:\n" + output.read_text()[-4000:])
    log = output.read_text()
    print(log)  # the table, shown by pytest when the test fails
    assert figures.exists(), log[-4000:]
    result = json.loads(figures.read_text())

    assert result["acknowledged"] > 50, log[-4000:]                  # the load really ran
    assert result["acknowledged_missing"] == 0, log[-4000:]          # no acknowledged tip lost
    assert result["acknowledged_stored_twice"] == 0, log[-4000:]     # ... or stored twice
    assert result["status_503_without_retry_after"] == 0, log[-4000:]
    assert result["deliveries_total"] == result["audience"] > 300, log[-4000:]
    assert result["deliveries_non_terminal"] == 0, log[-4000:]
    assert result["duplicates_unexplained"] == 0, log[-4000:]        # a repeat only where a kill explains it
    assert result["sent_but_never_received"] == 0, log[-4000:]
    assert not any(result["outbox_backlog"].values()), log[-4000:]
    assert result["intake_queue"] == 0, log[-4000:]
    steps = {fault["step"] for fault in result["faults"]}
    assert {"SIGKILL notify", "SIGKILL tips", "SIGKILL posts", "SIGKILL groups", "SIGKILL gateway worker",
            "SIGKILL gateway master + workers", "mongodb restart", "rabbitmq restart"} <= steps
    assert result["passed"] and code == 0, log[-4000:]
