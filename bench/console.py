"""How fast the staff console and the citizens' pages render, with the province demo data.

    .venv/bin/python bench/console.py [--repeat 30] [--scale province]

Starts a throw-away copy of the whole system (bench/stack.py: SecantusDB or MONGODB_URI, a
RabbitMQ vhost, the four services, the gunicorn gateway, the channel sandbox), loads the
demo directory at `--scale` (province: 88 fanpages and 1,283 Zalo groups), publishes a
post to the whole city police subtree and sends tips, so the lists have something in them.
Then each demo officer signs in to the console, the benchmark collects every console page
their navigation bar and home page link to (and the first item of each list), and asks for
each page `--repeat` times, one request at a time. Prints p50 / p95 milliseconds and the
bytes sent (gzip) per page. Target: every page under 300 ms p95.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack, start_sandbox  # noqa: E402

DEMO_PASSWORD = "bench-demo-password-1"
OFFICERS = ("kiemduyet1", "bientap", "tiepnhan", "canbo.ninh-khanh", "thanhtra", "admin")
# Pages that change something when fetched, or stream: never timed.
SKIP = re.compile(r"/(logout|language|export|csv|stream)\b")


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
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.path.startswith("/console") and not SKIP.search(parts.path):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return list(dict.fromkeys(found))


def sign_in(base, username, password):
    session = requests.Session()
    session.headers["Accept-Encoding"] = "gzip"
    response = session.post(f"{base}/console/login", data={"username": username, "password": password},
                            allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"{username} could not sign in: {response.status_code}")
    return session


def pages_of(session, base):
    """The home page, what it and the navigation link to, and the first detail page of each list."""
    home = session.get(f"{base}/console/", timeout=30)
    pages = ["/console/"] + console_links(home.text, base)
    for path in list(pages[1:]):
        response = session.get(base + path, timeout=30)
        details = [p for p in console_links(response.text, base) if p.count("/") > path.split("?")[0].count("/")]
        pages += details[:1]
    return list(dict.fromkeys(pages))


def time_page(session, url, repeat):
    samples, size, status = [], 0, None
    for _ in range(repeat):
        started = time.perf_counter()
        response = session.get(url, timeout=30, stream=True)
        raw = response.raw.read()  # the bytes over the wire (gzip when the page is compressed)
        samples.append((time.perf_counter() - started) * 1000)
        size, status = len(raw), response.status_code
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
            "bytes": size, "status": status}


def prepare(stack, scale):
    env = dict(stack.env)
    subprocess.run([sys.executable, "-m", "tools.seed", "--scale", scale], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=600)
    api = f"{stack.url}/api/v1"

    def token(username, password=DEMO_PASSWORD):
        response = requests.post(f"{api}/auth/token", json={"username": username, "password": password}, timeout=30)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    editor, mod1 = token("bientap"), token("kiemduyet1")
    post = requests.post(f"{api}/posts", headers=editor, timeout=30, json={
        "kind": "news", "title": "Cảnh báo lừa đảo mạo danh công an", "body": "Người dân không chuyển tiền.",
        "audience": {"units": ["catp"], "channel_types": ["facebook_page", "zalo_oa_group", "zalo_group_manual"]}})
    post.raise_for_status()
    post_id = post.json()["id"]
    for step, headers in (("submit", editor), ("approve", mod1), ("publish", mod1)):
        requests.post(f"{api}/posts/{post_id}/{step}", headers=headers, timeout=60).raise_for_status()
    texts = ["Có người lạ tụ tập đánh bạc ở ngõ 5 phường Ninh Khánh", "Xe máy bị trộm trước chợ Rồng tối qua",
             "Làm căn cước công dân cho con cần giấy tờ gì", "Cháy nhà ở phố Lê Lợi, có người mắc kẹt bên trong"]
    for i in range(40):
        requests.post(f"{api}/public/tips", timeout=30, json={"text": f"{texts[i % len(texts)]} (#{i})"},
                      headers={"X-Forwarded-For": f"10.9.{i // 200}.{i % 200}"})
    time.sleep(10)  # let the fan-out and the tips queue settle a little



def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--scale", choices=["city", "province"], default="province")
    args = parser.parse_args(argv)
    sandbox, sandbox_url, smtp_url = start_sandbox(smtp=True)
    env = {"SANDBOX_URL": sandbox_url, "FACEBOOK_GRAPH_URL": sandbox_url, "ZALO_OPENAPI_URL": sandbox_url,
           "YOUTUBE_API_URL": sandbox_url, "SMTP_URL": smtp_url, "FACEBOOK_PAGE_TOKEN": "sandbox-bench",
           "ZALO_OA_TOKEN": "sandbox-bench", "YOUTUBE_TOKEN": "sandbox-bench", "BINHYEN_DEMO_PASSWORD": DEMO_PASSWORD,
           "PARTNER_WEBHOOK_SECRET": "whsec_YmVuY2gtcGFydG5lci13ZWJob29rLXNlY3JldA==", "PUBLIC_TIPS_PER_MINUTE": "0",
           "RATE_ZALO_OA_GROUP": "200", "RATE_ZALO_OA_GROUP_BURST": "200", "LOG_LEVEL": "WARNING"}
    try:
        with Stack(extra_env=env) as stack:
            prepare(stack, args.scale)
            print(f"machine: {os.cpu_count()} cores; scale {args.scale}; {args.repeat} requests per page, one at a time")
            print(f"{'officer':18} {'page':58} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8}")
            worst = 0.0
            for username in OFFICERS:
                password = stack.env["BINHYEN_ADMIN_PASSWORD"] if username == "admin" else DEMO_PASSWORD
                session = sign_in(stack.url, username, password)
                for path in pages_of(session, stack.url):
                    figures = time_page(session, stack.url + path, args.repeat)
                    worst = max(worst, figures["p95"])
                    print(f"{username:18} {path[:58]:58} {figures['status']:>6} {figures['p50']:>8.1f} "
                          f"{figures['p95']:>8.1f} {figures['bytes']:>8}")
            print(f"slowest page p95: {worst:.0f} ms (target: under 300 ms)")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
