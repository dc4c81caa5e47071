"""How many requests/s the sandbox channel server sustains with 100 ms injected latency.

It must never be the bottleneck of the notify fan-out benchmark: with 100 ms per answer,
500 requests/s means 50+ requests in flight at once.

    .venv/bin/python bench/sandbox_throughput.py [--clients 200] [--seconds 10] [--latency-ms 100]

Starts `python -m sandbox.server` as its own process (as `make run` would), then N green
clients with keep-alive connections post a mix of Graph feed posts, Zalo group messages and
webhooks for the given time. Prints requests/s, the mean in flight and latency percentiles.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode, urlsplit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import start_sandbox  # noqa: E402


def requests_for(i):
    """(method, path, body, headers) of the i-th request: a mix of the platforms."""
    kind = i % 3
    if kind == 0:
        return ("POST", f"/v19.0/{100000000000000 + i % 88}/feed",
                urlencode({"message": "Cảnh báo lừa đảo", "access_token": "bench"}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})
    if kind == 1:
        body = {"recipient": {"group_id": f"zg{1000000 + i % 1283}"}, "message": {"text": "Cảnh báo lừa đảo"}}
        return ("POST", "/v3.0/oa/group/message", json.dumps(body).encode(),
                {"Content-Type": "application/json", "access_token": "bench"})
    return ("POST", f"/webhooks/partner-{i % 27}", json.dumps({"id": str(i), "type": "posts.published"}).encode(),
            {"Content-Type": "application/json"})


def control(host, port, method, path, body=None):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                 headers={"Content-Type": "application/json"})
    answer = conn.getresponse().read()
    conn.close()
    return json.loads(answer)


def client(host, port, deadline, start_index, step, latencies, errors):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    i = start_index
    while time.monotonic() < deadline:
        method, path, body, headers = requests_for(i)
        began = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                latencies.append(time.monotonic() - began)
            else:
                errors.append(response.status)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        i += step
    conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--latency-ms", type=float, default=100)
    args = parser.parse_args()

    proc, url, _ = start_sandbox()
    host, port = urlsplit(url).hostname, urlsplit(url).port
    try:
        control(host, port, "POST", "/_sandbox/config", {"channel": "*", "latency_ms": args.latency_ms})
        latencies, errors = [], []
        began = time.monotonic()
        deadline = began + args.seconds
        pool = eventlet.GreenPool(args.clients)
        for n in range(args.clients):
            pool.spawn_n(client, host, port, deadline, n, args.clients, latencies, errors)
        pool.waitall()
        elapsed = time.monotonic() - began
        recorded = control(host, port, "GET", "/_sandbox/received?channel=partner-2")["count"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    latencies.sort()
    rate = len(latencies) / elapsed
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0  # noqa: E731
    print(f"sandbox throughput: {rate:.0f} requests/s with {args.latency_ms:.0f} ms latency, "
          f"{args.clients} concurrent clients, {args.seconds:.0f} s "
          f"(mean in flight {rate * (sum(latencies) / max(1, len(latencies))):.0f}; "
          f"latency p50 {pct(0.5):.0f} ms, p99 {pct(0.99):.0f} ms; "
          f"{len(latencies)} ok, {len(errors)} errors; sandbox recorded {recorded} for one webhook)")
    if errors:
        print(f"errors (first 10): {errors[:10]}")


if __name__ == "__main__":
    main()
