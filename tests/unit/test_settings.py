"""The settings every process reads once at start-up (contracts/settings.py): a bad value stops
the process with a message naming the variable, secrets never show, README's table is the
definitions, and no code reads a variable the definitions do not know."""
import re
from pathlib import Path

import pytest

from contracts.settings import DEFINED, ROWS, SettingsError, load, read_secret, with_table

ROOT = Path(__file__).resolve().parents[2]
JWT = "jwt-secret-for-the-settings-tests-0123456789"


def test_a_bad_value_stops_start_up_naming_each_variable_and_what_it_expects():
    with pytest.raises(SettingsError) as caught:
        load("gateway", environ={"BINHYEN_JWT_SECRET": JWT, "RPC_TIMEOUT_SECONDS": "ten",
                                 "GATEWAY_PORT": "80000", "LOG_LEVEL": "chatty"})
    message = str(caught.value)
    assert "RPC_TIMEOUT_SECONDS='ten': expected a number of seconds" in message
    assert "GATEWAY_PORT='80000': expected a port number" in message
    assert "LOG_LEVEL='chatty': expected one of DEBUG, INFO" in message
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("process, environ, named", [
    ("tips", {"SLA_HIGH_SECONDS": "soon"}, "SLA_HIGH_SECONDS='soon'"),
    ("tips", {"SLA_HIGH_SECONDS": "0"}, "SLA_HIGH_SECONDS='0'"),
    ("notify", {"DELIVERY_CONCURRENCY": "-1"}, "DELIVERY_CONCURRENCY='-1'"),
    ("notify", {"RATE_WEBHOOK": "fast"}, "RATE_WEBHOOK='fast'"),
    ("notify", {"RATE_WEBHOOK_BURST": "0"}, "RATE_WEBHOOK_BURST='0'"),
    ("groups", {"RABBITMQ_QUEUE_TYPE": "mirrored"}, "RABBITMQ_QUEUE_TYPE='mirrored'"),
    ("groups", {"REFERENCE_DATA_FILE": "data/no-such-file.json"}, "REFERENCE_DATA_FILE="),
    ("gateway", {}, "BINHYEN_JWT_SECRET is not set"),
])
def test_each_process_checks_what_it_uses(process, environ, named):
    with pytest.raises(SettingsError, match=re.escape(named)):
        load(process, environ=environ)


def test_a_process_does_not_check_what_it_does_not_use():
    # the gateway signs tokens; the services never need the key
    assert load("groups", environ={}).get("BINHYEN_JWT_SECRET") is None
    assert "DELIVERY_CONCURRENCY" not in load("tips", environ={})


def test_overrides_come_before_the_environment_and_may_be_typed():
    settings = load("tips", environ={"SLA_CHECK_SECONDS": "5"}, overrides={"SLA_CHECK_SECONDS": 0.3})
    assert settings.SLA_CHECK_SECONDS == 0.3
    assert settings["SLA_EMERGENCY_SECONDS"] == 300   # unset: the default
    notify = load("notify", environ={"RATE_WEBHOOK": "2000"}, overrides={"DELIVERY_CONCURRENCY": "20"})
    assert notify.DELIVERY_CONCURRENCY == 20 and notify.get("RATE_WEBHOOK") == 2000.0


def test_a_secret_comes_from_its_file_and_never_shows(tmp_path):
    path = tmp_path / "jwt"
    path.write_text(JWT + "\n")
    settings = load("gateway", environ={"BINHYEN_JWT_SECRET_FILE": str(path)})
    assert settings.BINHYEN_JWT_SECRET == JWT
    assert JWT not in repr(settings) and JWT not in str(settings)
    assert read_secret("PARTNER_WEBHOOK_SECRET", {"PARTNER_WEBHOOK_SECRET_FILE": str(path)}) == JWT
    with pytest.raises(SettingsError, match="BINHYEN_JWT_SECRET_FILE=.*cannot read the file"):
        load("gateway", environ={"BINHYEN_JWT_SECRET_FILE": str(tmp_path / "missing")})


def test_a_bad_secret_is_named_without_its_value():
    with pytest.raises(SettingsError) as caught:
        load("gateway", environ={"BINHYEN_JWT_SECRET": "short-secret-value"})
    assert "BINHYEN_JWT_SECRET" in str(caught.value) and "short-secret-value" not in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        load("notify", environ={"SMTP_URL": "mail.example:25 user:hunter2"})
    assert "SMTP_URL" in str(caught.value) and "hunter2" not in str(caught.value)


def test_the_values_env_example_suggests_are_accepted():
    suggested = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match and match.group(2) and match.group(2) != "change-me":
            suggested[match.group(1)] = match.group(2)
    suggested["BINHYEN_JWT_SECRET"] = JWT
    for process in ("gateway", "groups", "posts", "notify", "tips"):
        load(process, environ=suggested)  # raises, naming what .env.example gets wrong


def test_readme_configuration_table_is_the_definitions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_table(readme) == readme, "README.md's table differs: run python -m tools.settings_table"


def test_defaults_are_the_ones_the_code_falls_back_to():
    from services.notify import domain as notify
    from services.tips import domain as tips
    assert DEFINED["DELIVERY_MAX_ATTEMPTS"].default == notify.MAX_ATTEMPTS
    assert DEFINED["DELIVERY_BACKOFF_BASE_SECONDS"].default == notify.BACKOFF_BASE_SECONDS
    assert DEFINED["DELIVERY_BACKOFF_CAP_SECONDS"].default == notify.BACKOFF_CAP_SECONDS
    assert {u: DEFINED[name].default for u, name in tips.SLA_ENV.items()} == tips.DEFAULT_SLA_SECONDS
    rates = DEFINED["RATE_<TYPE>"].note
    for channel_type, limit in notify.RATE_LIMITS.items():
        assert f"{channel_type} {limit.per_second:g}/{limit.burst}" in rates
    # nameko run --config config/nameko.yaml: the same defaults
    yaml_text = (ROOT / "config" / "nameko.yaml").read_text(encoding="utf-8")
    for name, default in re.findall(r"\$\{([A-Z][A-Z0-9_]*):([^}]*)\}", yaml_text):
        if name in DEFINED:
            assert load("groups", environ={name: default})[name] == DEFINED[name].default, name


# Read by the code but not settings of a process: set by the runtime itself, or tests only.
NOT_SETTINGS = {
    "SERVICE_NAME",               # service_runtime.run sets it per process (log lines)
    "PROMETHEUS_MULTIPROC_DIR",   # gunicorn.conf.py sets it per gateway, for prometheus_client
    "BINHYEN_FAILPOINT",          # fault-injection tests only
    "BINHYEN_NEW_PASSWORD",       # `binhyen create-admin` reads it once, from the operator's shell
}
# The only places in the processes' code that touch os.environ themselves.
ENVIRON_USERS = {"contracts/settings.py", "service_runtime/failpoints.py", "service_runtime/run.py",
                 "gateway/gunicorn.conf.py", "gateway/metrics.py"}
READ = re.compile(r"""(?:\benv\(|\bsecret\(|read_secret\(|os\.environ\.get\(|os\.environ\.setdefault\(|getenv\(|"""
                  r"""os\.environ\[)\s*f?["']([A-Z][A-Z0-9_]{2,})["']""")


def test_code_reads_only_defined_variables_and_only_through_the_loader():
    strays, unknown = [], set()
    for folder in ("contracts", "service_runtime", "services", "gateway", "tools", "sandbox"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            unknown.update(name for name in READ.findall(text) if name not in DEFINED and name not in NOT_SETTINGS)
            if folder in ("contracts", "service_runtime", "services", "gateway") and relative not in ENVIRON_USERS \
                    and re.search(r"os\.environ|getenv\(", text):
                strays.append(relative)
    assert not unknown, f"variables read without a definition in contracts/settings.py: {sorted(unknown)}"
    assert not strays, f"environment read outside contracts/settings.py (use the process's settings): {strays}"


def test_every_row_is_used_by_a_known_process():
    known = {"all", "services", "gateway", "groups", "posts", "notify", "tips", "seed", "sandbox", "make run"}
    for row in ROWS:
        assert set(row.used_by) <= known, row.used_by
