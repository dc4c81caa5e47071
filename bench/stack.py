"""A throw-away copy of the whole system for benchmarks: SecantusDB (or MONGODB_URI), the
four services and the gunicorn gateway as their own processes, on the RabbitMQ at
AMQP_URI in a vhost of its own, removed afterwards."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

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


class Stack:
    def __init__(self, services=("groups", "posts", "notify", "tips"), extra_env=None):
        self.services = services
        self.extra_env = extra_env or {}
        self.procs = []
        self.storage = None
        self.vhost = f"binhyen-bench-{uuid.uuid4().hex[:8]}"

    def __enter__(self):
        base = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", self.vhost], check=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"],
                       check=True)
        parts = urlsplit(base)
        self.amqp_uri = urlunsplit((parts.scheme, parts.netloc, "/" + quote(self.vhost, safe=""), "", ""))
        self.mongodb_uri = os.environ.get("MONGODB_URI")
        if not self.mongodb_uri:
            self.storage = tempfile.mkdtemp(prefix="bench-secantus-")
            port = free_port()
            self.procs.append(subprocess.Popen(
                [str(BIN / "secantusd-py"), "--host", "127.0.0.1", "--port", str(port), "--storage-path",
                 self.storage, "--log-level", "WARNING"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.mongodb_uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        self.port = free_port()
        self.env = dict(os.environ, AMQP_URI=self.amqp_uri, MONGODB_URI=self.mongodb_uri,
                        MONGODB_DB_PREFIX=f"bench{uuid.uuid4().hex[:6]}_", PYTHONPATH=str(ROOT),
                        BINHYEN_JWT_SECRET="bench-" + "x" * 40, BINHYEN_ADMIN_USERNAME="admin",
                        BINHYEN_ADMIN_PASSWORD="bench-admin-password", LOG_LEVEL="WARNING",
                        GATEWAY_PORT=str(self.port), **self.extra_env)
        from services.tips.vault import generate_key
        self.env.setdefault("TIPS_VAULT_KEY", generate_key())
        for name in self.services:
            self.procs.append(subprocess.Popen([sys.executable, "-m", "service_runtime.run", name], env=self.env,
                                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.procs.append(self.gunicorn("gateway.wsgi:app", self.port))
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(f"{self.url}/readyz")
        return self

    def gunicorn(self, app, port, env=None):
        """The gateway's gunicorn setup (same config file) serving `app` on `port`."""
        return subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gateway" / "gunicorn.conf.py"), app],
                                env=dict(env or self.env, GATEWAY_PORT=str(port)), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rpc(self):
        from nameko.standalone.rpc import ClusterRpcProxy
        return ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=120)

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], check=False)
        if self.storage:
            shutil.rmtree(self.storage, ignore_errors=True)
