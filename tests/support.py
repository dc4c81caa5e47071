"""Helpers for tests that run services as real OS processes."""
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def spawn_service(name, config, extra_env=None, log_path=None):
    """Run a service as its own OS process with `nameko run` (for kill/restart tests)."""
    env = dict(os.environ, AMQP_URI=config["AMQP_URI"], MONGODB_URI=config["MONGODB_URI"],
               MONGODB_DB_PREFIX=config["MONGODB_DB_PREFIX"], OUTBOX_POLL_SECONDS="0.1",
               PYTHONPATH=str(ROOT), **(extra_env or {}))
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "service_runtime.run", name], env=env, cwd=ROOT,
                            stdout=out, stderr=subprocess.STDOUT)


def problem(response, *statuses):
    """The application/problem+json body of a refusal with one of these statuses."""
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:800])
    assert response.content_type == "application/problem+json", response.content_type
    return response.get_json()


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


# --- every event the services emit matches the published catalog --------------------------------

EMITTED = {}  # event type -> how many the suite's services emitted (and the catalog accepted)


def check_emitted_events(mongo_client, prefix):
    """Validate every envelope the services wrote to their outboxes under `prefix` against
    the published catalog (docs/asyncapi.json); raise listing each one that departs from it.
    Called before a test's databases are dropped, so the whole suite's events are checked."""
    import json
    from contracts.catalog import envelope_errors
    catalog = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    problems = []
    for name in mongo_client.list_database_names():
        if not name.startswith(prefix) or "outbox" not in mongo_client[name].list_collection_names():
            continue
        for doc in mongo_client[name].outbox.find({}, {"envelope": 1}):
            envelope = doc["envelope"]
            errors = envelope_errors(envelope, catalog)
            if errors:
                problems.append(f"{name}: {envelope.get('type')} v{envelope.get('version')}: {'; '.join(errors)}")
            else:
                EMITTED[envelope["type"]] = EMITTED.get(envelope["type"], 0) + 1
    assert not problems, "events emitted that the catalog does not describe:\n" + "\n".join(problems[:20])


@contextlib.contextmanager
def environment(values):
    """These environment variables for the block (the services running in this process read
    them), then whatever was there before."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, str(value))
        yield
