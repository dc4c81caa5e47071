"""The operator CLI against running services."""
import json

import pytest

from tools import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(monkeypatch, config):
    monkeypatch.setenv("AMQP_URI", config["AMQP_URI"])


def run(capsys, *argv):
    with pytest.raises(SystemExit) as done:
        cli.main(list(argv))
    return done.value.code, capsys.readouterr().out


def test_health_outbox_create_admin_and_retriage(cli_env, run_services, rpc, capsys, monkeypatch):
    code, out = run(capsys, "health", "groups")
    assert code == 1 and json.loads(out)["status"] == "down"          # not running yet
    run_services("groups", "posts", "notify", "tips")
    code, out = run(capsys, "health", "groups")
    assert code == 0 and json.loads(out)["status"] == "ok"
    code, out = run(capsys, "outbox")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["groups", "posts", "notify", "tips"]

    monkeypatch.setenv("BINHYEN_NEW_PASSWORD", "mot-mat-khau-dai")
    code, out = run(capsys, "create-admin", "quantri2")
    assert code == 0 and json.loads(out)["roles"] == ["admin"]
    assert rpc.groups.authenticate("quantri2", "mot-mat-khau-dai")["username"] == "quantri2"

    receipt = rpc.tips.submit_tip("web", {"text": "Có người đang bán ma túy ở phường Ninh Khánh tối nay"})
    tip = rpc.tips.list_tips({"id": "admin", "roles": ["admin"], "unit_id": None}, {})["items"][0]
    code, out = run(capsys, "retriage", tip["id"])
    shown = json.loads(out)
    assert code == 0 and shown["suggestion"]["category"] == "drugs" and shown["suggestion"]["ward"] == "ninh-khanh"
    assert receipt["tip_code"]
