"""A throw-away copy of the whole system for benchmarks: SecantusDB (or MONGODB_URI), the
four services and the gunicorn gateway as their own processes, on the RabbitMQ at
AMQP_URI in a vhost of its own, removed afterwards.

The reliability suite (tools/reliability.py) also kills and restarts single processes of
it: `kill(name)` / `start_service(name)` / `start_gateway()` / `restart_mongodb()`; pass
`log_dir` to keep each process's output in `<log_dir>/<name>.log`.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from service_runtime.config import with_vhost

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"{url} not ready")


def start_sandbox(smtp=False, log_path=None):
    """The channel sandbox on free ports: (process, its http:// URL, its smtp:// URL or None)."""
    stderr = open(log_path, "ab") if log_path else None
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.server", "--port", "0", "--smtp-port", "0" if smtp else "-1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    line = proc.stdout.readline()  # "sandbox listening on http://127.0.0.1:PORT [smtp://127.0.0.1:PORT]"
    match = re.search(r"(http://\S+)(?:\s+(smtp://\S+))?", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"the sandbox did not start: {line!r}")
    return proc, match.group(1), match.group(2)


def port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


class Stack:
    def __init__(self, services=("groups", "posts", "notify", "tips"), extra_env=None, *, amqp_base=None,
                 rabbitmqctl=("rabbitmqctl",), log_dir=None, vhost_prefix="binhyen-bench-"):
        self.services = services
        self.extra_env = extra_env or {}
        self.amqp_base = amqp_base
        self.rabbitmqctl = list(rabbitmqctl)
        self.log_dir = Path(log_dir) if log_dir else None
        self.procs = []          # everything started, for __exit__ (restarted ones are replaced)
        self.named = {}          # "mongodb", "groups", ..., "gateway" -> Popen
        self.storage = None
        self.mongo_port = None
        self.vhost = f"{vhost_prefix}{uuid.uuid4().hex[:8]}"
        self._vhost_made = False

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise

    def _start(self):
        base = self.amqp_base or os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
        self._ctl("add_vhost", self.vhost)
        self._vhost_made = True
        self._ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.amqp_uri = with_vhost(base, self.vhost)
        self.mongodb_uri = os.environ.get("MONGODB_URI")
        if not self.mongodb_uri:
            self.storage = tempfile.mkdtemp(prefix="bench-secantus-")
            self.mongo_port = free_port()
            self.start_mongodb()
            self.mongodb_uri = f"mongodb://127.0.0.1:{self.mongo_port}/?directConnection=true"
        self.port = free_port()
        self.env = dict(os.environ, AMQP_URI=self.amqp_uri, MONGODB_URI=self.mongodb_uri,
                        MONGODB_DB_PREFIX=f"bench{uuid.uuid4().hex[:6]}_", PYTHONPATH=str(ROOT),
                        BINHYEN_JWT_SECRET="bench-" + "x" * 40, BINHYEN_ADMIN_USERNAME="admin",
                        BINHYEN_ADMIN_PASSWORD="bench-admin-password", LOG_LEVEL="WARNING",
                        GATEWAY_PORT=str(self.port))
        # gunicorn's per-worker metrics files: a directory of this stack's own, removed with it
        self.metrics_dir = tempfile.mkdtemp(prefix="bench-gateway-metrics-")
        self.env["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        self.env.update(self.extra_env)
        from services.tips.vault import generate_key
        self.env.setdefault("TIPS_VAULT_KEY", generate_key())
        for name in self.services:
            self.start_service(name)
        self.start_gateway()
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(f"{self.url}/readyz")
        return self

    def _ctl(self, *args):
        subprocess.run([*self.rabbitmqctl, "-q", *args], check=True, capture_output=True, timeout=120)

    def _popen(self, name, command, **kwargs):
        """Start `command` with its output in <log_dir>/<name>.log (or nowhere)."""
        if self.log_dir is None:
            return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, **kwargs)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as out:
            return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kwargs)

    def _track(self, name, proc):
        old = self.named.get(name)
        if old is not None and old in self.procs:
            self.procs.remove(old)
        self.named[name] = proc
        self.procs.append(proc)
        return proc

    # --- single processes (started, killed and started again by the reliability suite) ---------
    def start_mongodb(self):
        """SecantusDB on self.mongo_port with its data in self.storage (kept across restarts)."""
        proc = self._track("mongodb", self._popen("mongodb", [
            str(BIN / "secantusd-py"), "--host", "127.0.0.1", "--port", str(self.mongo_port), "--storage-path",
            self.storage, "--log-level", "WARNING"]))
        deadline = time.monotonic() + 60
        while not port_open(self.mongo_port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SecantusDB did not start (exit {proc.poll()})")
            time.sleep(0.1)
        return proc

    def restart_mongodb(self, timeout=30):
        """Stop the SecantusDB server (SIGTERM, as a service manager would) and start it again
        on the same port and storage. Returns the seconds it did not answer."""
        if self.storage is None:
            raise RuntimeError("MONGODB_URI is an external server: not restarted")
        started = time.monotonic()
        proc = self.named["mongodb"]
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        self.start_mongodb()
        return time.monotonic() - started

    def start_service(self, name):
        return self._track(name, self._popen(name, [sys.executable, "-m", "service_runtime.run", name],
                                             env=dict(self.env, SERVICE_NAME=name), cwd=ROOT))

    def start_gateway(self):
        return self._track("gateway", self.gunicorn("gateway.wsgi:app", self.port, log_name="gateway"))

    def kill(self, name, sig=signal.SIGKILL):
        """Send `sig` to one process (for the gateway: the gunicorn master and its workers) and reap it."""
        proc = self.named[name]
        if name == "gateway":
            try:
                os.killpg(proc.pid, sig)  # gunicorn runs in a session of its own: master + workers
            except ProcessLookupError:
                pass
        else:
            proc.send_signal(sig)
        proc.wait(timeout=30)
        return proc

    def gunicorn(self, app, port, env=None, log_name=None):
        """The gateway's gunicorn setup (same config file) serving `app` on `port`, in a session
        of its own (so the master and its workers can be signalled together)."""
        command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gateway" / "gunicorn.conf.py"), app]
        kwargs = {"env": dict(env or self.env, GATEWAY_PORT=str(port)), "cwd": ROOT, "start_new_session": True}
        if log_name is None:
            return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
        return self._popen(log_name, command, **kwargs)

    def _drop_databases(self):
        import pymongo
        prefix = self.env["MONGODB_DB_PREFIX"]
        try:
            with pymongo.MongoClient(self.mongodb_uri, serverSelectionTimeoutMS=5000) as client:
                for name in client.list_database_names():
                    if name.startswith(prefix):
                        client.drop_database(name)
        except pymongo.errors.PyMongoError:
            pass

    def rpc(self):
        from nameko.standalone.rpc import ClusterRpcProxy
        return ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=120)

    def __exit__(self, *exc):
        mongodb = self.named.get("mongodb")
        others = [proc for proc in reversed(self.procs) if proc is not mongodb]
        for group in (others, [mongodb] if mongodb is not None else []):  # the database last
            for proc in group:
                if proc.poll() is None:
                    proc.terminate()
            for proc in group:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        gateway = self.named.get("gateway")
        if gateway is not None:  # workers a killed master left behind
            try:
                os.killpg(gateway.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.storage is None and getattr(self, "env", None):  # an external MongoDB: drop our databases
            self._drop_databases()
        if self._vhost_made:
            subprocess.run([*self.rabbitmqctl, "-q", "delete_vhost", self.vhost], check=False, capture_output=True,
                           timeout=120)
        if self.storage:
            shutil.rmtree(self.storage, ignore_errors=True)
        if getattr(self, "metrics_dir", None):
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
