"""What the posts screens of the console cost to render, with the province directory.

    .venv/bin/python bench/console_posts.py [--posts 60] [--repeat 20]

Starts the whole system as OS processes (bench/stack.py: SecantusDB unless MONGODB_URI is set,
a RabbitMQ vhost, the four services, the gunicorn gateway) with the channel sandbox, loads the
province directory (88 fanpages, 1,283 Zalo groups), has the editor write `posts` posts and
publishes one to the city police's whole subtree (1,398 channels), waits for its fan-out, then
times each page and fragment of the posts screens as the officers open them (p50 and p95 of
`repeat` requests over HTTP on this machine, milliseconds, and the size sent). Target: under
300 ms per page.
"""
import argparse
import re
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.stack import Stack, start_sandbox  # noqa: E402

PASSWORD = "bench-demo-password-1"
TOKEN = "bench-sandbox-token"
PROVINCE_AUDIENCE = {"units": ["catp"], "channel_types": ["facebook_page", "zalo_oa_group", "zalo_group_manual",
                                                          "webhook"]}


class Officer:
    """One officer signed in to the console (cookie session) and to the API (token)."""

    def __init__(self, url, username):
        self.url, self.console = url, requests.Session()
        page = self.console.post(f"{url}/console/login", data={"username": username, "password": PASSWORD,
                                                               "next": "/console/"}, timeout=30)
        page.raise_for_status()
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        token = requests.post(f"{url}/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                              timeout=30).json()["access_token"]
        self.api = {"Authorization": f"Bearer {token}"}

    def call(self, method, path, **kwargs):
        response = requests.request(method, f"{self.url}/api/v1{path}", headers=self.api, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()


def timed(officer, method, path, repeat, **kwargs):
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = officer.console.request(method, officer.url + path, timeout=60, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code not in (200, 286):
            raise RuntimeError(f"{method} {path}: {response.status_code}")
        size = len(response.content)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    sandbox, sandbox_url, smtp_url = start_sandbox(smtp=True)
    env = {"SANDBOX_URL": sandbox_url, "FACEBOOK_GRAPH_URL": sandbox_url, "ZALO_OPENAPI_URL": sandbox_url,
           "YOUTUBE_API_URL": sandbox_url, "SMTP_URL": smtp_url, "FACEBOOK_PAGE_TOKEN": TOKEN, "ZALO_OA_TOKEN": TOKEN,
           "YOUTUBE_TOKEN": TOKEN, "PARTNER_WEBHOOK_SECRET": "whsec_YmVuY2gtcGFydG5lci13ZWJob29rLXNlY3JldC0zMg==",
           "RATE_ZALO_OA_GROUP": "1000", "RATE_ZALO_OA_GROUP_BURST": "1000", "RATE_FACEBOOK_PAGE": "100",
           "RATE_FACEBOOK_PAGE_BURST": "100", "RATE_WEBHOOK": "1000", "RATE_WEBHOOK_BURST": "1000",
           "BINHYEN_DEMO_PASSWORD": PASSWORD}
    try:
        with Stack(extra_env=env) as stack:
            subprocess.run([sys.executable, "-m", "tools.seed", "--scale", "province"], env=stack.env, cwd=ROOT,
                           check=True, capture_output=True, timeout=300)
            editor, board = Officer(stack.url, "bientap"), Officer(stack.url, "kiemduyet1")
            second = Officer(stack.url, "kiemduyet2")
            waiting = None
            for i in range(args.posts):
                post = editor.call("POST", "/posts", json={"kind": "news", "title": f"Tin an ninh trật tự số {i}",
                                                           "body": "Công an thành phố thông báo. " * 40,
                                                           "audience": PROVINCE_AUDIENCE})
                if i % 3 == 0:
                    waiting = editor.call("POST", f"/posts/{post['id']}/submit")
            big = editor.call("POST", "/posts", json={"kind": "news", "title": "Thông báo toàn tỉnh",
                                                      "body": "Công an tỉnh thông báo. " * 30,
                                                      "audience": PROVINCE_AUDIENCE})
            editor.call("POST", f"/posts/{big['id']}/submit")
            board.call("POST", f"/posts/{big['id']}/approve")
            second.call("POST", f"/posts/{big['id']}/publish")
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                summary = board.call("GET", f"/posts/{big['id']}")["delivery_summary"]
                if summary and not sum(c["pending"] for c in summary.values()):
                    break
                time.sleep(2)
            htmx = {"HX-Request": "true"}
            pages = [
                ("queue (the board's in_review tab)", board, "GET", "/console/posts", {}),
                ("queue, search every status", board, "GET", "/console/posts?status=all&q=an+ninh", {}),
                ("post page, in review (channel check)", board, "GET", f"/console/posts/{waiting['id']}", {}),
                ("post page, published to 1,398 channels", board, "GET", f"/console/posts/{big['id']}", {}),
                ("delivery monitor", board, "GET", f"/console/posts/{big['id']}/deliveries", {}),
                ("  its deliveries table (fragment)", board, "GET", f"/console/posts/{big['id']}/deliveries?part=table",
                 {"headers": htmx}),
                ("  its progress (fragment polled every 1.5 s)", board, "GET",
                 f"/console/posts/{big['id']}/deliveries/progress", {"headers": htmx}),
                ("deliveries to handle (failed)", board, "GET", "/console/deliveries", {}),
                ("editor, new post", editor, "GET", "/console/posts/new", {}),
                ("editor, existing post", editor, "GET", f"/console/posts/{waiting['id']}/edit", {}),
                ("  live audience count (fragment), 1,398 channels", editor, "POST", "/console/posts/audience-count",
                 {"headers": htmx, "data": {"csrf_token": editor.csrf, "units": "catp", "include_descendants": "1"}}),
            ]
            print(f"console posts screens: province directory, {args.posts} posts, one published to 1,398 channels, "
                  f"{args.repeat} requests each")
            print(f"{'page':52} {'p50 ms':>8} {'p95 ms':>8} {'KiB':>6}")
            for name, officer, method, path, kwargs in pages:
                p50, p95, size = timed(officer, method, path, args.repeat, **kwargs)
                print(f"{name:52} {p50:8.0f} {p95:8.0f} {size / 1024:6.0f}")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
