"""Measure tip triage and FAQ matching against a labelled JSONL file.

    python -m services.tips.evaluate TIPS.jsonl [--mode combined|lexicon|model] [--predictions OUT.jsonl]
    python -m services.tips.evaluate --cv K [--extra MORE.jsonl] [--predictions OUT.jsonl]
    python -m services.tips.evaluate --faq QUERIES.jsonl [--predictions OUT.jsonl] [--faq-entries data/procedures-faq.json]

``--cv K``: stratified K-fold cross-validation over every labelled tip in data/ (and
``--extra``): each fold's model is trained without that fold's tips, and the lexicons
alone, the model alone and the two combined are measured on them. Only these figures
mean something for tips nobody has seen; a file the model was trained on, or the
lexicons written from, says little (a warning is printed).

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

from services.tips.faq import FaqIndex, labelled_faq_queries
from services.tips.triage import CATEGORIES, URGENCY_LEVELS, WardGazetteer, triage
from services.tips.triage.model import TriageModel, default_model

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WARDS = REPO_ROOT / "data" / "ninh-binh.json"
DEFAULT_FAQ_ENTRIES = REPO_ROOT / "data" / "procedures-faq.json"
MODES = ("combined", "lexicon", "model")


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


def load_faq(path: Path, labelled_queries=()) -> FaqIndex:
    with open(path, encoding="utf-8") as f:
        return FaqIndex(json.load(f), labelled_queries)


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


def model_alone(model: TriageModel) -> TriageModel:
    """The same model with the lexicons' say in the category taken away (for comparison)."""
    alone = TriageModel(model.arrays)
    alone.model_weight = 1.0
    return alone


def predict_tips(rows: list[dict], wards: WardGazetteer, model: TriageModel | None = None) -> list[dict]:
    """One prediction per row: the lexicons alone without ``model``, else combined with it."""
    predictions = []
    for row in rows:
        result = triage(row.get("text", ""), wards, model=model)
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
        metrics["emergency_precision"] = metrics["urgency"]["emergency"][0]
        metrics["emergency_missed"] = [r.get("id") for r, p in with_urgency
                                       if r["urgency"] == "emergency" and p["urgency"] != "emergency"]

    with_ward = [(r, p) for r, p in labelled if "ward" in r]
    if with_ward:
        metrics["ward_accuracy"] = sum(r["ward"] == p["ward"] for r, p in with_ward) / len(with_ward)

    spam_pred = [g for g, p in zip(gold_cat, pred_cat) if p == "spam"]
    metrics["spam_precision"] = (sum(g == "spam" for g in spam_pred) / len(spam_pred)) if spam_pred else None
    metrics["spam_recall"] = cat_table.get("spam", (0, 0, 0, 0))[1]
    labels = [c for c in CATEGORIES if c in set(gold_cat) | set(pred_cat)]
    metrics["confusion"] = {g: {p: sum(1 for a, b in zip(gold_cat, pred_cat) if a == g and b == p)
                                for p in labels} for g in labels}
    return metrics


# Short column names for the confusion table (gold down, predicted across).
_SHORT = {"theft_robbery": "theft", "violence": "viol", "drugs": "drug", "gambling": "gamb",
          "fraud": "fraud", "public_order": "pub", "traffic": "traf", "wanted_sighting": "want",
          "urban_order": "urb", "procedure_question": "proc", "other": "other", "spam": "spam"}


def print_confusion(m: dict, out=None) -> None:
    out = out or sys.stdout
    labels = list(m["confusion"])
    print("confusion (gold down, predicted across):", file=out)
    print(" " * 20 + "".join(f"{_SHORT.get(c, c)[:5]:>6}" for c in labels), file=out)
    for g in labels:
        print(f"{g:<20}" + "".join(f"{m['confusion'][g][p] or '.':>6}" for p in labels), file=out)


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
        print(f"emergency precision:{m['emergency_precision']:>6.3f}", file=out)
        if m["emergency_missed"]:
            print(f"emergencies missed: {', '.join(map(str, m['emergency_missed']))}", file=out)
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


def cross_validate(rows: list[dict], wards: WardGazetteer, k: int, log=None) -> dict[str, list[dict]]:
    """Out-of-fold predictions of each mode: every tip predicted by a model trained without it."""
    from sklearn.model_selection import StratifiedKFold

    from services.tips import train

    lexicon = train.LexiconView(rows, wards)
    out = {mode: [None] * len(rows) for mode in MODES}
    out["lexicon"] = predict_tips(rows, wards)  # the lexicons do not learn: the same in every fold
    labels = [r["category"] for r in rows]
    for n, (tr, te) in enumerate(StratifiedKFold(k, shuffle=True, random_state=1).split(rows, labels), 1):
        model = train.train([rows[i] for i in tr], lexicon=lexicon.subset(tr))
        test_rows = [rows[i] for i in te]
        for mode, m in (("combined", model), ("model", model_alone(model))):
            for i, p in zip(te, predict_tips(test_rows, wards, m)):
                out[mode][i] = p
        if log:
            print(f"fold {n}/{k}: trained on {len(tr)}, tested on {len(te)} "
                  f"(C {model.meta['trained_on']['svm_c']}, model weight {model.model_weight}, "
                  f"emergency threshold {model.emergency_threshold:.3f})",
                  file=log)
    return out


def print_cv(rows: list[dict], predictions: dict[str, list[dict]], k: int, out=None) -> None:
    from services.tips.train import lexicon_has_seen

    out = out or sys.stdout
    unseen = [i for i, r in enumerate(rows) if not lexicon_has_seen(r)]
    summary = []
    for mode in ("lexicon", "model", "combined"):
        m = tip_metrics(rows, predictions[mode])
        print(f"\n== {mode}{' alone' if mode != 'combined' else ''}: {k}-fold cross-validation ==", file=out)
        print_tip_metrics(m, out)
        print_confusion(m, out)
        u = tip_metrics([rows[i] for i in unseen], [predictions[mode][i] for i in unseen])
        summary.append((mode, m, u))
    print(f"\n== summary ({len(rows)} tips; 'unseen': the {len(unseen)} the lexicons were not written from) ==",
          file=out)
    print(f"{'':<10} {'macro-F1':>8} {'accuracy':>8} {'emerg R':>8} {'emerg P':>8} {'ward':>6}"
          f" | {'unseen F1':>9} {'emerg R':>8} {'emerg P':>8}", file=out)
    for mode, m, u in summary:
        print(f"{mode:<10} {m['category_macro_f1']:>8.3f} {m['category_accuracy']:>8.3f} "
              f"{m['emergency_recall']:>8.3f} {m['emergency_precision']:>8.3f} {m['ward_accuracy']:>6.3f}"
              f" | {u['category_macro_f1']:>9.3f} {u['emergency_recall']:>8.3f} {u['emergency_precision']:>8.3f}",
              file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.tips.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tips", nargs="?", type=Path, help="tips JSONL (id, text[, category, urgency, ward])")
    parser.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation over all labelled tips")
    parser.add_argument("--extra", type=Path, action="append", default=[],
                        help="with --cv: more labelled tips (e.g. exported corrections)")
    parser.add_argument("--mode", choices=MODES, default="combined",
                        help="for a tips file: lexicons and shipped model combined (default), or either alone")
    parser.add_argument("--faq", type=Path, help="FAQ queries JSONL (id, text[, faq_id])")
    parser.add_argument("--predictions", type=Path, help="write one JSON line per input")
    parser.add_argument("--wards", type=Path, default=DEFAULT_WARDS)
    parser.add_argument("--faq-entries", type=Path, default=DEFAULT_FAQ_ENTRIES)
    args = parser.parse_args(argv)
    if sum(map(bool, (args.tips, args.faq, args.cv))) != 1:
        parser.error("give a tips file, --cv K or --faq QUERIES.jsonl")

    if args.cv:
        from services.tips.train import training_rows
        if args.cv < 2:
            parser.error("--cv needs K >= 2")
        rows = training_rows(args.extra)
        all_predictions = cross_validate(rows, load_wards(args.wards), args.cv, log=sys.stdout)
        print_cv(rows, all_predictions, args.cv)
        predictions = all_predictions["combined"]
    elif args.faq:
        rows = read_jsonl(args.faq)
        # the other files' labelled questions become variants; the measured file's never do
        predictions = predict_faq(rows, load_faq(args.faq_entries, labelled_faq_queries(exclude=args.faq)))
        print_faq_metrics(faq_metrics(rows, predictions))
    else:
        rows = read_jsonl(args.tips)
        model = None if args.mode == "lexicon" else default_model()
        if args.mode != "lexicon" and model is None:
            parser.error("no model file: run python -m services.tips.train")
        if model is not None and args.mode == "model":
            model = model_alone(model)
        _warn_if_seen(rows, model)
        predictions = predict_tips(rows, load_wards(args.wards), model)
        print_tip_metrics(tip_metrics(rows, predictions))
    if args.predictions:
        write_jsonl(args.predictions, predictions)
        print(f"predictions written: {args.predictions}")
    return 0


def _warn_if_seen(rows: list[dict], model: TriageModel | None) -> None:
    from services.tips.train import lexicon_has_seen, training_rows

    ids = {r.get("id") for r in rows}
    seen_by_lexicons = sum(1 for r in rows if lexicon_has_seen(r))
    seen_by_model = len(ids & {r.get("id") for r in training_rows()}) if model is not None else 0
    if seen_by_lexicons or seen_by_model:
        print(f"warning: {seen_by_model} of these tips trained the model and {seen_by_lexicons} were read "
              "while writing the lexicons: not held-out figures (use --cv)")


if __name__ == "__main__":
    sys.exit(main())
