"""`make bench`: every benchmark in one table (figures only; nothing passes or fails).

    .venv/bin/python bench/run_all.py

Runs, one after another on this machine: tip intake through the gateway beside the
one-confirmed-publish ceiling of the same gunicorn setup (bench/intake.py), the
province-scale fan-out against the sandbox at 100 ms per request beside Apprise (bench/fanout.py,
Apprise from the optional `bench` extra: pip install -e '.[bench]'), and
audience resolution over 10,000 channels (bench/audience.py). Targets from the
operations issue are printed beside the figures.
"""
import eventlet

eventlet.monkey_patch()

import importlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def row(name, figure, target):
    print(f"{name:58} {figure:>22} {target:>22}")


def main():
    print(f"machine: {os.cpu_count()} cores")
    print(f"{'measure':58} {'figure':>22} {'target':>22}")
    intake = importlib.import_module("bench.intake").measure(seconds=15, clients=32)
    row("tip intake through the gateway, accepted/s", f"{intake['intake']['per_second']:.0f}", ">= 300")
    row("  p50 / p99 ms", f"{intake['intake']['p50_ms']:.0f} / {intake['intake']['p99_ms']:.0f}", "")
    row("ceiling: one confirmed publish per request, /s", f"{intake['ceiling']['per_second']:.0f}", "")
    row("intake / ceiling", f"{intake['ratio']:.2f}", ">= 0.50")
    if intake["ceiling_busy"]:
        row("intake / ceiling measured while tips stores the queue",
            f"{intake['intake']['per_second'] / intake['ceiling_busy']['per_second']:.2f}", "")
    row("  then stored by the tips service from the queue, tips/s", f"{intake['drain']['per_second']:.1f}", "")
    try:
        fanout = importlib.import_module("bench.fanout").measure()
    except (ImportError, AttributeError) as exc:
        fanout = None
        row("fan-out", f"not run ({type(exc).__name__})", ">= 500/s")
    if fanout:
        row("fan-out, province scale, 100 ms per request, deliveries/s", f"{fanout['per_second']:.0f}", ">= 500")
        row("  publish -> delivery p50 / p99 s", f"{fanout['p50_s']:.1f} / {fanout['p99_s']:.1f}", "")
        row("  naive sequential loop, deliveries/s (ratio)",
            f"{fanout['naive_per_second']:.1f} ({fanout['per_second'] / fanout['naive_per_second']:.0f}x)", "")
        if fanout.get("apprise_per_second"):
            row("  Apprise 2.2 notify() to json://, deliveries/s (ratio)",
                f"{fanout['apprise_per_second']:.0f} ({fanout['per_second'] / fanout['apprise_per_second']:.1f}x)",
                ">= 10x")
        else:
            row("  Apprise 2.2 notify() to json://", "not installed ('.[bench]')", ">= 10x")
        cpu = fanout["cpu_ms_per_delivery"]
        if cpu.get("database") is not None and cpu.get("notify") is not None:
            row("  CPU ms per delivery: database / notify", f"{cpu['database']:.2f} / {cpu['notify']:.2f}", "")
    audience = importlib.import_module("bench.audience").measure()
    for label, (p50, p99, r50, r99, count) in audience.items():
        row(f"audience '{label}' ({count}), RPC p50/p99 ms", f"{r50:.1f} / {r99:.1f}", "well under 100")


if __name__ == "__main__":
    main()
