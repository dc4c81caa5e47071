"""The same fan-out through Apprise, the best-known notification library: one
`apprise.notify()` to N `json://` endpoints of the sandbox (each answers after its latency).

    .venv/bin/python bench/apprise_fanout.py --sandbox http://127.0.0.1:PORT --channels 1398

bench/fanout.py runs it after the engine, against the same sandbox, and prints the ratio.
Apprise is an optional extra, installed for benchmarks only: pip install -e '.[bench]'.
It runs in a process of its own: Apprise sends from a thread pool, which the engine's
eventlet monkey-patching would turn into green threads. Prints one JSON line.
"""
import argparse
import json
import sys
import time
from urllib.parse import urlsplit


def measure(sandbox_url, channels):
    import apprise
    host = urlsplit(sandbox_url).netloc
    notifier = apprise.Apprise()
    for i in range(channels):
        notifier.add(f"json://{host}/webhooks/apprise-{i:05d}")
    started = time.monotonic()
    ok = notifier.notify(title="Cảnh báo thủ đoạn lừa đảo mới",
                         body="Công an tỉnh Ninh Bình khuyến cáo người dân cảnh giác. Gọi 113 khi cần.")
    elapsed = time.monotonic() - started
    return {"channels": channels, "seconds": elapsed, "per_second": channels / elapsed, "all_ok": bool(ok),
            "apprise": apprise.__version__}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", required=True, help="the sandbox's http:// URL")
    parser.add_argument("--channels", type=int, default=1398)
    args = parser.parse_args()
    try:
        result = measure(args.sandbox, args.channels)
    except ImportError:
        result = {"error": "apprise is not installed: pip install -e '.[bench]'"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
