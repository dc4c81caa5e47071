"""Fixtures for tests that need real parts: RabbitMQ (own vhost per test) and a
MongoDB-wire server (SecantusDB started for the session, or MONGODB_URI when set, so the
same suite runs against MongoDB 7)."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pymongo
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Services started by the tests (in-process or as their own processes) seal tipster
# identities with this key, as a deployment's would with its own.
from service_runtime.config import with_vhost  # noqa: E402
from services.tips.vault import generate_key  # noqa: E402
from bench.stack import free_port  # noqa: E402,F401  (tests import it from here)
from tests.support import EMITTED, check_emitted_events, environment  # noqa: E402

os.environ.setdefault("TIPS_VAULT_KEY", generate_key())
TEST_VHOST_PREFIX = "binhyen-test-"
JWT_SECRET = "test-secret-" + "x" * 32


def _rabbitmqctl(*args, check=True):
    return subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, text=True,
                          timeout=60)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True


# --- RabbitMQ ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def amqp_base_uri():
    return os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture(scope="session")
def vhosts(amqp_base_uri):
    """Makes a vhost per test; removes it afterwards, and any a killed run left behind."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: integration tests need a local RabbitMQ to make vhosts")
    listing = _rabbitmqctl("list_vhosts", "name").stdout.split()
    for name in listing:  # stale: made by a run whose process is gone
        match = re.match(rf"^{TEST_VHOST_PREFIX}(\d+)-", name)
        if match and not _pid_alive(int(match.group(1))):
            _rabbitmqctl("delete_vhost", name, check=False)
    made, deleting = [], []

    def make():
        name = f"{TEST_VHOST_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        _rabbitmqctl("add_vhost", name)
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        made.append(name)
        return name, with_vhost(amqp_base_uri, name)

    def drop(name):
        # Deleting takes a second; do it in the background and reap at the end.
        deleting.append(subprocess.Popen(["rabbitmqctl", "-q", "delete_vhost", name],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    make.drop = drop
    yield make
    for proc in deleting:
        proc.wait(timeout=60)


@pytest.fixture
def amqp_uri(vhosts):
    name, uri = vhosts()
    yield uri
    vhosts.drop(name)


# --- MongoDB ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def mongodb_uri():
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    storage = tempfile.mkdtemp(prefix="binhyen-secantus-")
    port = free_port()
    server = ROOT / ".venv" / "bin" / "secantusd-py"
    command = [str(server) if server.exists() else shutil.which("secantusd-py") or "secantusd-py",
               "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage,
               "--log-level", "WARNING"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=500)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.admin.command("ping")
            break
        except pymongo.errors.PyMongoError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("SecantusDB did not start")
            time.sleep(0.2)
    client.close()
    yield uri
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(storage, ignore_errors=True)


@pytest.fixture(scope="session")
def mongo_client(mongodb_uri):
    client = pymongo.MongoClient(mongodb_uri, tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def db_prefix(mongo_client):
    """A database-name prefix of this test's own; its databases are dropped afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    yield prefix
    try:
        check_emitted_events(mongo_client, prefix)
    finally:
        for name in mongo_client.list_database_names():
            if name.startswith(prefix):
                mongo_client.drop_database(name)


# --- services and gateway --------------------------------------------------------------

@pytest.fixture
def config(amqp_uri, mongodb_uri, db_prefix):
    from service_runtime.config import service_config
    return service_config(AMQP_URI=amqp_uri, MONGODB_URI=mongodb_uri, MONGODB_DB_PREFIX=db_prefix,
                          OUTBOX_POLL_SECONDS=0.1)


@pytest.fixture
def run_services(config):
    """Start real nameko services in this process: run_services("groups", "tips")."""
    from nameko.runners import ServiceRunner
    from service_runtime.run import SERVICES
    import importlib

    runners = []

    def start(*names, env=None):
        runner = ServiceRunner(config)
        for name in names:
            module, cls = SERVICES[name].split(":")
            runner.add_service(getattr(importlib.import_module(module), cls))
        runner.start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.kill()


@pytest.fixture
def rpc(config):
    """A cluster RPC proxy to the services under test."""
    import contracts.rpc  # noqa: F401  (domain errors cross RPC as themselves)
    from nameko.standalone.rpc import ClusterRpcProxy
    with ClusterRpcProxy(config, timeout=15) as proxy:
        yield proxy


@pytest.fixture
def gateway(config):
    """The Flask app under test, wired to this test's broker vhost."""
    from gateway.app import create_app
    app = create_app({"AMQP_URI": config["AMQP_URI"], "JWT_SECRET": JWT_SECRET,
                      "RPC_TIMEOUT_SECONDS": 10})
    return app.test_client()


@pytest.fixture
def admin_credentials(monkeypatch):
    """The bootstrap admin the groups service creates at start-up."""
    monkeypatch.setenv("BINHYEN_ADMIN_USERNAME", "admin")
    monkeypatch.setenv("BINHYEN_ADMIN_PASSWORD", "admin-password-for-tests")
    return {"username": "admin", "password": "admin-password-for-tests"}


@pytest.fixture(scope="module")
def module_stack(vhosts, mongodb_uri, mongo_client):
    """Services shared by one test module (for modules whose tests build on common data).

    Yields start(*names) -> config; the gateway client and the RPC proxy come with it.
    """
    from nameko.runners import ServiceRunner
    from nameko.standalone.rpc import ClusterRpcProxy
    import importlib
    import contracts.rpc  # noqa: F401
    from gateway.app import create_app
    from service_runtime.config import service_config
    from service_runtime.run import SERVICES

    name, uri = vhosts()
    prefix = f"m{uuid.uuid4().hex[:10]}_"
    config = service_config(AMQP_URI=uri, MONGODB_URI=mongodb_uri, MONGODB_DB_PREFIX=prefix,
                            OUTBOX_POLL_SECONDS=0.1)
    with environment({"BINHYEN_ADMIN_USERNAME": "admin", "BINHYEN_ADMIN_PASSWORD": "admin-password-for-tests"}):
        runners = []

        class Stack:
            _client = None

            @property
            def client(self):
                """The gateway, started at first use: inside the module's own environment when
                its fixture entered one (a gateway reads its settings once, at start-up)."""
                if self._client is None:
                    self._client = create_app({"AMQP_URI": uri, "JWT_SECRET": JWT_SECRET}).test_client()
                return self._client

        stack = Stack()
        stack.config = config
        stack.db = lambda service: mongo_client[f"{prefix}{service}"]

        def start(*names):
            runner = ServiceRunner(config)
            for service in names:
                module, cls = SERVICES[service].split(":")
                runner.add_service(getattr(importlib.import_module(module), cls))
            runner.start()
            runners.append(runner)

        stack.start = start
        proxy_holder = ClusterRpcProxy(config, timeout=30)
        stack.rpc = proxy_holder.start()
        yield stack
        proxy_holder.stop()
        for runner in runners:
            runner.kill()
    try:
        check_emitted_events(mongo_client, prefix)
    finally:
        for db_name in mongo_client.list_database_names():
            if db_name.startswith(prefix):
                mongo_client.drop_database(db_name)
        vhosts.drop(name)


def login(client, username, password):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.data
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def pytest_terminal_summary(terminalreporter):
    if EMITTED:
        terminalreporter.write_line(
            f"events checked against docs/asyncapi.json: {sum(EMITTED.values())} events of {len(EMITTED)} types "
            f"({', '.join(sorted(EMITTED))})")
