"""Rate limits shared by gunicorn workers through a real Redis (RATE_LIMIT_STORAGE_URI): two gateway
apps stand for two workers, one citizen's requests spread over both. Without the shared store each
worker counts alone; when the store stops answering, requests go through rather than fail."""
import shutil
import subprocess
import tempfile
import time

import pytest

from gateway.app import create_app
from tests.conftest import free_port
from tests.support import environment, wait_for
from tests.unit.test_rate_limits import LIMITS, SECRET, NoServices, read

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_uri():
    """A Redis server of this test's own (the `redis-server` binary; the machine's Redis is left alone)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed (`apt-get install redis-server`; .ci/run does): "
                    "the shared rate-limit store is tested against a real Redis only")
    port, folder = free_port(), tempfile.mkdtemp(prefix="binhyen-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(port=port)
    wait_for(lambda: _pings(client), timeout=10, message="redis-server")
    yield f"redis://127.0.0.1:{port}/0", proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


def _pings(client):
    try:
        return client.ping()
    except Exception:
        return False


def workers(uri, n=2):
    made = []
    with environment(LIMITS):
        for _ in range(n):
            app = create_app({"JWT_SECRET": SECRET, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                              "RATE_LIMIT_STORAGE_URI": uri})
            app.extensions["rpc"] = app.extensions["public_tips_intake"] = NoServices()
            made.append(app.test_client())
        # the allowances are read at first use: inside the same environment
        for client in made:
            read(client, ip="10.9.9.9")
    return made


def test_workers_share_one_allowance_through_redis(redis_uri):
    uri, _ = redis_uri
    a, b = workers(uri)                      # one read each so far: 2 of the 5
    answers = [read(client, ip="10.9.9.9").status_code for client in (a, b, a, b, a)]
    assert answers == [503, 503, 503, 429, 429]
    # per-worker memory, for comparison: the same requests get twice the allowance
    c, d = workers("memory://")
    assert [read(client, ip="10.9.9.9").status_code for client in (c, d, c, d, c, d)] == [503] * 6


def test_a_store_that_stops_answering_lets_requests_through(redis_uri):
    uri, proc = redis_uri
    a, _ = workers(uri)
    proc.terminate()
    proc.wait(timeout=10)
    started = time.monotonic()
    assert [read(a, ip="10.9.9.8").status_code for _ in range(8)] == [503] * 8   # none refused
    assert time.monotonic() - started < 8                                        # nor hung
