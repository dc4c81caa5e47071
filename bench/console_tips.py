"""The tip inbox and a tip's page in the staff console: how long they take to render.

    .venv/bin/python bench/console_tips.py [--tips 500] [--repeat 30]

Starts a copy of the whole system (bench/stack.py: SecantusDB unless MONGODB_URI is set, a
RabbitMQ vhost at AMQP_URI, the four services, gunicorn), loads the city demo directory, sends
`--tips` citizens' tips from the labelled data files through the public API and waits until the
tips service has stored them, then times whole page loads (HTTP, signed in, as a browser asks:
gzip) for a triage officer of the city police and a ward's operator. Prints p50/p95 per page
(target: under 300 ms) and the machine's load average, since other work on the same cores
shows in these figures.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack  # noqa: E402

PASSWORD = "bench-console-password-1"
DATA = ("tips-dev.jsonl", "tips-team-heldout.jsonl", "tips-extra.jsonl")


def tip_texts(n):
    texts = [json.loads(line)["text"] for name in DATA for line in (ROOT / "data" / name).open(encoding="utf-8")]
    return [texts[i % len(texts)] for i in range(n)]


def signed_in(url, username):
    session = requests.Session()
    response = session.post(f"{url}/console/login", data={"username": username, "password": PASSWORD,
                                                          "next": "/console/"})
    response.raise_for_status()
    return session


def timed(session, url, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = session.get(url, headers={"Accept-Encoding": "gzip"})
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tips", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    env = {"PUBLIC_TIPS_PER_MINUTE": "0", "BINHYEN_DEMO_PASSWORD": PASSWORD, "GATEWAY_WORKERS": "2"}
    with Stack(extra_env=env, vhost_prefix="binhyen-bench-console-") as stack:
        subprocess.run([sys.executable, "-m", "tools.seed"], env=stack.env, cwd=ROOT, check=True,
                       capture_output=True, timeout=300)
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda text: requests.post(f"{stack.url}/api/v1/public/tips",
                                                               json={"text": text}, timeout=60).status_code,
                                    tip_texts(args.tips)))
        accepted = answers.count(202)
        token = requests.post(f"{stack.url}/api/v1/auth/token", json={
            "username": "admin", "password": stack.env["BINHYEN_ADMIN_PASSWORD"]}, timeout=30).json()["access_token"]
        admin = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            stored = requests.get(f"{stack.url}/api/v1/stats/tips", headers=admin, timeout=60).json()["total"]
            if stored >= accepted:
                break
            time.sleep(2)
        one = requests.get(f"{stack.url}/api/v1/tips?limit=1&category=theft_robbery", headers=admin,
                           timeout=30).json()["items"][0]["id"]
        triage, ward = signed_in(stack.url, "tiepnhan"), signed_in(stack.url, "canbo.ninh-khanh")
        pages = [("inbox, city triage officer", triage, "/console/tips"),
                 ("inbox, emergencies waiting", triage, "/console/tips?urgency=emergency&waiting=1"),
                 ("inbox, text search", triage, "/console/tips?text=trom+xe"),
                 ("inbox, ward operator", ward, "/console/tips"),
                 ("a tip's page", triage, f"/console/tips/{one}")]
        print(f"console tip pages: {stored} tips stored ({accepted} accepted), city demo directory, "
              f"{args.repeat} loads each")
        for name, session, path in pages:
            p50, p95 = timed(session, stack.url + path, args.repeat)
            print(f"  {name:30s} p50 {p50:6.0f} ms   p95 {p95:6.0f} ms   (target p95 < 300 ms)")
        print(f"  load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
