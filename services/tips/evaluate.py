"""Measure tip triage and FAQ matching against a labelled JSONL file.

    python -m services.tips.evaluate TIPS.jsonl [--predictions OUT.jsonl] [--wards data/ninh-binh.json]
    python -m services.tips.evaluate --faq QUERIES.jsonl [--predictions OUT.jsonl] [--faq-entries data/procedures-faq.json]

Labels are optional: on an unlabelled file only the count is printed and the
predictions are written. Predictions are computed from the text alone. Tip
text is never printed.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from services.tips.faq import FaqIndex
from services.tips.triage import CATEGORIES, WardGazetteer, triage

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WARDS = REPO_ROOT / "data" / "ninh-binh.json"
DEFAULT_FAQ_ENTRIES = REPO_ROOT / "data" / "procedures-faq.json"
URGENCY_LEVELS = ("emergency", "high", "normal", "low")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_wards(path: Path) -> WardGazetteer:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return WardGazetteer(data["wards"] if isinstance(data, dict) else data)


def load_faq(path: Path) -> FaqIndex:
    with open(path, encoding="utf-8") as f:
        return FaqIndex(json.load(f))


def per_label(gold: list[str], pred: list[str], labels) -> dict[str, tuple[float, float, float, int]]:
    """label -> (precision, recall, f1, support)."""
    out = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        n_pred = sum(1 for p in pred if p == label)
        n_gold = sum(1 for g in gold if g == label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = (precision, recall, f1, n_gold)
    return out


def predict_tips(rows: list[dict], wards: WardGazetteer) -> list[dict]:
    predictions = []
    for row in rows:
        result = triage(row.get("text", ""), wards)
        predictions.append({"id": row.get("id"), "category": result.category,
                            "urgency": result.urgency, "ward": result.ward})
    return predictions


def tip_metrics(rows: list[dict], predictions: list[dict]) -> dict:
    """Metrics for the rows that carry labels (all keys present)."""
    labelled = [(r, p) for r, p in zip(rows, predictions) if "category" in r]
    metrics: dict = {"count": len(rows), "labelled": len(labelled)}
    if not labelled:
        return metrics
    gold_cat = [r["category"] for r, _ in labelled]
    pred_cat = [p["category"] for _, p in labelled]
    cat_table = per_label(gold_cat, pred_cat, [c for c in CATEGORIES if c in set(gold_cat) | set(pred_cat)])
    present = [c for c in cat_table if cat_table[c][3] > 0]
    metrics["category"] = cat_table
    metrics["category_macro_f1"] = sum(cat_table[c][2] for c in present) / len(present)
    metrics["category_accuracy"] = sum(g == p for g, p in zip(gold_cat, pred_cat)) / len(labelled)

    with_urgency = [(r, p) for r, p in labelled if "urgency" in r]
    if with_urgency:
        gold_urg = [r["urgency"] for r, _ in with_urgency]
        pred_urg = [p["urgency"] for _, p in with_urgency]
        metrics["urgency"] = per_label(gold_urg, pred_urg, URGENCY_LEVELS)
        metrics["urgency_accuracy"] = sum(g == p for g, p in zip(gold_urg, pred_urg)) / len(gold_urg)
        metrics["emergency_recall"] = metrics["urgency"]["emergency"][1]

    with_ward = [(r, p) for r, p in labelled if "ward" in r]
    if with_ward:
        metrics["ward_accuracy"] = sum(r["ward"] == p["ward"] for r, p in with_ward) / len(with_ward)

    spam_pred = [g for g, p in zip(gold_cat, pred_cat) if p == "spam"]
    metrics["spam_precision"] = (sum(g == "spam" for g in spam_pred) / len(spam_pred)) if spam_pred else None
    metrics["spam_recall"] = cat_table.get("spam", (0, 0, 0, 0))[1]
    return metrics


def print_tip_metrics(m: dict, out=None) -> None:
    out = out or sys.stdout
    print(f"tips: {m['count']} (labelled: {m['labelled']})", file=out)
    if not m["labelled"]:
        return
    print(f"{'category':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}", file=out)
    for label, (p, r, f, n) in m["category"].items():
        print(f"{label:<20} {p:>9.3f} {r:>7.3f} {f:>6.3f} {n:>4}", file=out)
    if "urgency" in m:
        print(f"{'urgency':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}", file=out)
        for label, (p, r, f, n) in m["urgency"].items():
            print(f"{label:<20} {p:>9.3f} {r:>7.3f} {f:>6.3f} {n:>4}", file=out)
    print(f"category macro-F1:  {m['category_macro_f1']:.3f}", file=out)
    print(f"category accuracy:  {m['category_accuracy']:.3f}", file=out)
    if "urgency" in m:
        print(f"urgency accuracy:   {m['urgency_accuracy']:.3f}", file=out)
        print(f"emergency recall:   {m['emergency_recall']:.3f}", file=out)
    if "ward_accuracy" in m:
        print(f"ward accuracy:      {m['ward_accuracy']:.3f}", file=out)
    sp = m["spam_precision"]
    print(f"spam precision:     {'n/a (none predicted)' if sp is None else f'{sp:.3f}'}", file=out)
    print(f"spam recall:        {m['spam_recall']:.3f}", file=out)


def predict_faq(rows: list[dict], index: FaqIndex) -> list[dict]:
    return [{"id": row.get("id"), "faq_id": index.best(row.get("text", ""))} for row in rows]


def faq_metrics(rows: list[dict], predictions: list[dict]) -> dict:
    labelled = [(r, p) for r, p in zip(rows, predictions) if "faq_id" in r]
    m: dict = {"count": len(rows), "labelled": len(labelled)}
    if not labelled:
        return m
    m["top1_accuracy"] = sum(r["faq_id"] == p["faq_id"] for r, p in labelled) / len(labelled)
    answerable = [(r, p) for r, p in labelled if r["faq_id"] is not None]
    unanswerable = [(r, p) for r, p in labelled if r["faq_id"] is None]
    m["answerable"] = len(answerable)
    m["answerable_top1"] = (sum(r["faq_id"] == p["faq_id"] for r, p in answerable) / len(answerable)
                            if answerable else None)
    m["no_match"] = len(unanswerable)
    m["no_match_correct"] = (sum(p["faq_id"] is None for _, p in unanswerable) / len(unanswerable)
                             if unanswerable else None)
    predicted_none = [r for r, p in labelled if p["faq_id"] is None]
    m["predicted_no_match"] = len(predicted_none)
    m["no_match_precision"] = (sum(r["faq_id"] is None for r in predicted_none) / len(predicted_none)
                               if predicted_none else None)
    return m


def print_faq_metrics(m: dict, out=None) -> None:
    out = out or sys.stdout
    print(f"faq queries: {m['count']} (labelled: {m['labelled']})", file=out)
    if not m["labelled"]:
        return

    def fmt(v):
        return "n/a" if v is None else f"{v:.3f}"

    print(f"top-1 accuracy:            {fmt(m['top1_accuracy'])}", file=out)
    print(f"top-1 on answerable ({m['answerable']}):  {fmt(m['answerable_top1'])}", file=out)
    print(f"no-match correct ({m['no_match']}):     {fmt(m['no_match_correct'])}", file=out)
    print(f"predicted no-match: {m['predicted_no_match']}, of which truly none: "
          f"{fmt(m['no_match_precision'])}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.tips.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tips", nargs="?", type=Path, help="tips JSONL (id, text[, category, urgency, ward])")
    parser.add_argument("--faq", type=Path, help="FAQ queries JSONL (id, text[, faq_id])")
    parser.add_argument("--predictions", type=Path, help="write one JSON line per input")
    parser.add_argument("--wards", type=Path, default=DEFAULT_WARDS)
    parser.add_argument("--faq-entries", type=Path, default=DEFAULT_FAQ_ENTRIES)
    args = parser.parse_args(argv)
    if bool(args.tips) == bool(args.faq):
        parser.error("give either a tips file or --faq QUERIES.jsonl")

    if args.faq:
        rows = read_jsonl(args.faq)
        predictions = predict_faq(rows, load_faq(args.faq_entries))
        print_faq_metrics(faq_metrics(rows, predictions))
    else:
        rows = read_jsonl(args.tips)
        predictions = predict_tips(rows, load_wards(args.wards))
        print_tip_metrics(tip_metrics(rows, predictions))
    if args.predictions:
        write_jsonl(args.predictions, predictions)
        print(f"predictions written: {args.predictions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
