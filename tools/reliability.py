"""The reliability suite: the whole system under steady load, through broker, process and
database faults, then a check that nothing acknowledged was lost.

    .venv/bin/python -m tools.reliability            # --full: what `make reliability` runs
    .venv/bin/python -m tools.reliability --reduced  # the smaller form the test suite runs
    options: --broker shared|private|cluster  --json PATH  --keep-logs  --no-faults (a baseline)

It starts its own copy of the system as OS processes (bench/stack.py: SecantusDB unless
MONGODB_URI is set, a RabbitMQ vhost of its own, the four services, the gunicorn gateway)
and the sandbox channel server, loads the demo directory (--full: province, 1,398 channels
in the post's audience; --reduced: city, 333), and an editor writes a post that a moderator
approves. Client threads then send tips to POST /api/v1/public/tips at a steady rate (each
request from its own X-Forwarded-For address, so the per-address limit stays on but does
not refuse the load) while:

  1. a second moderator publishes the post; once its deliveries exist, the faults begin:
  2. RabbitMQ: `rabbitmqctl stop_app`, 15 s (--reduced: 5 s), `start_app`;
  3. SIGKILL, then restart, of each process in turn: notify (in the middle of the
     fan-out), tips, posts, groups, one gunicorn worker (its master starts another),
     then the gunicorn master with its workers;
  4. the MongoDB server: SecantusDB stopped and started again on the same data and port
     (skipped when MONGODB_URI names an external server).
Each step waits for /readyz to be green again. A process that exits by itself is restarted
at once, as `restart: unless-stopped` does in docker-compose.yml, and reported with the
error that ended it. Then the load stops, the system settles (bounded: web tips are stored
from the intake queue a moment after their 202) and the suite checks: every tip acknowledged
with 2xx is stored exactly once (each request carries a marker in its text, so one request
stored twice would show); every delivery of the post is terminal; a channel that got the
post twice is explained by a fault; every outbox is drained. It prints a table and exits 1
when an acknowledged tip is lost or doubled, a delivery is not terminal, a duplicate has no
explanation, or an outbox keeps a backlog. Logs are kept when it fails (or --keep-logs).

The broker. `--broker shared` (the --full default) stops the RabbitMQ at AMQP_URI, so
everything else using that broker on this machine sees the outage too. `--broker private`
(the --reduced default) starts a RabbitMQ node of the suite's own on free ports (needs
root or the rabbitmq user, as `rabbitmq-server` does); when it cannot, the run uses the
shared broker and skips the broker step, and says so. If this process is SIGKILLed while
the shared broker is stopped, run `rabbitmqctl start_app`. `--broker cluster` starts three
nodes of its own, clustered (tools/cluster.py), gives the system all three in AMQP_URI with
RABBITMQ_QUEUE_TYPE=quorum, and replaces step 2: the node leading most of the run's queues is
stopped for the outage's length and started again (the system must answer /readyz meanwhile,
on the other two), then the node leading most of them now (`make reliability-cluster`).
"""
import argparse
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import pymongo  # noqa: E402
import requests  # noqa: E402

import contracts.tips  # noqa: E402
from bench.stack import Stack, start_sandbox  # noqa: E402
from tools import cluster  # noqa: E402
from tools.cluster import ctl, pid_alive  # noqa: E402
from service_runtime.outbox import DEAD_LETTER_QUEUE  # noqa: E402

SERVICES = ("groups", "posts", "notify", "tips")
INTAKE_QUEUE = contracts.tips.INTAKE_QUEUE.name  # acknowledged web tips wait here to be stored
VHOST_PREFIX = "binhyen-reliability-"
DEMO_PASSWORD = "reliability-demo-password"
TOKEN = "sandbox-reliability-" + "x" * 16
WEBHOOK_SECRET = "whsec_cmVsaWFiaWxpdHktcGFydG5lci1zZWNyZXQtMDEyMzQ1"
POST_TYPES = ["facebook_page", "zalo_oa_group", "zalo_group_manual", "webhook"]
# A delivery that needs nothing more from the engine: sent, handed to an officer for manual
# relay (relay_pending: the channel is reached through the officer), or given up on.
TERMINAL = frozenset({"sent", "relay_pending", "failed", "dead", "cancelled", "retracted"})
LEASE_SECONDS = 10

PROFILES = {
    "full": {
        "scale": "province", "clients": 6, "rate": 10.0, "broker_down": 15.0, "warmup": 5.0, "pause": 3.0,
        "tail": 5.0, "settle": 240.0, "sandbox_latency_ms": 100, "broker": "shared", "sample_every": 10.0,
        "fault_seconds": 75.0,
        # Zalo allows one OA token ~10 messages/s: lifted so 1,026 OA groups take ~35 s, long
        # enough for notify to be killed in the middle of the fan-out.
        "rates": {"RATE_FACEBOOK_PAGE": "5", "RATE_FACEBOOK_PAGE_BURST": "5", "RATE_ZALO_OA_GROUP": "30",
                  "RATE_ZALO_OA_GROUP_BURST": "30", "RATE_WEBHOOK": "100", "RATE_WEBHOOK_BURST": "100"},
    },
    "reduced": {
        "scale": "city", "clients": 3, "rate": 6.0, "broker_down": 5.0, "warmup": 3.0, "pause": 1.0,
        "tail": 2.0, "settle": 90.0, "sandbox_latency_ms": 100, "broker": "private", "sample_every": 10.0,
        "fault_seconds": 35.0,
        # 244 OA groups at 12/s: ~20 s of fan-out, still running when notify is killed.
        "rates": {"RATE_FACEBOOK_PAGE": "5", "RATE_FACEBOOK_PAGE_BURST": "5", "RATE_ZALO_OA_GROUP": "12",
                  "RATE_ZALO_OA_GROUP_BURST": "12", "RATE_WEBHOOK": "100", "RATE_WEBHOOK_BURST": "100"},
    },
}


class Clock:
    """Seconds since the run started, for the timeline printed as the faults happen."""

    def __init__(self):
        self.t0 = time.monotonic()

    def now(self):
        return time.monotonic() - self.t0

    def say(self, msg):
        print(f"[{self.now():6.1f} s] {msg}", flush=True)


def utc_now():
    return datetime.now(timezone.utc)


# --- the broker -----------------------------------------------------------------------------------

class SharedBroker:
    """The machine's RabbitMQ (AMQP_URI): stopping it stops it for everyone."""

    private = False
    env = {}    # what the services need to know about this broker

    def __init__(self):
        self.amqp_base = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
        self.command = ["rabbitmqctl"]
        self.description = "shared (the RabbitMQ at AMQP_URI)"

    def start(self):
        # vhosts of runs that were killed (their process is gone)
        listing = ctl(self.command, "list_vhosts", "name", check=False).stdout.split()
        for name in listing:
            match = re.match(rf"^{VHOST_PREFIX}(\d+)-", name)
            if match and not pid_alive(int(match.group(1))):
                ctl(self.command, "delete_vhost", name, check=False)

    def stop_app(self):
        ctl(self.command, "stop_app")

    def start_app(self):
        for attempt in (1, 2, 3):  # never leave the broker stopped
            try:
                ctl(self.command, "start_app")
                ctl(self.command, "await_startup", "--timeout", "120", timeout=150)
                return
            except (subprocess.SubprocessError, OSError) as exc:
                print(f"!! rabbitmqctl start_app failed ({exc}); attempt {attempt} of 3", flush=True)
                if attempt == 3:
                    print(f"!! THE BROKER MAY STILL BE STOPPED: run `{' '.join(self.command)} start_app`", flush=True)
                    raise
                time.sleep(5)

    def close(self, keep=False):
        pass


NODE_NAMES = r"binhyen-rel-(\d+)-[0-9a-f]+(?:-\d+)?"   # this suite's nodes: binhyen-rel-<pid of the run>-...


class PrivateBroker(SharedBroker):
    """A RabbitMQ node of this run's own, on free ports, with its data in a temporary directory."""

    private = True
    unavailable = staticmethod(cluster.unavailable)

    def __init__(self):
        super().__init__()
        self.node = None
        self.description = "private node"

    @property
    def dir(self):
        return self.node.dir if self.node else None

    def start(self):
        cluster.reap_stale(NODE_NAMES)
        for attempt in (1, 2):  # a port taken between the check and the bind: once more, other ports
            self.node = cluster.Node(f"binhyen-rel-{os.getpid()}-{uuid.uuid4().hex[:6]}",
                                     tempfile.mkdtemp(prefix="binhyen-reliability-rabbitmq-"))
            self.command, self.description = self.node.command, f"private node {self.node.name}"
            try:
                self.node.start()
                self.amqp_base = self.node.uri()
                return
            except (RuntimeError, subprocess.SubprocessError):
                self.node.close(keep=False)
                if attempt == 2:
                    raise

    def close(self, keep=False):
        if self.node is not None:
            self.node.close(keep=keep)


class ClusterBroker(SharedBroker):
    """Three RabbitMQ nodes of this run's own, clustered (tools/cluster.py); the services get
    every node in AMQP_URI and declare quorum queues. The broker fault is then the loss of a
    node: the one leading most queues, and later another."""

    private = True
    unavailable = staticmethod(cluster.unavailable)
    env = {"RABBITMQ_QUEUE_TYPE": "quorum"}

    def __init__(self):
        super().__init__()
        self.cluster = cluster.Cluster(f"binhyen-rel-{os.getpid()}-{uuid.uuid4().hex[:6]}",
                                       directory=tempfile.mkdtemp(prefix="binhyen-reliability-cluster-"))
        self.dir = self.cluster.dir
        self.description = f"cluster of {len(self.cluster.nodes)} nodes ({self.cluster.prefix}-1..3), quorum queues"

    @property
    def command(self):
        return self.cluster.live().command   # any node that is up answers for the cluster

    @command.setter
    def command(self, value):
        pass

    def start(self):
        cluster.reap_stale(NODE_NAMES)
        self.cluster.start()
        self.amqp_base = self.cluster.uri()

    def close(self, keep=False):
        self.cluster.close(keep=keep)


# --- the sandbox ------------------------------------------------------------------------------------

# --- the load -------------------------------------------------------------------------------------

def marker(seq):
    """Letters only (digits could be taken for a phone number and redacted): rly + base 26."""
    letters = ""
    n = seq
    for _ in range(6):
        n, r = divmod(n, 26)
        letters = chr(97 + r) + letters
    return f"rly{letters}"


MARKER = re.compile(r"\brly[a-z]{6}\b")


class TipLoad:
    """Client threads POSTing tips at a steady total rate; every answer recorded."""

    def __init__(self, base_url, clients, rate, texts):
        self.url = f"{base_url}/api/v1/public/tips"
        self.clients = clients
        self.interval = clients / rate
        self.texts = texts
        self.records = []
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.stopping = threading.Event()
        self.threads = []

    def start(self):
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), name=f"tips-client-{n}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _client(self, n):
        session = requests.Session()
        next_at = time.monotonic() + random.random() * self.interval
        while not self.stopping.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self.stopping.wait(delay):
                break
            next_at = max(next_at + self.interval, time.monotonic())
            with self.lock:
                seq = next(self.counter)
            mark = marker(seq)
            text = f"{self.texts[seq % len(self.texts)]} (mã kiểm thử {mark})"
            # A different client address per request: the per-address limit (a brake on
            # floods from one address) must not refuse a load that stands for many citizens.
            headers = {"X-Forwarded-For": f"10.{(seq >> 16) & 255}.{(seq >> 8) & 255}.{seq & 255}",
                       "X-Request-ID": f"reliability-{mark}"}
            record = {"seq": seq, "marker": mark, "at": time.time(), "status": None, "tip_code": None,
                      "retry_after": None, "error": None}
            try:
                response = session.post(self.url, json={"text": text}, headers=headers, timeout=30)
                record["status"] = response.status_code
                record["retry_after"] = response.headers.get("Retry-After")
                if 200 <= response.status_code < 300:
                    try:
                        record["tip_code"] = response.json().get("tip_code")
                    except ValueError:
                        pass
            except requests.RequestException as exc:
                record["error"] = type(exc).__name__
                session.close()
                session = requests.Session()
            record["done"] = time.time()
            with self.lock:
                self.records.append(record)
        session.close()

    def sent(self):
        with self.lock:
            return len(self.records)


# --- HTTP helpers for the staff API -----------------------------------------------------------------

def api(method, url, token=None, body=None, expect=(200, 201), timeout=30):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(method, url, json=body, headers=headers, timeout=timeout)
    if response.status_code not in expect:
        raise RuntimeError(f"{method} {url} -> {response.status_code}: {response.text[:500]}")
    return response.json()


def login(base, username, password):
    return api("POST", f"{base}/api/v1/auth/token", body={"username": username, "password": password})["access_token"]


def ready(base, timeout):
    """Seconds until /readyz answered 200 (None: not within `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.25)
    return None


def gunicorn_workers(master_pid):
    """The pids of a process's children (Linux /proc)."""
    try:
        return [int(pid) for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]
    except OSError:
        pass
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master_pid:  # the field after the state is the parent's pid
            children.append(int(stat.parent.name))
    return children


# --- the run ----------------------------------------------------------------------------------------

class Run:
    def __init__(self, profile, broker_choice, workdir, clock, with_faults=True):
        self.p = profile
        self.broker_choice = broker_choice
        self.workdir = Path(workdir)
        self.log_dir = self.workdir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.wall0 = time.time() - clock.now()
        # A send in flight when notify is killed is answered by the sandbox a moment later; a
        # resend comes only after the lease (10 s), so this margin cannot hide a real repeat.
        self.in_flight = timedelta(seconds=profile["sandbox_latency_ms"] / 1000 + 3)
        self.faults = []          # {"step", "at" (UTC), "t", "recovered_s", ...}
        self.problems = []        # things that went wrong in the procedure itself
        self.exits = []           # processes that exited without being killed by the suite
        self.samples = []
        self.with_faults = with_faults
        self.publication_id = None
        self.expected = {}
        self.lock = threading.RLock()
        self.done = threading.Event()

    def fault(self, step, **fields):
        entry = {"step": step, "at": utc_now(), "t": self.clock.now(), **fields}
        self.faults.append(entry)
        return entry

    def recover(self, entry, timeout=90):
        took = ready(self.stack.url, timeout)
        entry["recovered_s"] = took
        if took is None:
            self.problems.append(f"/readyz not green {timeout:.0f} s after: {entry['step']}")
            self.clock.say(f"  /readyz still not green after {timeout:.0f} s")
        else:
            self.clock.say(f"  /readyz green again after {took:.1f} s")
        time.sleep(self.p["pause"])

    # --- what runs beside the faults -------------------------------------------------------------
    def supervise(self):
        """Restart a process that exits on its own, as `restart: unless-stopped` does in
        docker-compose.yml; each such exit is reported (it is a finding, not a planned fault)."""
        while not self.done.wait(0.5):
            with self.lock:
                for name, proc in list(self.stack.named.items()):
                    if proc.poll() is None:
                        continue
                    reason = self.exit_reason(name)
                    self.exits.append({"process": name, "code": proc.returncode, "t": round(self.clock.now(), 1),
                                       "reason": reason})
                    self.clock.say(f"!! {name} exited by itself (code {proc.returncode}): {reason}; restarting it, "
                                   "as docker compose (restart: unless-stopped) would")
                    try:
                        if name == "gateway":
                            self.stack.start_gateway()
                        elif name == "mongodb":
                            self.stack.start_mongodb()
                        else:
                            self.stack.start_service(name)
                    except Exception as exc:
                        self.problems.append(f"could not restart {name}: {exc}")

    def exit_reason(self, name):
        """The last fatal log entry of a process: its message and the last lines of its traceback."""
        try:
            lines = (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        for line in reversed(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") == "critical":
                exc = entry.get("exc") or ""
                frames = [f"{m.group(1).rsplit('/', 1)[-1]}:{m.group(2)} {m.group(3)}" for m in re.finditer(
                    r'File "([^"]+)", line (\d+), in (\S+)', exc) if "contextlib" not in m.group(1)]
                last = exc.strip().splitlines()[-1:] or [""]
                return f"{last[0]} in {' > '.join(frames[-5:])}"
        tail = [ln for ln in lines if ln.strip()][-1:]
        return tail[0][-300:] if tail else "no log"

    def sample(self):
        """One line of progress: tips acknowledged / stored / queued, the post's fan-out."""
        acked = len(self.acked_codes())
        try:
            stored = self.dbs["tips"].tips.estimated_document_count()
            terminal = self.dbs["notify"].deliveries.count_documents(
                {"publication_id": self.publication_id, "status": {"$in": sorted(TERMINAL)}}) \
                if self.publication_id else 0
        except pymongo.errors.PyMongoError:
            stored = terminal = "?"
        queued = self.queue_depths()[INTAKE_QUEUE]
        queued = "?" if queued is None else queued
        row = {"t": round(self.clock.now(), 1), "sent": self.load.sent(), "acked": acked, "stored": stored,
               "intake_queue": queued, "post_terminal": terminal}
        self.samples.append(row)
        return row

    def monitor(self):
        while not self.done.wait(self.p["sample_every"]):
            try:
                row = self.sample()
            except Exception as exc:  # the monitor must never stop the run
                self.clock.say(f"   (progress unavailable: {type(exc).__name__})")
                continue
            self.clock.say(f"   progress: tips sent {row['sent']:,}, acknowledged {row['acked']:,}, stored "
                           f"{row['stored']}, intake queue {row['intake_queue']}; post deliveries terminal "
                           f"{row['post_terminal']}/{len(self.expected)}")

    def kill_and_restart(self, name, start):
        with self.lock:  # the supervisor must not restart it in between
            self.stack.kill(name)
            start()

    # --- the procedure ---------------------------------------------------------------------------
    def execute(self):
        p, say = self.p, self.clock.say
        # --- the broker ---------------------------------------------------------------------
        broker_skip = None
        if self.broker_choice == "cluster":
            reason = ClusterBroker.unavailable()
            if reason is not None:
                raise SystemExit(f"--broker cluster: cannot start RabbitMQ nodes here: {reason}")
            self.broker = ClusterBroker()
        elif self.broker_choice == "private":
            reason = PrivateBroker.unavailable()
            if reason is None:
                self.broker = PrivateBroker()
            else:
                broker_skip = f"no private RabbitMQ node ({reason}): the shared broker is used and not stopped"
                self.broker = SharedBroker()
        else:
            self.broker = SharedBroker()
        say(f"broker: {self.broker.description}")
        self.broker.start()

        self.sandbox_proc, self.sandbox_url, smtp_url = start_sandbox(smtp=True,
                                                                      log_path=self.log_dir / "sandbox.log")
        requests.post(f"{self.sandbox_url}/_sandbox/config",
                      json={"channel": "*", "latency_ms": p["sandbox_latency_ms"]}, timeout=10).raise_for_status()
        env = {
            "SANDBOX_URL": self.sandbox_url, "FACEBOOK_GRAPH_URL": self.sandbox_url,
            "ZALO_OPENAPI_URL": self.sandbox_url, "YOUTUBE_API_URL": self.sandbox_url, "SMTP_URL": smtp_url,
            "FACEBOOK_PAGE_TOKEN": TOKEN, "ZALO_OA_TOKEN": TOKEN, "YOUTUBE_TOKEN": TOKEN,
            "PARTNER_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS), "OUTBOX_POLL_SECONDS": "0.2",
            "PUBLIC_TIPS_TRUSTED_PROXIES": "1", "LOG_LEVEL": "WARNING",
            **p["rates"], **self.broker.env,
        }
        self.stack = Stack(extra_env=env, amqp_base=self.broker.amqp_base, rabbitmqctl=self.broker.command,
                           log_dir=self.log_dir, vhost_prefix=f"{VHOST_PREFIX}{os.getpid()}-")
        self.stack.__enter__()
        base = self.stack.url
        prefix = self.stack.env["MONGODB_DB_PREFIX"]
        self.mongo = pymongo.MongoClient(self.stack.mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=5000)
        self.dbs = {name: self.mongo[f"{prefix}{name}"] for name in SERVICES}
        say(f"system up at {base} (vhost {self.stack.vhost}, MongoDB {self.stack.mongodb_uri})")
        threading.Thread(target=self.supervise, name="supervisor", daemon=True).start()

        # --- data: the directory, officers, a post approved and ready to publish -------------
        with self.stack.rpc() as rpc:
            loaded = rpc.groups.load_demo_data(p["scale"], DEMO_PASSWORD, self.sandbox_url)
            audience_spec = {"units": ["catp"], "channel_types": POST_TYPES}
            audience = rpc.groups.resolve_audience(audience_spec, None)
        self.expected = {c["id"]: c for c in audience["channels"]}
        say(f"{p['scale']} directory: {loaded['channels_total']} channels; the post's audience: "
            f"{len(self.expected)} {json.dumps(audience['by_type'])}")
        editor = login(base, "bientap", DEMO_PASSWORD)
        mod1 = login(base, "kiemduyet1", DEMO_PASSWORD)
        mod2 = login(base, "kiemduyet2", DEMO_PASSWORD)
        self.post_marker = f"rlypost{uuid.uuid4().hex[:8]}"
        post = api("POST", f"{base}/api/v1/posts", editor, {
            "kind": "warning", "title": f"Cảnh báo thủ đoạn lừa đảo qua mạng ({self.post_marker})",
            "body": "Công an tỉnh Ninh Bình khuyến cáo người dân không cung cấp mã OTP cho bất kỳ ai. "
                    "Khi cần, gọi 113.", "audience": audience_spec})
        api("POST", f"{base}/api/v1/posts/{post['id']}/submit", editor, {})
        api("POST", f"{base}/api/v1/posts/{post['id']}/approve", mod1, {})  # four eyes: not the author

        # --- load, then the faults ----------------------------------------------------------
        texts = [json.loads(line)["text"] for line in (ROOT / "data" / "tips-dev.jsonl").read_text().splitlines()]
        self.load = TipLoad(base, p["clients"], p["rate"], texts)
        self.load.start()
        threading.Thread(target=self.monitor, name="monitor", daemon=True).start()
        say(f"load: {p['clients']} clients, {p['rate']:.0f} tips/s in all")
        time.sleep(p["warmup"])

        published = api("POST", f"{base}/api/v1/posts/{post['id']}/publish", mod2, {})
        self.publication_id = published["publication_id"]
        self.fault("publish")
        say(f"post published (publication {self.publication_id}); waiting for its fan-out to start")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.dbs["notify"].deliveries.count_documents({"publication_id": self.publication_id}) >= \
                    len(self.expected):
                break
            time.sleep(0.2)
        say(f"  {self.dbs['notify'].deliveries.count_documents({'publication_id': self.publication_id})} "
            f"deliveries created")

        if not self.with_faults:
            say(f"no faults (baseline): {p['fault_seconds']:.0f} s of load")
            time.sleep(p["fault_seconds"])
        else:
            self.inject(broker_skip)

        time.sleep(p["tail"])
        self.load.stop()
        say(f"load stopped: {self.load.sent()} requests sent")
        self.settle()
        self.done.set()
        return self.check()

    def inject(self, broker_skip):
        p, say = self.p, self.clock.say
        if isinstance(self.broker, ClusterBroker):
            lost = self.lose_node()
            self.lose_node(avoid={lost})
        elif broker_skip:
            self.fault("rabbitmq restart", skipped=broker_skip)
            say(f"rabbitmq: skipped: {broker_skip}")
        else:
            entry = self.fault("rabbitmq restart", down_s=p["broker_down"])
            say(f"rabbitmq: stop_app, {p['broker_down']:.0f} s down")
            self.broker.stop_app()
            try:
                time.sleep(p["broker_down"])
            finally:
                self.broker.start_app()
            say("rabbitmq: start_app")
            self.recover(entry)

        for name in ("notify", "tips", "posts", "groups"):
            pending = self.dbs["notify"].deliveries.count_documents(
                {"publication_id": self.publication_id, "status": {"$nin": sorted(TERMINAL)}})
            entry = self.fault(f"SIGKILL {name}", fanout_unfinished=pending if name == "notify" else None)
            say(f"SIGKILL {name}" + (f" ({pending} deliveries of the post not yet terminal)"
                                     if name == "notify" else "") + "; restarting it")
            self.kill_and_restart(name, lambda: self.stack.start_service(name))
            self.recover(entry)

        workers = gunicorn_workers(self.stack.named["gateway"].pid)
        if workers:
            entry = self.fault("SIGKILL gateway worker", pid=workers[0])
            os.kill(workers[0], signal.SIGKILL)
            say(f"SIGKILL gunicorn worker {workers[0]} (its master starts another)")
            self.recover(entry)
        else:
            self.problems.append("no gunicorn worker found to kill")
        entry = self.fault("SIGKILL gateway master + workers")
        say("SIGKILL gunicorn master and its workers; restarting the gateway")
        self.kill_and_restart("gateway", self.stack.start_gateway)
        self.recover(entry)

        if self.stack.storage is None:
            self.fault("mongodb restart", skipped="MONGODB_URI is an external server")
            say("mongodb: skipped (MONGODB_URI is an external server)")
        else:
            entry = self.fault("mongodb restart")
            with self.lock:
                down = self.stack.restart_mongodb()
            entry["up_at"] = utc_now()
            entry["down_s"] = down
            say(f"mongodb: SecantusDB stopped and started again ({down:.1f} s without it)")
            self.recover(entry)

    def lose_node(self, avoid=()):
        """Stop the cluster node leading most of the run's quorum queues (not one in `avoid`) for
        `broker_down` seconds, then start it again; the system must keep serving meanwhile, on
        the other two. Returns the node's name."""
        p, say = self.p, self.clock.say
        leaders = self.broker.cluster.leaders(self.stack.vhost)
        candidates = [name for name, _n in leaders.most_common() if name not in avoid] + \
                     [node.name for node in self.broker.cluster.nodes if node.name not in avoid]
        node = self.broker.cluster.node(candidates[0])
        entry = self.fault(f"rabbitmq node {node.name.split('@')[0]} stopped", node=node.name,
                           leading=leaders.get(node.name, 0), queues=sum(leaders.values()), down_s=p["broker_down"])
        say(f"rabbitmq: stopping {node.name} (leader of {leaders.get(node.name, 0)} of the "
            f"{sum(leaders.values())} quorum queues), {p['broker_down']:.0f} s down")
        started = time.monotonic()
        node.stop()
        took = ready(self.stack.url, p["broker_down"])
        entry["ready_while_down_s"] = took
        say(f"  /readyz green on the other nodes after {took:.1f} s" if took is not None else
            f"  /readyz not green within {p['broker_down']:.0f} s on the other nodes")
        if took is None:
            self.problems.append(f"/readyz not green while {node.name} was down")
        time.sleep(max(0.0, p["broker_down"] - (time.monotonic() - started)))
        node.start()
        self.broker.cluster.await_member(node)
        say(f"rabbitmq: {node.name} started again and back in the cluster; leaders now "
            f"{dict(self.broker.cluster.leaders(self.stack.vhost))}")
        self.recover(entry)
        return node.name

    # --- settling and checking -------------------------------------------------------------------
    def backlog(self, older_than=0.0):
        """Outbox events not yet published, per service (only those written `older_than` s ago)."""
        query = {"sent_at": None}
        if older_than:
            query["created_at"] = {"$lt": utc_now() - timedelta(seconds=older_than)}
        return {name: db.outbox.count_documents(query) for name, db in self.dbs.items()}

    def queue_depths(self):
        """Messages waiting in the run's queues that hold work: tips' intake queue (tips
        acknowledged but not stored yet) and the dead-letter queue."""
        answer = ctl(self.broker.command, "list_queues", "-p", self.stack.vhost, "--no-table-headers", "name",
                     "messages", check=False)
        if answer.returncode != 0:
            return {INTAKE_QUEUE: None, DEAD_LETTER_QUEUE: None}
        depths = {}
        for line in answer.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                depths[parts[0]] = int(parts[1])
        return {name: depths.get(name, 0) for name in (INTAKE_QUEUE, DEAD_LETTER_QUEUE)}

    def acked_codes(self):
        return [r["tip_code"] for r in self.load.records
                if r["status"] is not None and 200 <= r["status"] < 300 and r["tip_code"]]

    def settle(self):
        """Wait (bounded) until the work the faults interrupted is done: every acknowledged tip
        stored (web tips wait in the intake queue), every delivery terminal, outboxes empty."""
        started = time.monotonic()
        codes = self.acked_codes()
        while True:
            try:
                statuses = Counter(d["status"] for d in self.dbs["notify"].deliveries.find(
                    {"publication_id": self.publication_id}, {"status": 1}))
                others = self.dbs["notify"].deliveries.count_documents(
                    {"publication_id": {"$ne": self.publication_id}, "status": {"$nin": sorted(TERMINAL)}})
                backlog = self.backlog()
                stored = self.dbs["tips"].tips.count_documents({"tip_code": {"$in": codes}})
            except pymongo.errors.PyMongoError:
                statuses, others, backlog, stored = Counter(), 1, {"?": 1}, 0
            queued = self.queue_depths()[INTAKE_QUEUE]
            open_ = sum(n for s, n in statuses.items() if s not in TERMINAL)
            done = (sum(statuses.values()) >= len(self.expected) and open_ == 0 and others == 0
                    and not any(backlog.values()) and queued == 0 and stored == len(codes))
            waited = time.monotonic() - started
            if done or waited > self.p["settle"]:
                self.settled_s = waited
                self.clock.say(f"settled in {waited:.1f} s" if done else
                               f"NOT settled after {waited:.0f} s: deliveries {dict(statuses)}, other open "
                               f"deliveries {others}, outbox {backlog}, intake queue {queued}, acknowledged tips "
                               f"stored {stored}/{len(codes)}")
                return done
            time.sleep(1)

    def check(self):
        records = self.load.records
        acked = [r for r in records if r["status"] is not None and 200 <= r["status"] < 300]
        s503 = [r for r in records if r["status"] == 503]
        other = [r for r in records if r not in acked and r["status"] != 503]
        other_kinds = Counter(str(r["status"]) if r["status"] is not None else r["error"] for r in other)

        stored = list(self.dbs["tips"].tips.find({}, {"tip_code": 1, "text": 1}))
        by_code = Counter(doc["tip_code"] for doc in stored)
        by_marker = defaultdict(list)
        for doc in stored:
            for mark in MARKER.findall(doc.get("text") or ""):
                by_marker[mark].append(doc["tip_code"])
        missing = [r for r in acked if not r["tip_code"] or by_code.get(r["tip_code"], 0) == 0]
        acked_twice = [r for r in acked if len(by_marker.get(r["marker"], [])) > 1 or by_code.get(r["tip_code"], 0) > 1]
        acked_markers = {r["marker"] for r in acked}
        unacked_stored = [r for r in records if r["marker"] not in acked_markers and by_marker.get(r["marker"])]
        unacked_twice = [r for r in records if r["marker"] not in acked_markers
                         and len(by_marker.get(r["marker"], [])) > 1]
        no_retry_after = [r for r in s503 if not r["retry_after"]]

        deliveries = list(self.dbs["notify"].deliveries.find({"publication_id": self.publication_id},
                                                               {"status": 1, "channel_id": 1, "channel": 1}))
        statuses = Counter(d["status"] for d in deliveries)
        non_terminal = [d for d in deliveries if d["status"] not in TERMINAL]
        without_delivery = sorted(set(self.expected) - {d["channel_id"] for d in deliveries})
        per_channel = Counter(d["channel_id"] for d in deliveries)
        other_open = self.dbs["notify"].deliveries.count_documents(
            {"publication_id": {"$ne": self.publication_id}, "status": {"$nin": sorted(TERMINAL)}})
        relay_tasks = Counter(t.get("delivery_id") for t in self.dbs["notify"].relay_tasks.find(
            {"publication_id": self.publication_id}, {"delivery_id": 1}))
        relay_twice = sum(1 for n in relay_tasks.values() if n > 1)

        received = requests.get(f"{self.sandbox_url}/_sandbox/received", timeout=60).json()["requests"]
        copies = defaultdict(list)   # (platform, channel) -> times the post was accepted
        for rec in received:
            if rec.get("outcome") == "ok" and self.post_marker in json.dumps(rec.get("body"), ensure_ascii=False):
                copies[(rec.get("platform"), rec.get("channel"))].append(datetime.fromisoformat(rec["at"]))
        duplicates = []
        for (platform, channel), times in copies.items():
            if len(times) > 1:
                times.sort()
                cause, why = self.explain(times[0], times[1])
                duplicates.append({"platform": platform, "channel": channel, "copies": len(times),
                                   "first": times[0], "second": times[1], "cause": cause, "why": why})
        unexplained = [d for d in duplicates if d["why"] is None]
        sent_channels = [d for d in deliveries if d["status"] == "sent"]
        never_received = [d for d in sent_channels if self.sandbox_key(d) not in copies]

        backlog = self.backlog(older_than=5.0)  # an event written this instant is not a backlog
        queues = self.queue_depths()
        with open(self.workdir / "requests.jsonl", "w") as out:  # kept with the logs when the run fails
            for r in records:
                out.write(json.dumps(dict(r, stored=by_marker.get(r["marker"], []),
                                          t=round(r["at"] - self.wall0, 2))) + "\n")
        result = {
            "profile": self.p["name"], "scale": self.p["scale"], "broker": self.broker.description,
            "audience": len(self.expected),
            "requests_sent": len(records), "acknowledged": len(acked), "status_503": len(s503),
            "status_503_without_retry_after": len(no_retry_after),
            "other_errors": len(other), "other_errors_by_kind": dict(other_kinds),
            "tips_stored": len(stored), "acknowledged_missing": len(missing),
            "acknowledged_stored_twice": len(acked_twice), "unacknowledged_stored": len(unacked_stored),
            "unacknowledged_stored_twice": len(unacked_twice),
            "deliveries_total": len(deliveries), "deliveries_by_status": dict(statuses),
            "deliveries_terminal": len(deliveries) - len(non_terminal), "deliveries_non_terminal": len(non_terminal),
            "channels_without_delivery": len(without_delivery),
            "channels_with_two_deliveries": sum(1 for n in per_channel.values() if n > 1),
            "other_deliveries_open": other_open, "relay_tasks_twice": relay_twice,
            "sent_but_never_received": len(never_received),
            "duplicate_channels": len(duplicates), "duplicate_extra_sends": sum(d["copies"] - 1 for d in duplicates),
            "duplicates_unexplained": len(unexplained),
            "duplicates": [{**d, "first": d["first"].isoformat(), "second": d["second"].isoformat()}
                           for d in duplicates],
            "outbox_backlog": backlog, "intake_queue": queues[INTAKE_QUEUE],
            "dead_letters": queues[DEAD_LETTER_QUEUE], "settled_s": round(self.settled_s, 1),
            "faults": [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in f.items()}
                       for f in self.faults],
            "problems": list(self.problems), "unplanned_exits": list(self.exits), "samples": list(self.samples),
            "with_faults": self.with_faults,
        }
        failures = []
        if missing:
            failures.append(f"{len(missing)} acknowledged tips not stored (intake queue {queues[INTAKE_QUEUE]}, "
                            f"dead letters {queues[DEAD_LETTER_QUEUE]}): "
                            f"{[r['tip_code'] or r['marker'] for r in missing[:10]]}")
        if acked_twice:
            failures.append(f"{len(acked_twice)} acknowledged tips stored more than once: "
                            f"{[(r['marker'], by_marker.get(r['marker'])) for r in acked_twice[:10]]}")
        if non_terminal:
            failures.append(f"{len(non_terminal)} deliveries not terminal: "
                            f"{dict(Counter(d['status'] for d in non_terminal))}")
        if without_delivery:
            failures.append(f"{len(without_delivery)} channels of the audience got no delivery: {without_delivery[:10]}")
        if other_open:
            failures.append(f"{other_open} other deliveries (alerts, events) not terminal")
        if any(backlog.values()):
            failures.append(f"outbox not drained: {backlog}")
        if unexplained:
            failures.append(f"{len(unexplained)} channels got the post twice with no fault to explain it: "
                            f"{[(d['platform'], d['channel']) for d in unexplained[:10]]}")
        if never_received:
            failures.append(f"{len(never_received)} deliveries are 'sent' but the sandbox never accepted them")
        if no_retry_after:
            failures.append(f"{len(no_retry_after)} answers 503 without Retry-After")
        failures += self.problems
        result["failures"] = failures
        result["passed"] = not failures
        return result

    @staticmethod
    def sandbox_key(delivery):
        channel = delivery.get("channel") or {}
        kind = channel.get("type")
        external = channel.get("external_id") or ""
        if kind == "facebook_page":
            return ("facebook", external)
        if kind == "zalo_oa_group":
            return ("zalo", external)
        if kind == "webhook":
            return ("webhook", external.rstrip("/").rsplit("/", 1)[-1])
        return (kind, external)

    def explain(self, first, second):
        """Which fault explains a channel getting the post at `first` and again at `second`."""
        for fault in self.faults:
            # `first` is when the sandbox answered: a send in flight at the kill is answered a
            # moment after it (the sandbox's latency), and still counts as sent.
            if fault["step"] == "SIGKILL notify" and first <= fault["at"] + self.in_flight and fault["at"] < second:
                return "notify SIGKILL", (f"sent just before notify was SIGKILLed (+{fault['t']:.1f} s), so never "
                                          f"recorded; sent again when the claim's {LEASE_SECONDS} s lease ran out")
            if fault["step"] == "mongodb restart" and "up_at" in fault \
                    and first <= fault["up_at"] + self.in_flight and second >= fault["at"]:
                return "MongoDB restart", (f"sent while MongoDB was restarting (+{fault['t']:.1f} s): the outcome "
                                           f"could not be recorded before the {LEASE_SECONDS} s lease ran out")
        return None, None

    def close(self, keep_logs=False):
        self.done.set()  # the supervisor restarts nothing from here on
        load = getattr(self, "load", None)
        if load is not None:
            load.stopping.set()
        with self.lock:
            pass
        if getattr(self, "mongo", None) is not None:
            self.mongo.close()
        if getattr(self, "stack", None) is not None:
            self.stack.__exit__(None, None, None)
        proc = getattr(self, "sandbox_proc", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if getattr(self, "broker", None) is not None:
            self.broker.close(keep=keep_logs)


# --- the table --------------------------------------------------------------------------------------

def table(result, elapsed):
    r = result
    by_status = ", ".join(f"{k} {v:,}" for k, v in sorted(r["deliveries_by_status"].items()))
    other_kinds = ", ".join(f"{k}: {v}" for k, v in sorted(r["other_errors_by_kind"].items())) or "-"
    backlog = ", ".join(f"{k} {v}" for k, v in r["outbox_backlog"].items())
    why = Counter(d["cause"] or "UNEXPLAINED" for d in r["duplicates"])
    rows = [
        ("requests sent", r["requests_sent"], ""),
        ("acknowledged (2xx)", r["acknowledged"], ""),
        ("503 (with Retry-After)", r["status_503"], f"{r['status_503_without_retry_after']} without Retry-After"
         if r["status_503_without_retry_after"] else ""),
        ("other errors", r["other_errors"], other_kinds),
        ("tips stored", r["tips_stored"], f"{r['unacknowledged_stored']} of them from requests not acknowledged"),
        ("acknowledged but missing", r["acknowledged_missing"], ""),
        ("acknowledged, stored twice", r["acknowledged_stored_twice"],
         f"not acknowledged, stored twice: {r['unacknowledged_stored_twice']}"),
        ("deliveries of the post", r["deliveries_total"], f"audience {r['audience']:,} channels"),
        ("deliveries terminal", r["deliveries_terminal"], by_status),
        ("deliveries non-terminal", r["deliveries_non_terminal"], ""),
        ("duplicate sends", r["duplicate_extra_sends"],
         f"{r['duplicate_channels']} channels: " + ", ".join(f"{k} {v}" for k, v in why.items()) if why else ""),
        ("outbox backlog", sum(r["outbox_backlog"].values()), backlog),
        ("intake queue / dead letters", r["intake_queue"], f"dead letters {r['dead_letters']}"),
        ("unplanned process exits", len(r["unplanned_exits"]),
         ", ".join(f"{e['process']} (code {e['code']}) at +{e['t']} s" for e in r["unplanned_exits"])),
    ]
    exits = [f"    exit of {e['process']}: {e['reason']}" for e in r["unplanned_exits"]]
    lines = [f"reliability ({r['profile']}{'' if r['with_faults'] else ', BASELINE: no faults'}): "
             f"{r['scale']} audience, broker {r['broker']}, "
             f"{elapsed:.0f} s in all, settled {r['settled_s']} s after the load stopped"]
    skipped = [f"{f['step']} SKIPPED ({f['skipped']})" for f in r["faults"] if f.get("skipped")]
    if not r["with_faults"]:
        lines.append("  no faults injected: a baseline")
    elif skipped:
        lines.append("  " + "; ".join(skipped))
    for label, value, note in rows:
        shown = f"{value:>7,}" if isinstance(value, int) else f"{'?' if value is None else value:>7}"
        lines.append(f"  {label:30} {shown}   {note}".rstrip())
    by_why = defaultdict(list)
    for d in r["duplicates"]:
        absorbed = " (same webhook-id: the partner drops the repeat)" if d["platform"] == "webhook" else ""
        by_why[(d["why"] or "NO FAULT EXPLAINS IT") + absorbed].append(f"{d['platform']} {d['channel']}")
    for why, channels in by_why.items():
        shown = ", ".join(channels[:4]) + (f" and {len(channels) - 4} more" if len(channels) > 4 else "")
        lines.append(f"    twice: {shown}: {why}")
    lines += exits
    lines.append("  result: " + ("PASS" if r["passed"] else "FAIL"))
    for failure in r["failures"]:
        lines.append(f"    - {failure}")
    return "\n".join(lines)


def run(profile_name="full", broker=None, keep_logs=False, with_faults=True):
    """Run the suite; returns (result dict, table text). Cleans up whatever it started."""
    profile = dict(PROFILES[profile_name], name=profile_name)
    clock = Clock()
    workdir = Path(tempfile.mkdtemp(prefix="binhyen-reliability-"))
    runner = Run(profile, broker or profile["broker"], workdir, clock, with_faults)
    result, failed = None, True
    try:
        result = runner.execute()
        failed = not result["passed"]
    finally:
        runner.close(keep_logs=failed or keep_logs)
        if failed or keep_logs:
            broker_dir = getattr(getattr(runner, "broker", None), "dir", None)
            print(f"logs kept in {runner.log_dir}" + (f" and {broker_dir}/log" if broker_dir else ""), flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return result, table(result, clock.now())


def main(argv=None):
    parser = argparse.ArgumentParser(description="Bình Yên reliability suite (faults under load)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--full", dest="profile", action="store_const", const="full",
                      help="province audience, 15 s broker outage (the default)")
    form.add_argument("--reduced", dest="profile", action="store_const", const="reduced",
                      help="city audience, 5 s broker outage on a private node: what the test suite runs")
    parser.add_argument("--broker", choices=["shared", "private", "cluster"],
                        help="stop the RabbitMQ at AMQP_URI (shared) or a node of the run's own (private); or "
                             "run on a three-node cluster of its own with quorum queues and stop two of its "
                             "nodes in turn (cluster)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep every process's log")
    parser.add_argument("--no-faults", action="store_true",
                        help="the same load and publication without any fault: a baseline to compare with")
    args = parser.parse_args(argv)

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)  # runs the clean-up (finally) on SIGTERM too

    signal.signal(signal.SIGTERM, terminate)
    result, text = run(args.profile or "full", args.broker, args.keep_logs, not args.no_faults)
    print(text, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
