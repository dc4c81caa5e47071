"""What notify's delivery figures cost: a Prometheus scrape, and GET /api/v1/stats/deliveries.

    .venv/bin/python bench/delivery_figures.py [--posts 30] [--channels 1398] [--repeat 10]

Fills a throw-away notify database (SecantusDB, or MONGODB_URI) with `posts` province-scale
publications of `channels` deliveries each (mostly sent; some dead, failed, retracted or
waiting for a take-down; the last one still fanning out), each with the count its progress
report keeps, then times (p50 of `repeat`, milliseconds): the scrape's figures
(NotifyStore.metrics), the statistics of every post (the kept counts added up), of one post
(recounted from its deliveries), a progress report of one post, and for comparison the same
period recounted from every delivery (what the statistics would cost without the kept counts).
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import timedelta
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymongo  # noqa: E402

from service_runtime.storage import utcnow  # noqa: E402
from services.notify import domain  # noqa: E402
from services.notify.store import NotifyStore  # noqa: E402

TYPES = ["zalo_oa_group"] * 73 + ["zalo_group_manual"] * 18 + ["facebook_page"] * 6 + ["webhook", "email"]
SETTLED = ["sent"] * 960 + ["dead"] * 10 + ["failed"] * 10 + ["retracted"] * 10 + ["retract_pending"] * 5 + \
    ["relay_pending"] * 5
IN_FLIGHT = ["sent"] * 50 + ["pending"] * 40 + ["sending"] * 5 + ["retry_wait"] * 5


def p50(fn, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def fill(store, posts, channels):
    rng = random.Random(7)
    now = utcnow()
    for n in range(posts):
        publication_id = f"pub-{n:04d}"
        store.save_publication({"_id": publication_id, "kind": "post", "post_id": f"post-{n:04d}",
                                "title": f"Bài {n}", "body": "", "unit": "catp"})
        statuses = IN_FLIGHT if n == posts - 1 else SETTLED
        docs = [{"_id": uuid.uuid4().hex, "publication_id": publication_id, "post_id": f"post-{n:04d}",
                 "kind": "post", "channel_id": f"ch-{i:05d}", "channel_type": TYPES[i % len(TYPES)],
                 "unit_id": "catp", "channel": {"name": f"Nhóm {i}", "type": TYPES[i % len(TYPES)]},
                 "status": rng.choice(statuses), "next_attempt_at": now, "attempts": [], "attempt_count": 1,
                 "created_at": now - timedelta(seconds=posts - n), "updated_at": now} for i in range(channels)]
        for start in range(0, len(docs), 2000):
            store.db.deliveries.insert_many(docs[start:start + 2000])
        if n < posts - 1:  # the one fanning out has not reported yet
            store.report_progress(publication_id, f"post-{n:04d}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--channels", type=int, default=1398)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    storage, server = None, None
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        storage = tempfile.mkdtemp(prefix="bench-secantus-")
        port = 27000 + os.getpid() % 1000
        server = subprocess.Popen([str(Path(sys.executable).parent / "secantusd-py"), "--host", "127.0.0.1",
                                   "--port", str(port), "--storage-path", storage, "--log-level", "WARNING"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=30000, tz_aware=True)
    client.admin.command("ping")
    name = f"bench{uuid.uuid4().hex[:6]}_notify"
    store = NotifyStore("notify", client, client[name], {})
    try:
        store.ensure_indexes()
        started = time.perf_counter()
        fill(store, args.posts, args.channels)
        total = args.posts * args.channels
        print(f"{args.posts} posts x {args.channels} deliveries = {total:,} deliveries "
              f"(filled in {time.perf_counter() - started:.0f} s)")

        def recount_everything():
            rows = store.db.deliveries.find({}, {"status": 1, "channel_type": 1})
            return domain.delivery_stats(domain.counts_by_type_and_status(rows))
        figures = [
            ("scrape: NotifyStore.metrics()", lambda: list(store.metrics())),
            ("statistics of every post (kept counts)", lambda: store.delivery_counts()),
            ("statistics of one post (its deliveries now)", lambda: store.delivery_counts("post-0000")),
            ("progress report of one post (count, event, kept count)",
             lambda: store.report_progress("pub-0000", "post-0000")),
        ]
        print(f"{'measure':58} {'p50 ms':>10}")
        for label, fn in figures:
            print(f"{label:58} {p50(fn, args.repeat):10.1f}")
        print(f"{'for comparison: every post recounted from its deliveries':58} {p50(recount_everything, 1):10.1f}")
    finally:
        client.drop_database(name)
        if server:
            server.terminate()
            server.wait(timeout=15)
            shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    main()
