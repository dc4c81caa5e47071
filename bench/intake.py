"""Tip intake through the gateway, beside the ceiling of the same gunicorn setup.

    .venv/bin/python bench/intake.py [--seconds 15] [--clients 32]

Starts the whole system (bench/stack.py), then for each target sends POST
/api/v1/public/tips from `clients` concurrent keep-alive connections for `seconds`:
  intake   the real endpoint: validation, RPC to tips, triage, routing, one MongoDB
           transaction (tip + vault + outbox events), 202 after commit
  ceiling  the same gunicorn config serving one confirmed publish per request
Prints accepted/s, p50/p99 latency and intake as a share of the ceiling. The per-client
rate limit is switched off for the run (PUBLIC_TIPS_PER_MINUTE=0).
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


def measure(seconds=15, clients=32):
    with Stack(extra_env={"PUBLIC_TIPS_PER_MINUTE": "0"}) as stack:
        with stack.rpc() as rpc:
            rpc.groups.load_demo_data("city", None, "http://127.0.0.1:8900")
        load(stack.port, 3, clients)  # warm up: connections, pools, caches
        intake = load(stack.port, seconds, clients)
        with stack.rpc() as rpc:
            stored = rpc.tips.tip_stats({"id": "bench", "roles": ["admin"], "unit_id": None}, {})
        port = free_port()
        ceiling_proc = stack.gunicorn("bench.ceiling_app:app", port)
        try:
            time.sleep(3)  # gunicorn up; the warm-up below absorbs the rest
            load(port, 3, clients)
            ceiling = load(port, seconds, clients)
        finally:
            ceiling_proc.terminate()
            ceiling_proc.wait(timeout=20)
    return {"intake": intake, "ceiling": ceiling, "ratio": intake["per_second"] / ceiling["per_second"],
            "stored": stored}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    result = measure(args.seconds, args.clients)
    print(f"{'target':10} {'accepted/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'sent':>7} {'other':>10}")
    for name in ("intake", "ceiling"):
        r = result[name]
        print(f"{name:10} {r['per_second']:11.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['sent']:7d} "
              f"{json.dumps(r['other']):>10}")
    print(f"intake / ceiling = {result['ratio']:.2f}")


if __name__ == "__main__":
    main()
