"""Fan-out of one post to the province-scale channel set by ONE notify process.

    .venv/bin/python bench/fanout.py [--latency-ms 100] [--concurrency 200] [--sample 50]

Starts everything as its own process, as `make run` would: a SecantusDB server (or uses
MONGODB_URI), a RabbitMQ vhost of its own (rabbitmqctl), the sandbox channel server
answering every request after --latency-ms, the groups service and one notify process.
Loads the province demo directory (88 fanpages, 1,283 Zalo groups of which every fifth is
an ordinary group relayed by hand, 27 partner webhooks), publishes one `posts.published`
to all of them, and measures:
  * deliveries/s: channels reached (request answered by the sandbox, or relay task created)
    per second from publish to the last one; and the rate at which the outcomes are recorded
  * p50 / p99 time from publish to delivery
  * a naive sequential loop (the same adapters, one send at a time) on a sample, extrapolated
  * Apprise (the optional `bench` extra): one apprise.notify() to as many json:// endpoints
    of the same sandbox (bench/apprise_fanout.py)
  * CPU milliseconds per delivery of each process, and the database's work by collection
The token-bucket rates are lifted (RATE_*=100000): Zalo allows one OA token about 10
messages/s, which alone would stretch 1,026 OA groups over ~100 s; this measures the engine.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymongo  # noqa: E402

from bench.stack import free_port, start_sandbox  # noqa: E402
from service_runtime.config import with_vhost  # noqa: E402

TOKEN = "bench-token-" + "x" * 20
SECRET = "whsec_" + base64.b64encode(b"bench-partner-secret-0123456789").decode()
TYPES = ["facebook_page", "zalo_oa_group", "zalo_group_manual", "webhook"]
DONE = {"sent", "relay_pending", "failed", "dead"}


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def http(method, url, body=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def cpu_seconds(proc):
    """User + system CPU time a process has used so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def database_top(client, prefix):
    """{collection: {section: (count, microseconds)}} of the `top` command for this run's databases:
    where the database server's time goes (SecantusDB keeps these counters; a real mongod too)."""
    try:
        totals = client.admin.command("top")["totals"]
    except pymongo.errors.PyMongoError:
        return {}
    return {ns[len(prefix):]: {section: (value["count"], value["time"]) for section, value in sections.items()}
            for ns, sections in totals.items() if ns.startswith(prefix) and isinstance(sections, dict)}


def top_delta(before, after):
    """Per collection: commands and server milliseconds by kind of operation, over the run."""
    rows = []
    for ns, sections in sorted(after.items()):
        parts = []
        for section in ("insert", "update", "queries", "getmore", "remove", "commands"):
            count, micros = sections.get(section, (0, 0))
            count0, micros0 = before.get(ns, {}).get(section, (0, 0))
            if count > count0:
                parts.append(f"{section} {count - count0}x {(micros - micros0) / 1000:.0f} ms")
        if parts:
            rows.append(f"{ns}: " + ", ".join(parts))
    return rows


def apprise_fanout(sandbox_url, channels):
    """bench/apprise_fanout.py in a process of its own (no eventlet), against the same sandbox."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "apprise_fanout.py"), "--sandbox", sandbox_url,
                           "--channels", str(channels)], capture_output=True, text=True, timeout=900)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (done.stderr or done.stdout).strip()[-300:]}


def start_mongodb(tmp):
    if os.environ.get("MONGODB_URI"):
        return os.environ["MONGODB_URI"], None
    port = free_port()
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "secantusd-py"), "--host", "127.0.0.1", "--port", str(port),
                             "--storage-path", str(tmp / "mongo"), "--log-level", "ERROR"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=500)
    for _ in range(100):
        try:
            client.admin.command("ping")
            return uri, proc
        except pymongo.errors.PyMongoError:
            time.sleep(0.3)
    raise SystemExit("SecantusDB did not start")


def main():
    parser = argparse.ArgumentParser(description="notify fan-out benchmark (province scale)")
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--sample", type=int, default=50, help="deliveries sent by the naive sequential loop")
    args = parser.parse_args()
    measure(args.latency_ms, args.concurrency, args.sample, verbose=True)
    return 0


def measure(latency_ms=100.0, concurrency=200, sample_size=50, verbose=False):
    """Run the fan-out once; returns {per_second, p50_s, p99_s, naive_per_second, cpu_seconds, ...}."""
    args = argparse.Namespace(latency_ms=latency_ms, concurrency=concurrency, sample=sample_size)
    say = print if verbose else (lambda *a, **k: None)
    amqp_base = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    tmp = Path(tempfile.mkdtemp(prefix="binhyen-fanout-"))
    vhost = f"binhyen-bench-{uuid.uuid4().hex[:8]}"
    procs = []
    mongo_proc = None
    try:
        mongo_uri, mongo_proc = start_mongodb(tmp)
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                       capture_output=True)
        amqp_uri = with_vhost(amqp_base, vhost)
        sandbox_proc, sandbox_url, _ = start_sandbox()
        procs.append(sandbox_proc)
        http("POST", f"{sandbox_url}/_sandbox/config", {"channel": "*", "latency_ms": args.latency_ms})
        prefix = f"bench{uuid.uuid4().hex[:6]}_"
        channel_env = {
            "FACEBOOK_GRAPH_URL": sandbox_url, "ZALO_OPENAPI_URL": sandbox_url, "YOUTUBE_API_URL": sandbox_url,
            "FACEBOOK_PAGE_TOKEN": TOKEN, "ZALO_OA_TOKEN": TOKEN, "YOUTUBE_TOKEN": TOKEN,
            "PARTNER_WEBHOOK_SECRET": SECRET, "HTTP_POOL_SIZE": str(args.concurrency),
            "RATE_FACEBOOK_PAGE": "100000", "RATE_ZALO_OA_GROUP": "100000", "RATE_WEBHOOK": "100000"}
        os.environ.update(channel_env)  # the naive loop below uses the same adapters here
        env = dict(os.environ, AMQP_URI=amqp_uri, MONGODB_URI=mongo_uri, MONGODB_DB_PREFIX=prefix,
                   PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", OUTBOX_POLL_SECONDS="0.1",
                   DELIVERY_CONCURRENCY=str(args.concurrency), DELIVERY_POLL_SECONDS="0.1", **channel_env)
        for name in ("groups", "notify"):
            procs.append(subprocess.Popen([sys.executable, "-m", "service_runtime.run", name], cwd=ROOT,
                                          env=dict(env, SERVICE_NAME=name),
                                          stdout=open(tmp / f"{name}.log", "ab"), stderr=subprocess.STDOUT))

        from nameko.standalone.rpc import ClusterRpcProxy
        import contracts.rpc  # noqa: F401
        from contracts.events import make_event
        from nameko.amqp.publish import Publisher
        from service_runtime.outbox import events_exchange
        from service_runtime.config import service_config
        config = service_config(AMQP_URI=amqp_uri, MONGODB_URI=mongo_uri, MONGODB_DB_PREFIX=prefix)
        db = pymongo.MongoClient(mongo_uri, tz_aware=True)[f"{prefix}notify"]
        with ClusterRpcProxy(config, timeout=120) as rpc:
            for _ in range(120):
                try:
                    rpc.groups.health()
                    rpc.notify.health()
                    break
                except Exception:
                    time.sleep(0.5)
            loaded = rpc.groups.load_demo_data("province", None, sandbox_url)
            audience = rpc.groups.resolve_audience({"units": ["catp"], "channel_types": TYPES}, None)
            channels = audience["channels"]
            say(f"province directory: {loaded['channels_total']} channels; audience {len(channels)}: "
                  f"{json.dumps(audience['by_type'])}", flush=True)
            time.sleep(2)  # notify's consumer queue is bound once it answers health; its engine is running
            # Loading the directory left groups with an event per channel to publish: measured
            # during the fan-out, the database's work on that backlog would count as notify's.
            groups_outbox = db.client[f"{prefix}groups"].outbox
            for _ in range(600):
                if not groups_outbox.count_documents({"sent_at": None}):
                    break
                time.sleep(0.1)

            data = {"post_id": "bench-post", "publication_id": uuid.uuid4().hex, "kind": "warning",
                    "title": "Cảnh báo thủ đoạn lừa đảo mới",
                    "body": "Công an tỉnh Ninh Bình khuyến cáo người dân cảnh giác. Gọi 113 khi cần.",
                    "channel_overrides": {}, "media": [], "audience": {"units": ["catp"], "channel_types": TYPES},
                    "unit": "catp", "published_at": datetime.now().astimezone().isoformat(), "version": 3,
                    "wanted": None}
            envelope = make_event("posts.published", data, producer="posts")
            watched = {"database": mongo_proc, "sandbox": sandbox_proc, "notify": procs[-1], "groups": procs[-2]}
            cpu_before = {name: cpu_seconds(p) for name, p in watched.items() if p is not None}
            top_before = database_top(db.client, prefix)
            t0 = time.time()
            Publisher(amqp_uri, use_confirms=True, serializer="json").publish(
                envelope, exchange=events_exchange("posts"), routing_key="posts.published")
            pid = data["publication_id"]
            deadline = time.time() + 600
            # Watch the engine's own count, not the database: querying the deliveries this
            # often would load the very server the engine is measured against.
            while time.time() < deadline and rpc.notify.engine_stats()["recorded"] < len(channels):
                time.sleep(0.1)
            recorded_at = time.time()
            cpu_used = {name: cpu_seconds(watched[name]) - before for name, before in cpu_before.items()
                        if before is not None}
            stats = rpc.notify.engine_stats()
            top_after = database_top(db.client, prefix)
        statuses = Counter(d["status"] for d in db.deliveries.find({"publication_id": pid}, {"status": 1}))

        # when each channel was reached: the sandbox's answer, or the relay task's creation
        records = http("GET", f"{sandbox_url}/_sandbox/received")["requests"]
        reached = [datetime.fromisoformat(r["at"]).timestamp() - t0 for r in records if r["outcome"] == "ok"]
        reached += [t["created_at"].timestamp() - t0 for t in db.relay_tasks.find({"publication_id": pid})]
        n = len(reached)
        span = max(reached)
        say(f"\nfan-out of 1 post to {len(channels)} channels by one notify process "
              f"(concurrency {args.concurrency}, sandbox latency {args.latency_ms:.0f} ms):")
        say(f"  reached        {n} channels in {span:.2f} s  -> {n / span:.0f} deliveries/s")
        say(f"  recorded       all {sum(statuses.values())} deliveries settled in {recorded_at - t0:.2f} s "
              f"-> {len(channels) / (recorded_at - t0):.0f} deliveries/s  {dict(statuses)}")
        say(f"  publish->delivery  p50 {percentile(reached, 50):.2f} s   p99 {percentile(reached, 99):.2f} s")
        say(f"  engine stats   {stats}")
        if cpu_used:
            say("  cpu seconds    " + ", ".join(f"{name} {used:.1f}" for name, used in cpu_used.items())
                  + f"  (of {os.cpu_count()} cores x {recorded_at - t0:.1f} s)")
            say("  cpu ms per delivery  " + ", ".join(f"{name} {used * 1000 / len(channels):.2f}"
                                                     for name, used in cpu_used.items()))
        for row in top_delta(top_before, top_after):
            say(f"  database       {row}")

        # the naive loop: same adapters, one at a time
        from services.notify import domain
        from services.notify.adapters import adapter_for_channel
        sample = [c for c in channels if c["type"] != "zalo_group_manual"][::max(1, len(channels) // args.sample)]
        sample = sample[:args.sample]
        publication = {"kind": "post", "title": data["title"], "body": data["body"], "channel_overrides": {},
                       "envelope": envelope}
        started = time.time()
        for channel in sample:
            adapter_for_channel(channel).send(channel, domain.message_for(channel, publication))
        naive_rate = len(sample) / (time.time() - started)
        engine_rate = n / span
        say(f"  naive loop     {len(sample)} sends one at a time: {naive_rate:.1f} deliveries/s "
              f"-> {len(channels) / naive_rate:.0f} s for the whole fan-out (extrapolated)")
        say(f"  ratio          engine / naive = {engine_rate / naive_rate:.0f}x")
        apprise = apprise_fanout(sandbox_url, len(channels))
        if "per_second" in apprise:
            say(f"  Apprise {apprise['apprise']}    one notify() to {apprise['channels']} json:// endpoints: "
                f"{apprise['per_second']:.0f} deliveries/s ({apprise['seconds']:.1f} s)")
            say(f"  ratio          engine / Apprise = {engine_rate / apprise['per_second']:.1f}x")
        else:
            say(f"  Apprise        not measured: {apprise.get('error')}")
        return {"channels": len(channels), "per_second": engine_rate, "p50_s": percentile(reached, 50),
                "p99_s": percentile(reached, 99), "naive_per_second": naive_rate, "cpu_seconds": cpu_used,
                "cpu_ms_per_delivery": {name: used * 1000 / len(channels) for name, used in cpu_used.items()},
                "recorded_per_second": len(channels) / (recorded_at - t0),
                "apprise_per_second": apprise.get("per_second")}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if mongo_proc is not None:
            mongo_proc.terminate()
            try:
                mongo_proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                mongo_proc.kill()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
