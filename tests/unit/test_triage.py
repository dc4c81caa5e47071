"""Unit tests for tip triage: behaviour a duty officer relies on."""
import json
import unicodedata
from pathlib import Path

import pytest

from services.tips import evaluate
from services.tips.triage import (
    WardGazetteer, fold, fold_for_search, near_duplicates, redact, search_tokens, triage,
)

REPO = Path(__file__).resolve().parents[2]
WARDS = json.loads((REPO / "data" / "ninh-binh.json").read_text(encoding="utf-8"))["wards"]


@pytest.fixture(scope="module")
def gazetteer():
    return WardGazetteer(WARDS)


# --- normalisation -----------------------------------------------------------

def test_nfc_and_nfd_input_give_identical_result(gazetteer):
    text = "Có 2 nhóm thanh niên đang cầm dao chém nhau ở phường Ninh Khánh, có người chảy nhiều máu"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    a, b = triage(text, gazetteer), triage(nfd, gazetteer)
    assert (a.category, a.urgency, a.ward) == (b.category, b.urgency, b.ward)
    assert a.category == "violence" and a.urgency == "emergency" and a.ward == "ninh-khanh"
    assert fold(text) == fold(nfd)


def test_fold_strips_diacritics_and_expands_chat_abbreviations():
    assert fold("Đường") == "duong"
    assert fold("ko dc, cs oi") == "khong duoc , cong an oi"
    assert fold("mất 3tr") == "mat 3 trieu"
    # "a" is left alone: it is usually the folded "ạ"
    assert fold("dạ vâng ạ") == "da vang a"


def test_search_fold_has_no_abbreviation_expansion():
    assert fold_for_search("Ko phải ĐÀ Nẵng!") == "ko phai da nang"
    assert search_tokens("trộm trộm Trom xe") == ["trom", "xe"]


def test_text_without_diacritics_is_understood(gazetteer):
    r = triage("nha em o phuong Nam Binh bi trom xe may dem qua, cat khoa cong", gazetteer)
    assert r.category == "theft_robbery"
    assert r.ward == "nam-binh"
    assert r.urgency == "normal"


def test_chat_abbreviations(gazetteer):
    r = triage("cs oi e vua bi lua chuyen khoan 5tr cho 1 shop online, no chan e luon r", gazetteer)
    assert r.category == "fraud"
    assert r.urgency == "high"


def test_negation_not_a_fight(gazetteer):
    r = triage("ko phai danh nhau dau a, chi la may dua tre tu tap cai nhau to tieng, hat karaoke on ao den khuya",
               gazetteer)
    assert r.category == "public_order"
    assert r.urgency != "emergency"


def test_negation_not_a_theft(gazetteer):
    r = triage("Không phải mất trộm đâu ạ, hóa ra em họ mượn xe, các anh hủy tin báo giúp em", gazetteer)
    assert r.category == "other"
    assert r.urgency == "low"


# --- wards --------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Có trộm ở phường Ninh Khánh",
    "Có trộm ở P.Ninh Khánh",
    "co trom o p. ninh khanh",
    "co trom o ninh khanh",
    "có trộm ở Ninh-Khánh",
])
def test_ward_in_several_spellings(gazetteer, text):
    assert gazetteer.find(text) == "ninh-khanh"


def test_bare_abbreviation_street_and_outside_city_give_no_ward(gazetteer):
    assert gazetteer.find("có trộm ở NK tối qua") is None
    assert gazetteer.find("quán karaoke trên đường Ninh Khánh hát đến 2h") is None
    assert gazetteer.find("nhà tôi ở xã Ninh Phúc, huyện Gia Viễn, tỉnh Hà Nam") is None


def test_commune_prefix(gazetteer):
    assert gazetteer.find("xóm 2 x.Ninh Nhất") == "ninh-nhat"


def test_two_wards_gives_the_one_where_action_is_needed(gazetteer):
    text = "Tôi ở phường Tân Thành. Xe của tôi vừa bị trộm ở phường Nam Bình, đề nghị công an phường Nam Bình xác minh"
    assert gazetteer.find(text) == "nam-binh"
    text = "Người này trước sống ở phường Phúc Thành, nay đang ở trọ tại phường Ninh Sơn"
    assert gazetteer.find(text) == "ninh-son"


def test_ward_list_is_data_not_hard_coded():
    # After a reorganisation: one merged ward with the old names as aliases.
    merged = WardGazetteer([{"id": "hoa-lu", "name": "Hoa Lư", "type": "phường",
                             "aliases": ["Ninh Khánh", "Đông Thành"]}])
    assert merged.find("có trộm ở phường Ninh Khánh") == "hoa-lu"
    assert merged.find("đánh nhau ở phuong hoa lu") == "hoa-lu"
    assert merged.find("có trộm ở phường Nam Bình") is None  # not in this list


# --- urgency -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Cứu với, chồng em đang cầm dao đòi giết em, em đang trốn trong nhà vệ sinh",
    "nha ben dang danh con du qua, thang be bi troi vao cot roi quat bang roi",
    "tai nan o nga tu, xe tai dam xe may, 1 nguoi nam bat dong, can cap cuu gap",
    "Ông ấy ngồi gục ở gốc cây, tay còn cắm kim tiêm, môi tím tái, lay không tỉnh",
    "Có thằng cầm kiếm đang đi lùng trong khu trọ, đập cửa từng phòng",
])
def test_emergencies(gazetteer, text):
    assert triage(text, gazetteer).urgency == "emergency"


@pytest.mark.parametrize("text", [
    "Có đứa bé ngã xuống ao sau nhà đang vùng vẫy, mọi người ơi",
    "Ông cụ đầu ngõ tự nhiên đổ gục, mê man, gọi không dậy",
    "Nghe tiếng súng nổ ở bãi xe đầu phường, mọi người chạy tán loạn",
    "Chung cư mini cháy lớn, còn người mắc kẹt trên tầng 4",
    "Thang máy tòa nhà bị kẹt giữa hai tầng, có 3 người kẹt trong thang máy hơn 30 phút",
    "Anh hàng xóm say rượu đang đứng trên lan can cầu dọa nhảy",
    "Bé khoảng 3 tuổi bị bỏ quên trong xe ô tô đỗ ở bãi xe siêu thị, cửa khóa, bé khóc lả đi",
    "Xe tải chở đất mất phanh đang lao xuống dốc về phía chợ",
])
def test_general_danger_wording_is_an_emergency(gazetteer, text):
    """Wording of a person down, shots, fire with people inside, trapped, drowning and
    self-harm, written from the language rather than from the labelled files."""
    assert triage(text, gazetteer).urgency == "emergency"


@pytest.mark.parametrize("text", [
    "Con tôi chơi tài xỉu online, nợ bạn bè gần 40 triệu, tôi cần tố cáo ở đâu?",
    "Ô tô đỗ tràn lan trước cổng bệnh viện, xe cấp cứu ra vào khó khăn, đề nghị xử lý",
])
def test_lookalikes_of_danger_words_are_not_emergencies(gazetteer, text):
    """"tài xỉu" is a dice game, not "xỉu" (fainting); an ambulance mentioned is no one hurt."""
    assert triage(text, gazetteer).urgency != "emergency"


def test_past_assault_is_not_an_emergency(gazetteer):
    r = triage("Tối qua tôi bị đánh ở gần chợ, đã đi khám, có giấy chứng nhận thương tích", gazetteer)
    assert r.category == "violence"
    assert r.urgency == "normal"


def test_scam_in_progress_is_high_not_emergency(gazetteer):
    r = triage("Bố tôi đang nghe điện thoại của người tự xưng nhân viên ngân hàng bảo đọc mã OTP, gấp!", gazetteer)
    assert r.category == "fraud"
    assert r.urgency == "high"


def test_procedure_question_is_low(gazetteer):
    r = triage("Cho em hỏi đăng ký tạm trú cho sinh viên thuê trọ cần giấy tờ gì ạ?", gazetteer)
    assert r.category == "procedure_question"
    assert r.urgency == "low"


# --- spam -----------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "asdfgh jjj kkk lll",
    "Shop chuyên sỉ lẻ quần áo, ship toàn quốc, inbox ngay nhé",
    "Vay tiền online giải ngân 5 phút, lãi suất 0%, chỉ cần căn cước, liên hệ ngay",
])
def test_spam(gazetteer, text):
    r = triage(text, gazetteer)
    assert r.is_spam and r.category == "spam" and r.urgency == "low"


def test_scam_report_quoting_an_ad_is_not_spam(gazetteer):
    r = triage("Tôi bị lừa: app vay tiền online quảng cáo giải ngân nhanh, lãi suất 0%, "
               "giờ bắt trả gấp 3 lần và nhắn tin bôi nhọ cả danh bạ", gazetteer)
    assert not r.is_spam
    assert r.category == "fraud"


# --- citizen's chosen category ------------------------------------------------

def test_chosen_category_is_kept_and_disagreement_flagged(gazetteer):
    text = "Quán nước đầu chợ ghi lô đề công khai, chiều nào cũng đông người đến ghi số đánh đề"
    r = triage(text, gazetteer, chosen_category="traffic")
    assert r.category == "traffic"
    assert r.suggested_category == "gambling"
    assert r.category_disagreement
    same = triage(text, gazetteer, chosen_category="gambling")
    assert same.category == "gambling" and not same.category_disagreement


def test_no_disagreement_when_triage_is_unsure(gazetteer):
    r = triage("Các anh ơi cho em hỏi chút việc", gazetteer, chosen_category="violence")
    assert r.category == "violence"
    assert not r.category_disagreement


def test_reasons_name_the_cues(gazetteer):
    r = triage("Có người đang ghi lô đề ở phường Vân Giang", gazetteer)
    assert any("lo de" in reason for reason in r.reasons)
    assert any("Vân Giang" in reason for reason in r.reasons)


# --- redaction ------------------------------------------------------------------

def test_redact_phone_numbers():
    for phone in ("0912345678", "0912.345.678", "0912 345 678", "091-234-5678", "+84 912 345 678",
                  "+84912345678", "0229 3871 234"):
        assert redact(f"gọi {phone} nhé") == "gọi [số điện thoại] nhé", phone


def test_redact_citizen_id():
    assert redact("CCCD 037190001234 của tôi") == "CCCD [số CCCD] của tôi"


def test_redact_plates():
    for plate in ("35A-123.45", "35A12345", "35-B1 234.56", "29LD-123.45", "35B1-234.56", "35a-123.45"):
        assert redact(f"xe biển {plate} bỏ chạy") == "xe biển [biển số] bỏ chạy", plate


def test_redact_keeps_ordinary_numbers():
    text = "Năm 2024, nhà số 125 ngõ 45, lúc 2-3 giờ sáng, mất 20 triệu, phòng 305, 15h30"
    assert redact(text) == text


# --- near-duplicates -------------------------------------------------------------

def test_near_duplicates_across_spellings():
    open_tips = [
        ("t1", "Có trộm xe máy ở ngõ 5 phường Ninh Khánh tối qua, cắt khóa cổng"),
        ("t2", "Quán karaoke hát to đến 2 giờ sáng"),
    ]
    found = near_duplicates("co trom xe may o ngo 5 phuong Ninh Khanh toi qua, cat khoa cong", open_tips)
    assert [tip_id for tip_id, _ in found] == ["t1"]
    assert found[0][1] >= 0.9
    assert near_duplicates("Xe tải chở gỗ quá khổ", open_tips) == []


# --- regression floor on the dev file ----------------------------------------------

def test_dev_file_floors():
    rows = evaluate.read_jsonl(REPO / "data" / "tips-dev.jsonl")
    predictions = evaluate.predict_tips(rows, evaluate.load_wards(evaluate.DEFAULT_WARDS))
    m = evaluate.tip_metrics(rows, predictions)
    # Floors a little below the measured figures (0.98 / 1.0 / 1.0 / 1.0).
    assert m["category_macro_f1"] >= 0.93
    assert m["emergency_recall"] >= 0.95
    assert m["ward_accuracy"] >= 0.95
    assert m["spam_precision"] >= 0.95
    assert m["urgency_accuracy"] >= 0.90


def test_team_heldout_file_floors():
    """Regression guard on the team's own labelled set (data/tips-team-heldout.jsonl).

    Measured after the generalisation work: macro-F1 0.939, category accuracy
    0.940, urgency accuracy 0.932, emergency recall 1.0, ward accuracy 1.0,
    spam precision 1.0. Half B of that file (even rows, never looked at while
    tuning) gave macro-F1 0.892 and emergency recall 1.0. Floors sit a little
    below; the real held-out set is still the one to trust.
    """
    rows = evaluate.read_jsonl(REPO / "data" / "tips-team-heldout.jsonl")
    assert len(rows) >= 200
    predictions = evaluate.predict_tips(rows, evaluate.load_wards(evaluate.DEFAULT_WARDS))
    m = evaluate.tip_metrics(rows, predictions)
    assert m["category_macro_f1"] >= 0.90
    assert m["category_accuracy"] >= 0.90
    assert m["urgency_accuracy"] >= 0.88
    assert m["emergency_recall"] >= 0.95
    assert m["ward_accuracy"] >= 0.97
    assert m["spam_precision"] is not None and m["spam_precision"] >= 0.95


def test_evaluate_runs_on_unlabelled_file(tmp_path, capsys):
    src = tmp_path / "tips.jsonl"
    src.write_text(json.dumps({"id": "x1", "text": "có trộm ở phường Ninh Khánh"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    assert evaluate.main([str(src), "--predictions", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tips: 1" in printed and "macro-F1" not in printed
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "id": "x1", "category": "theft_robbery", "urgency": "normal", "ward": "ninh-khanh"}


# --- the learned model beside the lexicons -------------------------------------------

@pytest.fixture(scope="module")
def model():
    from services.tips.triage.model import default_model
    m = default_model()
    assert m is not None, "the model file ships with the repository (python -m services.tips.train)"
    return m


def test_shipped_model_was_trained_on_the_current_data_files(model):
    """Stale-model guard: editing a labelled file without retraining fails here."""
    from services.tips import train
    assert model.meta["trained_on"]["data_digest"] == train.data_digest(train.training_rows())
    assert model.categories == sorted(evaluate.CATEGORIES)


def test_model_file_is_plain_arrays_not_pickle():
    import numpy as np
    from services.tips.triage.model import MODEL_FILE
    with np.load(MODEL_FILE, allow_pickle=False) as f:  # raises on any pickled object
        assert {"meta", "category_weights", "emergency_weights"} <= set(f.files)


@pytest.mark.parametrize("text", [
    "1 ông cầm mũ bảo hiểm nện liên tục vào đầu ông kia, ông kia gục xuống không dậy",
    "Có 2 nhóm thanh niên đang cầm dao chém nhau ở phường Ninh Khánh, có người chảy nhiều máu",
    "ông cụ nhà bên ngã trong nhà tắm khóa trái cửa, gọi mãi không thưa",
])
def test_emergencies_with_the_model(gazetteer, model, text):
    assert triage(text, gazetteer, model=model).urgency == "emergency"


def test_model_keeps_the_lexicons_strengths(gazetteer, model):
    not_a_fight = triage("ko phai danh nhau dau a, chi la may dua tre tu tap cai nhau to tieng, "
                         "hat karaoke on ao den khuya", gazetteer, model=model)
    assert not_a_fight.category == "public_order" and not_a_fight.urgency != "emergency"
    ad = triage("Shop chuyên sỉ lẻ quần áo, ship toàn quốc, inbox ngay nhé", gazetteer, model=model)
    assert ad.is_spam and ad.urgency == "low"
    question = triage("Cho em hỏi đăng ký tạm trú cho sinh viên thuê trọ cần giấy tờ gì ạ?", gazetteer, model=model)
    assert (question.category, question.urgency) == ("procedure_question", "low")


def test_model_result_is_the_same_for_nfc_and_nfd_and_explains_itself(gazetteer, model):
    text = "Tối qua nhà tôi ở phường Nam Bình bị trộm mất xe máy, cắt khóa cổng"
    a = triage(text, gazetteer, model=model)
    b = triage(unicodedata.normalize("NFD", text), gazetteer, model=model)
    assert (a.category, a.urgency, a.ward, a.confidence) == (b.category, b.urgency, b.ward, b.confidence)
    assert (a.category, a.urgency, a.ward) == ("theft_robbery", "normal", "nam-binh")
    assert "model" in a.reasons[0] and any("Nam Bình" in r for r in a.reasons)
    assert 0 < a.confidence <= 1 and abs(sum(a.category_scores.values()) - 1) < 0.05


def test_citizens_choice_is_kept_and_contested_only_when_the_model_is_sure(gazetteer, model):
    text = "Quán nước đầu chợ ghi lô đề công khai, chiều nào cũng đông người đến ghi số đánh đề"
    r = triage(text, gazetteer, chosen_category="traffic", model=model)
    assert r.category == "traffic" and r.suggested_category == "gambling" and r.category_disagreement
    unsure = triage("Các anh ơi cho em hỏi chút việc", gazetteer, chosen_category="violence", model=model)
    assert unsure.category == "violence" and not unsure.category_disagreement


def test_training_reads_extra_labelled_files(tmp_path):
    from services.tips import train
    extra = tmp_path / "corrections.jsonl"
    extra.write_text(json.dumps({"id": "officer-ABC", "text": "có người lừa chuyển tiền", "category": "fraud",
                                 "urgency": "normal", "ward": None}, ensure_ascii=False) + "\n"
                     + json.dumps({"id": "officer-X", "text": "", "category": "fraud"}) + "\n", encoding="utf-8")
    base = train.training_rows()
    more = train.training_rows([extra])
    assert len(more) == len(base) + 1 and more[-1]["id"] == "officer-ABC"
    assert not train.lexicon_has_seen(more[-1]) and train.lexicon_has_seen({"id": "dev-001"})
    # the lexicon weight is judged on tips no category cue was written from
    assert train.category_cues_have_seen({"id": "team-001"}) and not train.category_cues_have_seen({"id": "ex-001"})


# --- officers' corrections (pure rules) ------------------------------------------------

def _triaged_tip():
    from datetime import datetime, timezone
    now = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
    return {"id": "t1", "tip_code": "BY-AAAA-BBBB", "status": "assigned", "channel": "web", "unit_id": "ca-nk",
            "text": "Nhà tôi bị trộm, gọi 0912 345 678", "category": "theft_robbery", "urgency": "normal",
            "ward": "ninh-khanh", "received_at": now, "sla_due_at": None, "audit": [],
            "triage": {"suggested_category": "theft_robbery"}}, now


def test_a_correction_changes_the_tip_not_its_unit_and_keeps_a_redacted_example():
    from services.tips import domain
    tip, now = _triaged_tip()
    officer = {"id": "o1", "roles": ["triage_officer"]}
    out, correction = domain.correct_triage(tip, {"category": "violence", "urgency": "emergency"}, officer, now,
                                            True, {"ninh-khanh"})
    assert (out["category"], out["urgency"], out["unit_id"]) == ("violence", "emergency", "ca-nk")
    assert out["sla_due_at"] is not None and out["audit"][-1]["action"] == "correct_triage"
    assert "0912" not in correction["text"] and correction["before"]["category"] == "theft_robbery"
    row = domain.label_row(correction)
    assert set(row) == set(evaluate.read_jsonl(REPO / "data" / "tips-dev.jsonl")[0])
    assert domain.correction_report([correction]) == [("category", "theft_robbery", "violence", 1),
                                                      ("urgency", "normal", "emergency", 1)]


@pytest.mark.parametrize("changes, in_scope, roles, error", [
    ({"category": "violence"}, False, ["triage_officer"], "Forbidden"),
    ({"category": "violence"}, True, ["auditor"], "Forbidden"),
    ({"ward": "atlantis"}, True, ["triage_officer"], "InvalidInput"),
    ({"category": "theft_robbery"}, True, ["triage_officer"], "InvalidInput"),
])
def test_a_correction_is_refused_out_of_scope_or_without_a_real_change(changes, in_scope, roles, error):
    from services.tips import domain
    tip, now = _triaged_tip()
    with pytest.raises(Exception) as exc:
        domain.correct_triage(tip, changes, {"id": "o1", "roles": roles}, now, in_scope, {"ninh-khanh"})
    assert type(exc.value).__name__ == error


def test_the_emergency_head_raises_only_in_a_category_where_lives_are_at_stake(gazetteer, model):
    """False emergencies cost officers' attention: the head alone (here at a threshold that
    would flag every tip) raises only in a category where emergencies happen, and its
    reason names the danger or "now" wording it found."""
    import numpy as np
    from services.tips.triage.model import TriageModel
    eager = TriageModel(dict(model.arrays, meta=np.array(json.dumps(dict(model.meta, emergency_threshold=-100.0)))))
    assert "wanted_sighting" not in eager.emergency_categories
    sighting = triage("đang có thằng bị truy nã ngồi quán nước đầu ngõ, áo đen", gazetteer, model=eager)
    assert sighting.category == "wanted_sighting" and sighting.urgency != "emergency"
    raised = triage("có đứa đang bẻ khóa xe máy trước quán phở nhà em", gazetteer, model=eager)
    assert raised.category == "theft_robbery" and raised.urgency == "emergency"
    assert "model" in raised.reasons[-1] and "now: dang" in raised.reasons[-1]
