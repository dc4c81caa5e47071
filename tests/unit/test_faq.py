"""Unit tests for the procedures FAQ matcher."""
import json
from pathlib import Path

import pytest

from services.tips import evaluate
from services.tips.faq import FaqIndex

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def index():
    return FaqIndex(json.loads((REPO / "data" / "procedures-faq.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("query, expected", [
    ("Mất cà vẹt xe thì làm lại ở đâu?", "cap-lai-dang-ky-xe"),
    ("mat giay dang ky xe may thi cap lai the nao", "cap-lai-dang-ky-xe"),
    ("CCCD bị sai ngày sinh thì đổi thế nào", "can-cuoc-cap-doi"),
    ("thue tro 3 thang co phai dang ky tam tru ko", "dang-ky-tam-tru"),
    ("chuyển hộ khẩu về nhà mới mua cần gì", "dang-ky-thuong-tru"),
    ("kich hoat VNeID muc 2 o dau", "dinh-danh-dien-tu-muc-2"),
    ("số điện thoại công an khi khẩn cấp", "duong-day-nong"),
])
def test_best_match_with_synonyms_and_without_diacritics(index, query, expected):
    assert index.best(query) == expected


def test_top3_contains_related_entries(index):
    top = index.suggest("Mất thẻ căn cước thì làm lại ở đâu?", k=3)
    ids = [faq_id for faq_id, _ in top]
    assert len(top) == 3
    assert ids[0] == "can-cuoc-cap-lai-khi-mat"
    assert "bao-mat-giay-to" in ids or "can-cuoc-cap-doi" in ids
    scores = [s for _, s in top]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", [
    "Đăng ký kết hôn cần giấy tờ gì?",
    "bảo hiểm y tế hết hạn gia hạn thế nào",
    "đổi bằng lái xe hết hạn ở đâu",
    "xe buýt số 2 chạy mấy giờ",
    "thời tiết ngày mai thế nào",
    "",
])
def test_no_match_for_questions_outside_the_faq(index, query):
    assert index.best(query) is None


def test_nfd_query_equals_nfc(index):
    import unicodedata
    q = "Đăng ký tạm trú cho sinh viên thuê trọ"
    assert index.suggest(unicodedata.normalize("NFD", q)) == index.suggest(q)


def test_dev_queries_floor(tmp_path):
    rows = evaluate.read_jsonl(REPO / "data" / "faq-queries-dev.jsonl")
    predictions = evaluate.predict_faq(rows, evaluate.load_faq(evaluate.DEFAULT_FAQ_ENTRIES))
    m = evaluate.faq_metrics(rows, predictions)
    # Measured 0.917 originally, 1.0 after the generalisation work; floor below.
    assert m["top1_accuracy"] >= 0.93
    out = tmp_path / "faq-pred.jsonl"
    evaluate.write_jsonl(out, predictions)
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"id", "faq_id"}


def test_team_queries_floor():
    """Regression guard on data/faq-queries-team.jsonl (53 queries, 15 with no FAQ entry).

    Measured 1.0 top-1, 1.0 on answerable, 1.0 no-match correct (before the
    generalisation work: 0.868 / 0.868 / 0.867). Floors a little below.
    """
    rows = evaluate.read_jsonl(REPO / "data" / "faq-queries-team.jsonl")
    assert len(rows) >= 40 and sum(r["faq_id"] is None for r in rows) >= 10
    predictions = evaluate.predict_faq(rows, evaluate.load_faq(evaluate.DEFAULT_FAQ_ENTRIES))
    m = evaluate.faq_metrics(rows, predictions)
    assert m["top1_accuracy"] >= 0.92
    assert m["answerable_top1"] >= 0.90
    assert m["no_match_correct"] >= 0.85
    assert m["no_match_precision"] is not None and m["no_match_precision"] >= 0.85
