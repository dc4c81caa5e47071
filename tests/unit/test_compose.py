"""docker-compose.yml, Dockerfile and .env.example: valid by the Compose Specification, and
built the way police IT can run and scale them (no broker, no Docker engine needed)."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
VALIDATOR = ROOT / "tools" / "validate_compose.sh"

APP_SERVICES = ("groups", "posts", "notify", "tips")
SCALED = ("groups", "posts", "notify", "tips")      # `--scale` must work for each of these
INFRASTRUCTURE = ("rabbitmq", "mongodb")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def _env_example():
    defined, mentioned = {}, set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            defined[match.group(1)] = match.group(2)
        mentioned.update(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", line))
    return defined, mentioned


def test_compose_file_is_valid_by_the_compose_specification():
    if not (shutil.which("docker-compose") or _docker_compose_v2()):
        pytest.skip("no Compose validator on this machine: `apt-get install --no-install-recommends "
                    "docker-compose` (Debian) or the Docker Compose v2 plugin; then tools/validate_compose.sh")
    result = subprocess.run(["bash", str(VALIDATOR)], capture_output=True, text=True, timeout=120)
    if result.returncode == 3:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stdout + result.stderr


def _docker_compose_v2():
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0


def test_every_container_has_a_healthcheck(services):
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_services_are_checked_by_their_health_rpc_and_the_gateway_by_healthz(services):
    for name in APP_SERVICES:
        assert services[name]["healthcheck"]["test"] == ["CMD", "binhyen", "health", name]
    assert "/healthz" in " ".join(services["gateway"]["healthcheck"]["test"])


def test_depends_on_waits_for_healthy(services):
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition"
        for dependency, condition in depends.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}: {condition}"
    for name in APP_SERVICES:
        assert set(services[name]["depends_on"]) >= {"rabbitmq", "mongodb"}
    assert set(services["gateway"]["depends_on"]) >= {"rabbitmq", *APP_SERVICES}


def test_the_services_and_the_gateway_come_from_one_image(services):
    images = {services[name]["image"] for name in (*APP_SERVICES, "gateway", "sandbox")}
    assert len(images) == 1
    for name in (*APP_SERVICES, "gateway", "sandbox"):
        build = services[name]["build"]
        assert build["context"] == "." and build.get("dockerfile", "Dockerfile") == "Dockerfile"


def test_scaling_is_possible_by_design(services):
    for name, service in services.items():
        assert "container_name" not in service, f"{name}: container_name forbids --scale"
    for name in SCALED:
        assert "ports" not in services[name], f"{name}: a fixed host port forbids --scale"
        assert "hostname" not in services[name]


def test_restart_policies_and_named_volumes(compose, services):
    for name, service in services.items():
        assert service.get("restart") in ("unless-stopped", "always"), f"{name}: no restart policy"
    declared = set(compose.get("volumes") or {})
    assert {"rabbitmq-data", "mongodb-data"} <= declared
    for name in INFRASTRUCTURE:
        for volume in services[name]["volumes"]:
            source = volume.split(":", 1)[0]
            assert source in declared, f"{name}: data in {source!r}, not a named volume"


def test_mongodb_is_a_single_node_replica_set_initiated_idempotently(services):
    mongo = services["mongodb"]
    assert mongo["image"].startswith("mongo:7")
    assert "--replSet" in mongo["command"]
    script = mongo["healthcheck"]["test"][-1]
    assert "rs.initiate" in script and "rs.status()" in script and "catch" in script
    for name in APP_SERVICES:
        assert "replicaSet=rs0" in services[name]["environment"]["MONGODB_URI"]


def test_rabbitmq_has_the_management_plugin(services):
    assert re.match(r"rabbitmq:3\.13(\.\d+)?-management", services["rabbitmq"]["image"])


def test_the_sandbox_only_runs_under_its_profile(services):
    sandbox = services["sandbox"]
    assert sandbox["profiles"] == ["sandbox"]
    command = " ".join(sandbox["command"])
    assert "sandbox.server" in command and "--port 8900" in command and "--smtp-port 2525" in command
    for name, service in services.items():
        if name != "sandbox":
            assert "profiles" not in service, f"{name} would not start with a plain `up`"
            assert "sandbox" not in service.get("depends_on", {})


def test_the_image_runs_as_a_non_root_user():
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    stages = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    assert len(stages) >= 2, "the Dockerfile must be multi-stage"
    final = lines[stages[-1]:]
    users = [line.split(None, 1)[1] for line in final if line.upper().startswith("USER ")]
    assert users, "the runtime stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"USER {users[-1]} is root"


def test_the_image_has_no_secantusdb_and_carries_what_the_services_read():
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"secantus\S*\s*==|\[dev\]|'\.\[dev\]'", instructions, re.I), \
        "SecantusDB (GPL, dev/test only) must not be installed in the production image"
    assert "constraints.txt" in instructions
    for folder in ("data", "config", "sandbox", "contracts", "service_runtime", "services", "gateway", "tools"):
        assert re.search(rf"^COPY\s+{folder}\s", instructions, re.M), f"{folder}/ is not in the image"


def test_every_compose_variable_is_in_env_example_and_the_reverse():
    defined, _ = _env_example()
    text = COMPOSE.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert not used - set(defined), f"used in docker-compose.yml, missing from .env.example: {sorted(used - set(defined))}"
    unused = {name for name in defined if name not in used and not name.startswith("COMPOSE_")}
    assert not unused, f"in .env.example but never passed by docker-compose.yml: {sorted(unused)}"


def test_secrets_in_env_example_are_placeholders():
    defined, _ = _env_example()
    for name, value in defined.items():
        if re.search(r"(PASSWORD|SECRET|TOKEN|_KEY|_KEYS)$", name) and value:
            assert value == "change-me", f"{name} in .env.example must be empty or change-me"
    required = re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", COMPOSE.read_text(encoding="utf-8"))
    for name in required:
        assert defined.get(name), f"{name} is required by docker-compose.yml: give it a placeholder"


def _variables_the_code_reads():
    """Every environment variable the production code reads, by name."""
    names = set()
    pattern = re.compile(r"""(?:\benv|\bsecret|environ\.get|environ\.setdefault|getenv)\(\s*f?["']([A-Z][A-Z0-9_]{2,})["']""")
    configured = re.compile(r"""configured\(([^)]*)\)""")
    for folder in ("contracts", "service_runtime", "services", "gateway", "tools"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names.update(pattern.findall(text))
            for args in configured.findall(text):
                names.update(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", args))
    # Every setting the processes read (contracts.settings), RATE_<TYPE> once per channel type.
    from contracts.settings import DEFINED
    from services.notify.domain import RATE_LIMITS
    names.update(name for name in DEFINED if name != "RATE_<TYPE>")
    for channel_type in RATE_LIMITS:
        names.update({f"RATE_{channel_type.upper()}", f"RATE_{channel_type.upper()}_BURST"})
    nameko_yaml = (ROOT / "config" / "nameko.yaml").read_text(encoding="utf-8")
    names.update(re.findall(r"\$\{([A-Z][A-Z0-9_]*):", nameko_yaml))
    return names


# Read by the code but not deployment settings: set by the runtime itself, or tests only.
NOT_DEPLOYMENT_SETTINGS = {
    "SERVICE_NAME",               # service_runtime.run sets it per process
    "PROMETHEUS_MULTIPROC_DIR",   # gunicorn.conf.py sets it per gateway
    "BINHYEN_FAILPOINT",          # fault-injection tests only
    "BINHYEN_NEW_PASSWORD",       # `binhyen create-admin` reads it once, from the operator's shell
    "AMQP_URI", "MONGODB_URI",    # docker-compose.yml builds them (see .env.example)
    "GATEWAY_HOST", "GATEWAY_PORT",  # fixed inside the container; GATEWAY_PUBLISH on the host
    "SANDBOX_PORT", "SANDBOX_GATEWAY_URL",  # fixed inside the sandbox container; SANDBOX_PUBLISH on the host
}


def test_env_example_names_every_variable_the_code_reads():
    _, mentioned = _env_example()
    missing = sorted(_variables_the_code_reads() - mentioned - NOT_DEPLOYMENT_SETTINGS)
    assert not missing, f"variables the code reads that .env.example does not name: {missing}"
