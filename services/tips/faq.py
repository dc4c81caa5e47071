"""Match a citizen's question to an administrative-procedure FAQ entry.

Pure code. BM25 (the ``bm25s`` package) over folded unigrams and bigrams of each
entry's title and question variants, plus labelled citizens' questions as more
variants, with the answer counted at a quarter of the weight. Vietnamese synonyms and everyday names of documents ("cà vẹt",
"hộ khẩu", "CCCD") are rewritten to one canonical form first, so the
question does not need the desk's wording. ``best`` returns None when the
question is not covered well enough: a wrong answer about a procedure is
worse than "we will reply".
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

import bm25s

from services.tips.triage import fold

# Everyday wording -> the canonical phrase used in the FAQ (folded ASCII).
# Longer phrases first where one contains another.
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("giay chung nhan dang ky xe", "dang ky xe"),
    ("giay dang ky xe", "dang ky xe"),
    ("ca vet", "dang ky xe"), ("cavet", "dang ky xe"), ("ca ve", "dang ky xe"),
    ("can cuoc cong dan gan chip", "the can cuoc"),
    ("can cuoc cong dan", "can cuoc"), ("can cuoc gan chip", "can cuoc"),
    ("cccd", "can cuoc"), ("the cc", "the can cuoc"),
    ("chung minh nhan dan", "chung minh"), ("chung minh thu", "chung minh"),
    ("cmnd", "chung minh"), ("cmt", "chung minh"),
    ("so ho khau", "ho khau"), ("nhap ho khau", "thuong tru"),
    ("nhap khau", "thuong tru"), ("chuyen khau", "thuong tru"),
    ("chuyen ho khau", "thuong tru"), ("dang ky ho khau", "thuong tru"),
    ("dinh danh dien tu", "vneid"), ("dinh danh muc 2", "vneid muc 2"),
    ("tai khoan dinh danh", "vneid"), ("dinh danh", "vneid"), ("vneid", "vneid"),
    ("ung dung vneid", "vneid"), ("vn eid", "vneid"),
    ("bang lai xe", "bang lai"), ("giay phep lai xe", "bang lai"), ("gplx", "bang lai"),
    ("bien kiem soat", "bien so"), ("bien xe", "bien so"),
    ("so truc ban", "duong day nong"), ("hotline", "duong day nong"),
    ("so khan cap", "duong day nong khan cap"), ("goi so nao", "so dien thoai goi"),
    ("phat nguoi", "phat nguoi"), ("phat qua camera", "phat nguoi"),
    ("phong chay chua chay", "pccc"), ("phong chay", "pccc"), ("chua chay", "pccc"),
    ("binh cuu hoa", "binh pccc"), ("loi thoat hiem", "thoat hiem pccc"),
    ("phong tro", "nha tro"), ("xom tro", "nha tro"), ("khu tro", "nha tro"),
    ("thue tro", "thue nha tro"), ("o tro", "thue nha tro"),
    ("khai bao luu tru", "luu tru"), ("bao luu tru", "luu tru"),
    ("ngu lai", "luu tru"), ("ngu nho", "luu tru"), ("o lai", "luu tru"),
    ("homestay", "nha nghi"), ("khach san", "nha nghi"), ("nha khach", "nha nghi"),
    ("giay an ninh trat tu", "chung nhan an ninh trat tu"),
    ("an ninh trat tu", "an ninh trat tu"), ("antt", "an ninh trat tu"),
    ("mot cua", "mot cua"), ("bo phan tiep nhan", "mot cua"),
    ("gio hanh chinh", "gio lam viec"), ("lam viec may gio", "gio lam viec"),
    ("may gio", "gio lam viec"), ("thu 7", "thu bay"), ("chu nhat", "ngay nghi"),
    ("ly lich tu phap", "ly lich tu phap"), ("lltp", "ly lich tu phap"),
    ("to giac", "tin bao to giac"), ("bao tin", "tin bao"), ("gui tin bao", "tin bao"),
    ("gui tin", "tin bao"),
    ("giu bi mat", "bi mat"), ("giau ten", "bi mat an danh"), ("an danh", "bi mat an danh"),
    ("tra thu", "tra thu bi mat"),
    ("mat trom", "mat tai san trom"), ("bi trom", "mat tai san trom"),
    ("bi cuop", "mat tai san cuop"), ("danh roi", "mat"), ("roi mat", "mat"),
    ("lam lai", "cap lai"), ("xin lai", "cap lai"), ("cap moi", "cap doi"),
    ("doi sang", "doi"), ("sang ten doi chu", "sang ten"), ("doi chu", "sang ten"),
    ("moc tui", "mat tai san trom"), ("lay mat", "mat tai san trom"),
    ("giat mat", "mat tai san cuop"), ("thao mat", "mat"),
    ("ho khau rieng", "tach ho"), ("so rieng", "tach ho"), ("tach so", "tach ho"),
    ("tach khau", "tach ho"), ("ninh binh", ""),
    ("xuat khau lao dong", "di lam an xa"), ("di lam xa", "di lam an xa"),
    ("di nuoc ngoai", "di lam an xa"),
    # more everyday wording
    ("bi giat", "mat tai san cuop"), ("giat tui", "mat tai san cuop"),
    ("bay gio", ""), ("gio day", ""), ("gio co", "co"),
    ("bang tot nghiep", "giay to"), ("hoc ba", "giay to"), ("giay khai sinh", "giay to"),
    ("van bang", "giay to"), ("giay to tuy than", "giay to"), ("so tiet kiem", "giay to"),
    ("the can cuoc", "the can cuoc"), ("doi the", "cap doi the"),
    ("nghi le", "ngay le"), ("ngay tet", "ngay le"), ("30 4", "ngay le"), ("1 5", "ngay le"),
    ("2 9", "ngay le"), ("giao thua", "ngay le"), ("mung 1 tet", "ngay le"),
    ("co lam viec khong", "gio lam viec"), ("lam viec khong", "gio lam viec"),
    ("lam viec den may gio", "gio lam viec"), ("trua", "buoi trua gio lam viec"),
    ("so dien thoai truc ban", "duong day nong"), ("so truc ban", "duong day nong"),
    ("chay nha", "chay 114"), ("cuu hoa", "chay 114"), ("cap cuu", "115 cap cuu"),
    ("so cong an", "duong day nong"), ("so dien thoai cong an", "duong day nong"),
    ("cam xe", "dang ky xe"), ("bam bien", "dang ky bien so"), ("boc bien", "dang ky bien so"),
    ("the tam tru", "tam tru"), ("khai tam vang", "tam vang"), ("bao tam vang", "tam vang"),
    ("o nho", "luu tru"), ("ngu qua dem", "luu tru"), ("khach nuoc ngoai", "nguoi nuoc ngoai luu tru"),
    ("tach khau rieng", "tach ho"), ("ra ho rieng", "tach ho"), ("ho rieng", "tach ho"),
    ("phieu tu phap", "ly lich tu phap"), ("lich tu phap", "ly lich tu phap"),
    ("an danh", "bi mat an danh"), ("ten that", "ten that bi mat"),
    ("nop phat", "nop phat nguoi"), ("bi phat nguoi", "phat nguoi"),
)
# Matters the police administrative desk does not answer (other agencies):
# a question about them gets "no match" unless it clearly names a desk matter.
OUT_OF_SCOPE = (
    "ket hon", "ly hon", "khai sinh", "khai tu", "giam ho", "nhan con nuoi",
    "so do", "so hong", "dat dai", "thua dat", "manh dat", "chuyen nhuong dat",
    "giay phep xay dung", "thue thu nhap", "quyet toan thue", "ma so thue", "thue dat",
    "nop thue", "xe buyt", "lich chay", "chuyen xe", "ve tau", "bao hiem y te",
    "bao hiem xa hoi", "bhxh", "bhyt", "luong huu", "tro cap", "that nghiep",
    "nghia vu quan su", "tuyen sinh", "nhap hoc", "hoc phi", "tiem chung", "vac xin",
    "tien dien", "tien nuoc", "cap nuoc", "internet", "chung thuc", "cong chung",
    "giay phep kinh doanh", "ho kinh doanh", "dang ky kinh doanh", "lam ho chieu",
    "cap ho chieu", "xin ho chieu", "ho chieu lan dau", "gia han ho chieu", "visa",
    "thi bang lai", "hoc bang lai", "thi sat hach", "dang ky thi", "toa an", "khoi kien",
    "vay von", "ngan hang chinh sach", "ho ngheo", "can ngheo",
)
OUT_OF_SCOPE_MIN_SCORE = 8.0

STOPWORDS = frozenset("""
a ak a anh em toi minh chi ban bac co chu thi la ma va voi cua cho o tai den
tu nay kia do nhu the nao gi sao roi nhe a oi u vay thi duoc khong ko hay
hoac nhung cac mot nhieu lam phai can nen se da dang van con ra vao len xuong
di ve ai dau bao nhieu may ah nha neu khi sau truoc rat qua moi cung ca
giup hoi xin vui long cam on ad
""".split())

# Title and variants count four times the answer (their terms are repeated).
TITLE_REPEAT = 4
BM25_K1 = 1.2
BM25_B = 0.6
# Rejection ("no match"): the question must name a matter of the police
# administrative desk (after synonyms) that the best entry also talks about,
# and reach MIN_SCORE. Generic words ("giấy tờ", "ở đâu", "hết hạn") are not
# enough: a question on marriage or health insurance papers must get None.
DOMAIN_TERMS = (
    "can cuoc", "chung minh", "tam tru", "thuong tru", "ho khau", "luu tru",
    "tam vang", "cu tru", "tach ho", "vneid", "dang ky xe", "bien so", "sang ten",
    "mua xe", "ban xe", "xe cu", "giay to", "mat tai san",
    "trom", "cuop", "mat", "ly lich tu phap", "mot cua", "lam viec", "tiep nhan",
    "ho so", "duong day nong", "113", "khan cap", "cong an", "an ninh trat tu",
    "karaoke", "cam do", "nha nghi", "pccc", "nha tro", "tin bao", "to giac",
    "bi mat", "phat nguoi", "nop phat", "an treo", "di lam an xa", "chu tro",
    "xe may", "o to", "dang ky", "thu tuc",
    "ho chieu", "bang lai", "doi the", "the can cuoc", "ngay le", "ngay nghi",
    "thu bay", "gio lam viec", "buoi trua", "114", "115", "so dien thoai",
    "dien thoai goi", "thu hoi", "ban xe", "xe dien", "tam tru", "nguoi nuoc ngoai",
    "ten that", "an danh", "giat", "bao mat", "vi",
)
# "dang ky", "cong an", "thu tuc", "ho so" and "mat" are too common to stand alone.
WEAK_DOMAIN_TERMS = {"dang ky", "cong an", "thu tuc", "ho so", "mat", "xe may", "o to",
                     "lam viec", "so dien thoai", "vi", "bang lai", "ngay nghi"}
# Losing any paper is in scope (report of lost documents), even a paper that
# another agency issues ("mất giấy khai sinh").
LOSS_TERMS = ("bi mat", "lam mat", "danh roi", "roi mat", "bao mat", "mat tui", "mat vi",
              "mat het", "that lac", "mat giay", "mat ca")
# Generic loss/theft entries give way to the entry for the document named in
# the question ("mất căn cước, làm lại thẻ" is about the card).
GENERIC_LOSS_ENTRIES = ("trinh-bao-mat-tai-san", "bao-mat-giay-to")
DOCUMENT_TERMS = ("can cuoc", "dang ky xe", "bien so", "chung minh")
DOCUMENT_MIN_RATIO = 0.4
MIN_SCORE = 3.0
RUNNER_UP_RATIO = 0.75

# Citizens' questions the desk matched to an entry: indexed as more variants.
FAQ_QUERY_FILES = sorted((Path(__file__).resolve().parents[2] / "data").glob("faq-queries-*.jsonl"))


def labelled_faq_queries(exclude: Path | None = None) -> list[tuple[str, str]]:
    """(faq_id, question) from data/faq-queries-*.jsonl, never from ``exclude`` (a file
    being measured: its questions must not be in the index)."""
    pairs = []
    for path in FAQ_QUERY_FILES:
        if exclude is not None and path.resolve() == Path(exclude).resolve():
            continue
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        pairs.extend((r["faq_id"], r["text"]) for r in rows if r.get("faq_id"))
    return pairs


_SYNONYM_PATTERNS = [(re.compile(r"(?<![a-z0-9])" + re.escape(src) + r"(?![a-z0-9])"), dst)
                     for src, dst in SYNONYMS]


def canonical_text(text: str) -> str:
    folded = " ".join(t for t in fold(text).split() if t.isalnum())
    for pattern, replacement in _SYNONYM_PATTERNS:
        folded = pattern.sub(replacement, folded)
    return folded


def terms(text: str) -> list[str]:
    """Content unigrams plus bigrams of adjacent content words."""
    words = canonical_text(text).split()
    content = [w for w in words if w not in STOPWORDS]
    bigrams = [f"{a}_{b}" for a, b in zip(words, words[1:])
               if a not in STOPWORDS and b not in STOPWORDS]
    return content + bigrams


class FaqIndex:
    """``entries``: the FAQ; ``labelled_queries``: (faq_id, question) pairs that citizens
    asked and the desk matched, indexed as more question variants of their entry."""

    def __init__(self, entries: Iterable[dict], labelled_queries: Iterable[tuple[str, str]] = ()):
        self.entries = [dict(e) for e in entries]
        self.ids = [e["id"] for e in self.entries]
        asked: dict[str, list[str]] = {}
        for faq_id, question in labelled_queries:
            asked.setdefault(faq_id, []).append(question)
        corpus = []
        for entry in self.entries:
            tokens = []
            for text in [entry.get("title", ""), *entry.get("question_variants", []), *asked.get(entry["id"], [])]:
                tokens.extend(terms(text) * TITLE_REPEAT)
            tokens.extend(terms(entry.get("answer", "")))
            corpus.append(tokens or ["_"])
        self._retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        if corpus:
            self._retriever.index(corpus, show_progress=False)
        self._vocabulary = set(self._retriever.vocab_dict) if corpus else set()
        self._entry_text = [" " + canonical_text(" . ".join(
            [e.get("title", ""), *e.get("question_variants", []), e.get("answer", "")])) + " "
            for e in self.entries]

    def _scores(self, q_terms: list[str]) -> list[float]:
        known = [t for t in q_terms if t in self._vocabulary]
        if not known:
            return [0.0] * len(self.entries)
        return [float(x) for x in self._retriever.get_scores(known)]

    def suggest(self, query: str, k: int = 3) -> list[tuple[str, float]]:
        """Top-k entries as (faq_id, score), best first; only entries that match at all."""
        scores = self._scores(list(dict.fromkeys(terms(query))))
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [(self.ids[i], round(scores[i], 3)) for i in ranked[:k] if scores[i] > 0]

    def explain(self, query: str) -> dict:
        """Best entry, its score and the desk matters it shares with the question."""
        scores = self._scores(list(dict.fromkeys(terms(query))))
        if not scores or max(scores) <= 0:
            return {"faq_id": None, "score": 0.0, "topics": []}
        i = max(range(len(scores)), key=lambda j: scores[j])
        query_text = " " + canonical_text(query) + " "
        topics = [t for t in DOMAIN_TERMS
                  if f" {t} " in query_text and f" {t} " in self._entry_text[i]]
        return {"faq_id": self.ids[i], "score": scores[i], "topics": topics}

    def _topics(self, query: str, i: int) -> list[str]:
        query_text = " " + canonical_text(query) + " "
        return [t for t in DOMAIN_TERMS
                if f" {t} " in query_text and f" {t} " in self._entry_text[i]]

    def best(self, query: str) -> str | None:
        """The entry that answers the question, or None when nothing fits."""
        e = self.explain(query)
        if e["faq_id"] is not None and all(t in WEAK_DOMAIN_TERMS for t in e["topics"]):
            # The top entry shares only generic words with the question; a
            # close runner-up that shares a desk matter answers it better.
            for faq_id, score in self.suggest(query, k=3)[1:]:
                i = self.ids.index(faq_id)
                topics = self._topics(query, i)
                if score >= RUNNER_UP_RATIO * e["score"] and any(
                        t not in WEAK_DOMAIN_TERMS for t in topics):
                    e = {"faq_id": faq_id, "score": score, "topics": topics}
                    break
        if e["faq_id"] is None or e["score"] < MIN_SCORE:
            return None
        topics = e["topics"]
        if not topics or all(t in WEAK_DOMAIN_TERMS for t in topics) and e["score"] < MIN_SCORE * 2.5:
            return None
        query_text = " " + canonical_text(query) + " "
        raw_text = " " + " ".join(t for t in fold(query).split() if t.isalnum()) + " "
        lost = any(f" {t} " in raw_text for t in LOSS_TERMS)
        if not lost and any(f" {t} " in query_text or f" {t} " in raw_text for t in OUT_OF_SCOPE):
            strong = [t for t in topics if t not in WEAK_DOMAIN_TERMS]
            if not strong or e["score"] < OUT_OF_SCOPE_MIN_SCORE:
                return None
        if e["faq_id"] in GENERIC_LOSS_ENTRIES:
            return self._document_entry(query_text, e) or e["faq_id"]
        return e["faq_id"]

    def _document_entry(self, query_text: str, e: dict) -> str | None:
        """The entry about the document the question names, if reasonably close."""
        docs = [d for d in DOCUMENT_TERMS if f" {d} " in query_text]
        if not docs:
            return None
        scores = self._scores(list(dict.fromkeys(terms(query_text))))
        best_id, best_score = None, 0.0
        for i, entry in enumerate(self.entries):
            title = " " + canonical_text(entry.get("title", "")) + " "
            if entry["id"] in GENERIC_LOSS_ENTRIES or not any(f" {d} " in title for d in docs):
                continue
            score = scores[i]
            if score > best_score:
                best_id, best_score = entry["id"], score
        return best_id if best_score >= DOCUMENT_MIN_RATIO * e["score"] else None
