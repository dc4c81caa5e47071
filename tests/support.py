"""Helpers for tests that run services as real OS processes."""
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spawn_service(name, config, extra_env=None, log_path=None):
    """Run a service as its own OS process with `nameko run` (for kill/restart tests)."""
    env = dict(os.environ, AMQP_URI=config["AMQP_URI"], MONGODB_URI=config["MONGODB_URI"],
               MONGODB_DB_PREFIX=config["MONGODB_DB_PREFIX"], OUTBOX_POLL_SECONDS="0.1",
               PYTHONPATH=str(ROOT), **(extra_env or {}))
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "service_runtime.run", name], env=env, cwd=ROOT,
                            stdout=out, stderr=subprocess.STDOUT)


def wait_for(predicate, timeout=20.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def answers(service):
    """True once a service (a proxy attribute such as rpc.groups) answers health() with ok."""
    try:
        return service.health()["status"] == "ok"
    except Exception:
        return False
