"""How fast the staff console renders, with the province demo data.

    .venv/bin/python bench/console.py [--posts 60] [--tips 500] [--repeat 20]

Starts a throw-away copy of the whole system (bench/stack.py: SecantusDB or MONGODB_URI, a
RabbitMQ vhost, the four services, the gunicorn gateway, the channel sandbox), loads the
province directory (88 fanpages, 1,283 Zalo groups), has the editor write `--posts` posts and
the board publish one to the city police's whole subtree (1,398 channels), sends `--tips`
citizens' tips from the labelled data files and waits until they are stored. Then it times,
one request at a time (`--repeat` each, signed in, gzip as a browser asks):
  1. every console page each demo officer's home page and navigation link to, and the first
     item of each list (so a new screen is measured without editing this file);
  2. the pages and fragments a screen loads after the page (the monitor's table and progress,
     the live audience count, the inbox's filters), named below.
Prints p50 / p95 ms and the bytes sent per page, and the load average: other work on the same
cores shows in these figures. Target: every page under 300 ms p95.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack, start_sandbox  # noqa: E402

PASSWORD = "bench-demo-password-1"
TOKEN = "bench-sandbox-token"
OFFICERS = ("kiemduyet1", "bientap", "tiepnhan", "canbo.ninh-khanh", "thanhtra", "admin")
CITY_SUBTREE = {"units": ["catp"], "channel_types": ["facebook_page", "zalo_oa_group", "zalo_group_manual", "webhook"]}
TIP_FILES = ("tips-dev.jsonl", "tips-team-heldout.jsonl", "tips-extra.jsonl")
# Pages that change something when fetched, download a file, or stream: never timed.
SKIP = re.compile(r"/(logout|language|export|csv|stream)\b|\.csv$")
HTMX = {"HX-Request": "true"}


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def console_links(html, base):
    parser = Links()
    parser.feed(html)
    found = []
    for href in parser.links:
        parts = urlsplit(urljoin(base, href))
        if parts.path.startswith("/console") and not SKIP.search(parts.path):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return list(dict.fromkeys(found))


class Officer:
    """One officer signed in to the console (cookie session, its CSRF token) and to the API (token)."""

    def __init__(self, url, username, password=PASSWORD):
        self.url, self.username, self.console = url, username, requests.Session()
        self.console.headers["Accept-Encoding"] = "gzip"
        page = self.console.post(f"{url}/console/login", data={"username": username, "password": password,
                                                               "next": "/console/"}, timeout=30)
        page.raise_for_status()
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        token = requests.post(f"{url}/api/v1/auth/token", json={"username": username, "password": password},
                              timeout=30).json()["access_token"]
        self.api = {"Authorization": f"Bearer {token}"}

    def call(self, method, path, **kwargs):
        response = requests.request(method, f"{self.url}/api/v1{path}", headers=self.api, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def pages(self):
        """The home page, what it and the navigation link to, and the first detail page of each list."""
        home = self.console.get(f"{self.url}/console/", timeout=30)
        pages = ["/console/"] + console_links(home.text, self.url)
        for path in list(pages[1:]):
            response = self.console.get(self.url + path, timeout=30)
            depth = path.split("?")[0].count("/")
            details = [p for p in console_links(response.text, self.url) if p.split("?")[0].count("/") > depth]
            pages += details[:1]
        return list(dict.fromkeys(pages))

    def time(self, method, path, repeat, **kwargs):
        samples, size, status = [], 0, None
        for _ in range(repeat):
            started = time.perf_counter()
            response = self.console.request(method, self.url + path, timeout=60, stream=True, **kwargs)
            raw = response.raw.read()  # the bytes over the wire (gzip where the page is compressed)
            samples.append((time.perf_counter() - started) * 1000)
            size, status = len(raw), response.status_code
        samples.sort()
        return {"p50": statistics.median(samples), "p95": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
                "bytes": size, "status": status}


def prepare(stack, posts, tips):
    """The province directory, posts (one published to 1,398 channels) and tips: what the lists hold."""
    subprocess.run([sys.executable, "-m", "tools.seed", "--scale", "province"], env=stack.env, cwd=ROOT,
                   check=True, capture_output=True, timeout=600)
    editor, board, second = (Officer(stack.url, name) for name in ("bientap", "kiemduyet1", "kiemduyet2"))
    waiting = None
    for i in range(posts):
        post = editor.call("POST", "/posts", json={"kind": "news", "title": f"Tin an ninh trật tự số {i}",
                                                   "body": "Công an thành phố thông báo. " * 40,
                                                   "audience": CITY_SUBTREE})
        if i % 3 == 0:
            waiting = editor.call("POST", f"/posts/{post['id']}/submit")
    big = editor.call("POST", "/posts", json={"kind": "news", "title": "Thông báo toàn tỉnh",
                                              "body": "Công an tỉnh thông báo. " * 30, "audience": CITY_SUBTREE})
    editor.call("POST", f"/posts/{big['id']}/submit")
    board.call("POST", f"/posts/{big['id']}/approve")
    second.call("POST", f"/posts/{big['id']}/publish")
    texts = [json.loads(line)["text"] for name in TIP_FILES for line in (ROOT / "data" / name).open(encoding="utf-8")]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda text: requests.post(f"{stack.url}/api/v1/public/tips", json={"text": text},
                                                           timeout=60).status_code,
                                [texts[i % len(texts)] for i in range(tips)]))
    admin = Officer(stack.url, "admin", stack.env["BINHYEN_ADMIN_PASSWORD"])
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:  # the fan-out done and the tips queue drained
        summary = board.call("GET", f"/posts/{big['id']}")["delivery_summary"]
        stored = admin.call("GET", "/stats/tips")["total"]
        if summary and not sum(c["pending"] for c in summary.values()) and stored >= answers.count(202):
            break
        time.sleep(2)
    return {"editor": editor, "board": board, "waiting": waiting, "big": big, "tips_stored": stored}


def named_pages(stack, prepared):
    """The pages and fragments a crawl of links does not reach."""
    board, editor, big, waiting = prepared["board"], prepared["editor"], prepared["big"], prepared["waiting"]
    triage, ward = Officer(stack.url, "tiepnhan"), Officer(stack.url, "canbo.ninh-khanh")
    return [
        ("queue, search every status", board, "GET", "/console/posts?status=all&q=an+ninh", {}),
        ("post in review (channel check)", board, "GET", f"/console/posts/{waiting['id']}", {}),
        ("post published to 1,398 channels", board, "GET", f"/console/posts/{big['id']}", {}),
        ("delivery monitor", board, "GET", f"/console/posts/{big['id']}/deliveries", {}),
        ("  its deliveries table (fragment)", board, "GET", f"/console/posts/{big['id']}/deliveries?part=table",
         {"headers": HTMX}),
        ("  its progress (fragment polled every 1.5 s)", board, "GET", f"/console/posts/{big['id']}/deliveries/progress",
         {"headers": HTMX}),
        ("editor, existing post", editor, "GET", f"/console/posts/{waiting['id']}/edit", {}),
        ("  live audience count, 1,398 channels", editor, "POST", "/console/posts/audience-count",
         {"headers": HTMX, "data": {"csrf_token": editor.csrf, "units": "catp", "include_descendants": "1"}}),
        ("tip inbox, city triage officer", triage, "GET", "/console/tips", {}),
        ("tip inbox, emergencies waiting", triage, "GET", "/console/tips?urgency=emergency&waiting=1", {}),
        ("tip inbox, text search", triage, "GET", "/console/tips?text=trom+xe", {}),
        ("tip inbox, ward operator", ward, "GET", "/console/tips", {}),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--tips", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    sandbox, sandbox_url, smtp_url = start_sandbox(smtp=True)
    env = {"SANDBOX_URL": sandbox_url, "FACEBOOK_GRAPH_URL": sandbox_url, "ZALO_OPENAPI_URL": sandbox_url,
           "YOUTUBE_API_URL": sandbox_url, "SMTP_URL": smtp_url, "FACEBOOK_PAGE_TOKEN": TOKEN, "ZALO_OA_TOKEN": TOKEN,
           "YOUTUBE_TOKEN": TOKEN, "PARTNER_WEBHOOK_SECRET": "whsec_YmVuY2gtcGFydG5lci13ZWJob29rLXNlY3JldC0zMg==",
           "RATE_ZALO_OA_GROUP": "1000", "RATE_ZALO_OA_GROUP_BURST": "1000", "RATE_FACEBOOK_PAGE": "100",
           "RATE_FACEBOOK_PAGE_BURST": "100", "RATE_WEBHOOK": "1000", "RATE_WEBHOOK_BURST": "1000",
           "PUBLIC_TIPS_PER_MINUTE": "0", "BINHYEN_DEMO_PASSWORD": PASSWORD, "LOG_LEVEL": "WARNING"}
    try:
        with Stack(extra_env=env) as stack:
            prepared = prepare(stack, args.posts, args.tips)
            print(f"console pages: province directory, {args.posts} posts (one published to 1,398 channels), "
                  f"{prepared['tips_stored']} tips; {args.repeat} requests per page, one at a time")
            print(f"{'officer':17} {'page':60} {'status':>6} {'p50 ms':>7} {'p95 ms':>7} {'bytes':>7}")
            worst = 0.0

            def show(who, name, figures):
                nonlocal worst
                worst = max(worst, figures["p95"])
                print(f"{who:17} {name[:60]:60} {figures['status']:>6} {figures['p50']:7.0f} {figures['p95']:7.0f} "
                      f"{figures['bytes']:7}")

            for username in OFFICERS:
                officer = Officer(stack.url, username, stack.env["BINHYEN_ADMIN_PASSWORD"]
                                  if username == "admin" else PASSWORD)
                for path in officer.pages():
                    show(username, path, officer.time("GET", path, args.repeat))
            for name, officer, method, path, kwargs in named_pages(stack, prepared):
                show(officer.username, name, officer.time(method, path, args.repeat, **kwargs))
            print(f"slowest page p95: {worst:.0f} ms (target: under 300 ms); load average while measured: "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
