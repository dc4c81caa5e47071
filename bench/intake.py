"""Tip intake through the gateway, beside the ceiling of the same gunicorn setup, and how
fast the tips service stores what was accepted.

    .venv/bin/python bench/intake.py [--seconds 15] [--clients 32] [--drain-seconds 120]

Starts the whole system (bench/stack.py), then for each target sends POST
/api/v1/public/tips from `clients` concurrent keep-alive connections for `seconds`:
  ceiling  the same gunicorn config serving one confirmed publish per request: first on an
           otherwise idle system, and again ("busy") after the intake if the tips service
           is still storing its backlog, as it was during the intake
  intake   the real endpoint: validation (schema and domain rules), code and secret, one
           confirmed persistent publish to the intake queue, 202 (durably queued, not stored)
Prints accepted/s, p50/p99 latency and intake as a share of the ceiling. A 202 is only
half the work, so it also prints the drain: tips stored per second by the tips service
from the start of the load (it takes the queue meanwhile, on the same cores; the warm-up's
tips are in the queue too), how many were queued when the load stopped and how long they
took to be stored (waiting at most `drain-seconds`), and the time from acceptance to
stored-and-triaged (p50/p90/p99) of the tips stored by then. The per-client rate limit is
switched off for the run (PUBLIC_TIPS_PER_MINUTE=0).
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack, free_port  # noqa: E402

TEXTS = [json.loads(line)["text"] for line in
         (Path(__file__).resolve().parent.parent / "data" / "tips-dev.jsonl").read_text().splitlines()]


def load(port, seconds, clients):
    latencies, statuses = [], {}
    deadline = time.monotonic() + seconds

    def client(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n
        while time.monotonic() < deadline:
            body = json.dumps({"text": TEXTS[i % len(TEXTS)]})
            i += clients
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/public/tips", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = "error"
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    pool = eventlet.GreenPool(clients)
    started = time.monotonic()
    for n in range(clients):
        pool.spawn(client, n)
    pool.waitall()
    elapsed = time.monotonic() - started
    accepted = statuses.get(202, 0)
    ordered = sorted(latencies) or [0]
    return {"sent": len(latencies), "accepted": accepted, "per_second": accepted / elapsed,
            "p50_ms": statistics.median(ordered) * 1000, "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "other": {str(k): v for k, v in statuses.items() if k != 202}}


class StoredTips:
    """Counts the tips in the tips database every 0.2 s: samples [(monotonic time, count)]."""

    def __init__(self, stack):
        import pymongo
        self.collection = pymongo.MongoClient(stack.mongodb_uri)[f"{stack.env['MONGODB_DB_PREFIX']}tips"].tips
        self.samples = []
        self.stopping = False

    def start(self):
        eventlet.spawn(self.run)

    def run(self):
        while not self.stopping:
            self.samples.append((time.monotonic(), self.collection.count_documents({})))
            time.sleep(0.2)

    def count_at(self, moment):
        return max([n for t, n in self.samples if t <= moment] or [0])

    def reached(self, count, after):
        return next((t for t, n in self.samples if t >= after and n >= count), None)


def drain(stored, started, ended, accepted, timeout):
    """Tips stored per second from the start of the load until the last accepted tip is
    stored, or until `timeout` seconds after the load ended (then the rate so far)."""
    deadline = ended + timeout
    while stored.reached(accepted, started) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    before, done = stored.count_at(started), stored.reached(accepted, started)
    last_at, last = (done, accepted) if done is not None else stored.samples[-1]
    rate = (last - before) / (last_at - started)
    return {"per_second": rate, "stored": last - before, "queued_at_end": accepted - stored.count_at(ended),
            "backlog_seconds": None if done is None else max(0.0, done - ended),
            "still_queued": accepted - last, "waited": last_at - ended}


def ceiling_run(stack, seconds, clients):
    port = free_port()
    proc = stack.gunicorn("bench.ceiling_app:app", port)
    try:
        time.sleep(3)  # gunicorn up; the warm-up below absorbs the rest
        load(port, 3, clients)
        return load(port, seconds, clients)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def measure(seconds=15, clients=32, drain_seconds=120):
    with Stack(extra_env={"PUBLIC_TIPS_PER_MINUTE": "0"}) as stack:
        with stack.rpc() as rpc:
            rpc.groups.load_demo_data("city", None, "http://127.0.0.1:8900")
        ceiling = ceiling_run(stack, seconds, clients)  # on an otherwise idle system
        stored = StoredTips(stack)
        stored.start()
        warm = load(stack.port, 3, clients)  # warm up: connections, pools, caches
        started = time.monotonic()
        intake = load(stack.port, seconds, clients)
        ended = time.monotonic()
        drained = drain(stored, started, ended, warm["accepted"] + intake["accepted"], drain_seconds)
        # The intake shared the cores with the tips service storing the queue; so does this one.
        busy = ceiling_run(stack, seconds, clients) if drained["backlog_seconds"] is None else None
        stored.stopping = True
        with stack.rpc() as rpc:
            stats = rpc.tips.tip_stats({"id": "bench", "roles": ["admin"], "unit_id": None}, {})
    return {"intake": intake, "ceiling": ceiling, "ratio": intake["per_second"] / ceiling["per_second"],
            "ceiling_busy": busy, "drain": drained, "stored": stats}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--drain-seconds", type=float, default=120,
                        help="how long to wait after the load for the queue to be stored")
    args = parser.parse_args()
    result = measure(args.seconds, args.clients, args.drain_seconds)
    print(f"{'target':14} {'accepted/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'sent':>7} {'other':>10}")
    rows = [("intake", "intake"), ("ceiling", "ceiling"), ("ceiling_busy", "ceiling, busy")]
    for key, name in rows:
        r = result[key]
        if r is not None:
            print(f"{name:14} {r['per_second']:11.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['sent']:7d} "
                  f"{json.dumps(r['other']):>10}")
    print(f"intake / ceiling = {result['ratio']:.2f}   (ceiling measured on an idle system)")
    if result["ceiling_busy"] is not None:
        print(f"intake / ceiling, busy = {result['intake']['per_second'] / result['ceiling_busy']['per_second']:.2f}"
              "   (ceiling measured while the tips service stores the queue, as during the intake)")
    d = result["drain"]
    if d["backlog_seconds"] is None:
        backlog = (f"{d['still_queued']} still queued {d['waited']:.0f} s later (about "
                   f"{d['still_queued'] / max(d['per_second'], 0.01):.0f} s more at this rate)")
    else:
        backlog = f"all stored {d['backlog_seconds']:.1f} s after the load"
    print(f"drain: {d['per_second']:.1f} tips stored/s ({d['stored']} stored from the start of the load); "
          f"{d['queued_at_end']} queued when the load stopped, {backlog}")
    lag = result["stored"]["time_to_triage_seconds"]
    print(f"accepted -> stored and triaged, s: p50 {lag['p50']:.1f}  p90 {lag['p90']:.1f}  p99 {lag['p99']:.1f} "
          f"(the {lag['count']} tips stored by then)")


if __name__ == "__main__":
    main()
