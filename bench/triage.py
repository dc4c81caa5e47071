"""Triage of one tip: lexicons alone, and lexicons with the learned model (what the tips
service runs), over every labelled tip in data/.

    .venv/bin/python bench/triage.py [--rounds 3]

Prints p50/p95/p99 milliseconds per tip and tips/s on one core (target: p95 < 20 ms with
the model). Figures only, never pass/fail.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.tips.train import load_gazetteer, training_rows  # noqa: E402
from services.tips.triage import triage  # noqa: E402
from services.tips.triage.model import default_model  # noqa: E402


def percentile(values, p):
    data = sorted(values)
    return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))]


def measure(rounds=3):
    wards = load_gazetteer()
    started = time.perf_counter()
    model = default_model()
    load_ms = (time.perf_counter() - started) * 1000
    texts = [r["text"] for r in training_rows()]
    out = {"tips": len(texts), "model_load_ms": load_ms}
    for name, m in (("lexicons", None), ("lexicons + model", model)):
        triage(texts[0], wards, model=m)  # warm-up
        times = []
        for _ in range(rounds):
            for text in texts:
                t0 = time.perf_counter()
                triage(text, wards, model=m)
                times.append((time.perf_counter() - t0) * 1000)
        out[name] = {"p50_ms": statistics.median(times), "p95_ms": percentile(times, 95),
                     "p99_ms": percentile(times, 99), "per_second": 1000 / statistics.mean(times)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    r = measure(args.rounds)
    print(f"triage of one tip, {r['tips']} tips x {args.rounds} rounds (model loaded in {r['model_load_ms']:.0f} ms)")
    for name in ("lexicons", "lexicons + model"):
        f = r[name]
        print(f"  {name:<18} p50 {f['p50_ms']:5.1f} ms  p95 {f['p95_ms']:5.1f} ms  p99 {f['p99_ms']:5.1f} ms"
              f"  {f['per_second']:6.0f} tips/s")


if __name__ == "__main__":
    main()
