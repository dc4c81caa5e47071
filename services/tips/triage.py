"""Triage of citizen tips written in Vietnamese: category, urgency, ward, spam.

Pure domain code: standard library only, no I/O. Everything an officer sees
(category, urgency, ward) is a *suggestion*; ``reasons`` lists the cues that
produced it so the desk can judge it quickly.

How it works, briefly:
  * ``fold`` turns any spelling (with/without diacritics, NFC/NFD, chat
    abbreviations) into one ASCII token stream; all lexicons below are written
    in that folded form.
  * Each category has weighted cue phrases. A cue preceded by a negation
    ("khong phai", "chua", ...) inside the same clause is ignored, so
    "ko phai danh nhau" does not count as a fight.
  * Urgency comes from tense cues (happening now / just now / past), danger
    cues (weapon, unconscious, calling for help) and the chosen category.
    Life-threat vocabulary covers fire with people trapped, drowning,
    electrocution, self-harm, strangling and hostage-taking; a person being
    carried off ("bế cháu lên xe") counts as abduction; threats with no
    attacker present are high; an explicit "giờ đang" beats an earlier past
    cue in the same clause. With a clear theft cue, violence must be twice
    as strong to take the category (an armed robbery is theft).
  * The lexicons were broadened with general vocabulary (synonyms, slang,
    diacritic-less forms) and checked on data/tips-team-heldout.jsonl, whose
    even rows were never looked at while tuning.
  * Wards come from a gazetteer built from reference data passed in, never
    from a hard-coded list (the 2025 reorganisation renamed wards).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from service_runtime.text import fold_for_search, normalise, search_tokens, strip_diacritics  # noqa: F401

# ---------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------

# Chat abbreviations, one folded token -> expansion. Only those that are
# unambiguous in tip messages: e.g. "a" is not here because it is also the
# folded "ạ" (politeness particle), "bh" could be "bây giờ" or "bao giờ".
CHAT_ABBREVIATIONS = {
    "ko": "khong", "k": "khong", "kh": "khong", "khg": "khong", "hok": "khong",
    "k0": "khong", "hem": "khong",
    "dc": "duoc", "dduoc": "duoc",
    "cs": "cong an", "csgt": "canh sat giao thong",
    "ng": "nguoi", "ngta": "nguoi ta",
    "j": "gi", "bn": "bao nhieu", "vs": "voi", "mn": "moi nguoi", "mng": "moi nguoi",
    "ak": "a", "ah": "a", "nc": "nuoc", "cx": "cung", "cg": "cung", "r": "roi",
    "e": "em", "sdt": "so dien thoai", "dt": "dien thoai", "dth": "dien thoai",
    "tp": "thanh pho", "ntn": "nhu the nao", "lm": "lam", "bgio": "bay gio",
    "bjo": "bay gio", "hqua": "hom qua", "hnay": "hom nay", "trc": "truoc",
    "ck": "chong", "vk": "vo", "mk": "minh", "cty": "cong ty", "xm": "xe may",
    "oto": "o to", "stk": "so tai khoan", "tk": "tai khoan", "thg": "thang",
    "ad": "admin", "nt": "nhan tin", "tn": "tin nhan", "kb": "ket ban", "zl": "zalo", "fb": "facebook", "vn": "viet nam",
    "cccd": "can cuoc cong dan", "cmnd": "chung minh nhan dan",
    "cmt": "chung minh thu", "gplx": "giay phep lai xe",
    "ubnd": "uy ban nhan dan", "tdp": "to dan pho", "pccc": "phong chay chua chay",
    "antt": "an ninh trat tu",
}
# Number + unit written together: "3tr", "500k", "15p", "2h".
_NUMBER_UNIT = re.compile(r"^(\d+)(tr|trieu|k|ng|p|ph|h|g|t)$")
_NUMBER_UNITS = {"tr": "trieu", "trieu": "trieu", "k": "nghin", "ng": "nghin",
                 "p": "phut", "ph": "phut", "h": "gio", "g": "gio", "t": "tuoi"}
# Abbreviated administrative prefixes written with a dot: "P.Ninh Khánh", "x.".
_PREFIX_DOT = [
    (re.compile(r"(?<![a-z0-9])tp\s*\.\s*"), " thanh pho "),
    (re.compile(r"(?<![a-z0-9])p\s*\.\s*"), " phuong "),
    (re.compile(r"(?<![a-z0-9])x\s*\.\s*"), " xa "),
    (re.compile(r"(?<![a-z0-9])q\s*\.\s*"), " quan "),
    (re.compile(r"(?<![a-z0-9])h\s*\.\s*"), " huyen "),
]
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?()\n]")
_CLAUSE_BREAK = set(".,;:!?()\n")


def _fold_tokens(text: str) -> list[str]:
    """Folded tokens with punctuation kept as clause-break tokens."""
    t = strip_diacritics(normalise(text).lower())
    for pattern, replacement in _PREFIX_DOT:
        t = pattern.sub(replacement, t)
    out: list[str] = []
    raw = _TOKEN.findall(t)
    for i, tok in enumerate(raw):
        m = _NUMBER_UNIT.match(tok)
        if m:
            out.extend([m.group(1), _NUMBER_UNITS[m.group(2)]])
            continue
        if tok == "a" and i + 1 < len(raw) and raw[i + 1] == "oi":
            out.append("anh")  # "a oi" = "anh ơi"; a bare "a" is usually "ạ"
            continue
        out.extend(CHAT_ABBREVIATIONS.get(tok, tok).split())
    return out


def fold(text: str) -> str:
    """Lower-case ASCII fold with chat abbreviations expanded.

    Punctuation that ends a clause is kept as its own token so that phrase
    cues and negation windows never cross a clause.
    """
    return " ".join(_fold_tokens(text))


# ---------------------------------------------------------------------------
# Lexicons (folded ASCII phrases -> weight)
# ---------------------------------------------------------------------------

CATEGORIES = ("theft_robbery", "violence", "drugs", "gambling", "fraud",
              "public_order", "traffic", "wanted_sighting", "urban_order",
              "procedure_question", "other", "spam")

# When scores tie, the more specific / more serious matter wins (README: an
# armed robbery is theft, a fake policeman is fraud).
CATEGORY_PRIORITY = ("wanted_sighting", "fraud", "theft_robbery", "drugs",
                     "gambling", "violence", "traffic", "urban_order",
                     "public_order", "procedure_question", "other", "spam")

# Weighted cue phrases per category, folded ASCII. Weights: 4-5 names the
# matter outright ("lua dao", "truy na"), 2-3 a strong sign, 0.5-1.5 a hint.
CATEGORY_CUES: dict[str, dict[str, float]] = {
    "theft_robbery": {
        "trom": 2.5, "mat trom": 3, "an trom": 3, "bi trom": 3, "trom cap": 3,
        "ke trom": 3, "lay trom": 3, "trom xe": 3, "ke gian": 3, "an cap": 3,
        "mat cap": 3, "cuop": 3, "cuop giat": 4, "bi cuop": 4, "giat tui": 3,
        "giat day chuyen": 4, "giat dien thoai": 3.5, "bi giat": 3, "giat mat": 3,
        "giat hanh ly": 2, "moc tui": 3, "rach tui": 3, "pha khoa": 3, "cat khoa": 3,
        "be khoa": 3, "dat mat": 2.5, "lay mat": 2.5, "bi lay": 2, "tran lot": 4,
        "dot nhap": 2.5, "treo tuong": 2.5, "treo qua": 2.5, "treo rao": 2.5,
        "treo vao": 2.5, "len vao": 2, "khong thanh toan": 1.5, "tieu thu": 1,
        "do gian": 2, "mat xe": 2, "bi mat": 1.5, "thi mat": 1.5, "lay cap": 2,
        "cay cua": 2, "trom cho": 3, "danh lac huong": 2, "mat hang": 1,
        "mat do": 1, "tui xach": 0.5, "vi tien": 0.5, "chay mat": 1,
        # general vocabulary: forcing a handover, breaking in, carrying off
        "cuop tien": 4, "cuop xe": 4, "cuop hang": 4, "cuop tai san": 4,
        "cuop dien thoai": 4, "cuop tiem vang": 4, "an cuop": 4, "tham cuop": 4,
        "bat dua tien": 3, "bat dua": 2.5, "bat nop": 1.5, "vo het": 2.5, "vet sach": 2.5,
        "khua sach": 2.5, "khuan": 2, "khuan di": 3, "cuom": 3, "thuong trom": 3,
        "trom vat": 3, "dot pha": 1.5, "bat trom": 3, "phat hien trom": 3,
        "mang theo tivi": 2, "mang di mat": 2.5, "lay di": 1.5, "lay het": 2,
        "bi moc": 3, "moc": 1.5, "chom": 2.5,
        "cuom mat": 3, "xong vao cua hang": 2.5, "xong vao tiem": 2.5,
        "xong vao nha": 2, "chan xe cuop": 4, "chan duong cuop": 4, "di dao": 2,
        "ke dao": 2, "tiem vang": 1.5, "ket sat": 2, "ket tien": 2,
        "hang mat": 1, "bi mat xe": 3, "mat laptop": 3,
        "mat dien thoai": 2.5, "mat vi": 2, "mat xe may": 3, "mat xe dap": 3,
        "mat ga": 2, "mat cho": 2.5, "trom ga": 3, "bat ga": 1.5,
        "an trom dien": 1.5, "mat dong ho": 2, "mat tien mat": 2,
    },
    "violence": {
        "danh nhau": 3, "danh dap": 3, "danh vo": 3, "danh con": 3, "danh nguoi": 3,
        "danh hoi dong": 4, "bi danh": 3, "danh tre": 3, "danh chau": 3,
        "danh lien tuc": 3, "danh ghen": 3, "vay danh": 4, "danh bang": 2,
        "doa se danh": 3, "doa danh": 3, "danh": 1, "dam nhau": 3, "dap nguoi": 3,
        "dap vao dau": 3, "vo dau": 2.5, "khau": 1.5, "chem": 3, "chem nhau": 4,
        "dam chem": 4, "cam dao": 3, "dao phay": 3, "dao kiem": 3, "rut dao": 3,
        "vung dao": 3, "dao bam": 3, "dao nhon": 3, "cam kiem": 3, "cam gay": 2.5,
        "hanh hung": 4, "bao luc": 3, "bao hanh": 3, "nguoc dai": 4, "de doa": 2,
        "doa giet": 4, "doi giet": 4, "giet": 2, "tat axit": 4, "axit": 2,
        "xo xat": 1.5, "au da": 3, "bam tim": 2, "vet bam": 2.5, "quat": 1,
        "xam hai": 4, "hiep dam": 4, "sam so": 3, "quay roi": 2, "bat coc": 4,
        "ban nhau": 3, "sung": 2, "bat nat": 2.5, "keu cuu": 2, "tra thu": 1,
        "tung anh": 2, "anh rieng tu": 2, "tum toc": 3, "bi troi": 3, "troi vao": 3,
        "thuong tich": 2, "gay thuong tich": 3, "gay go": 1.5, "dam nguoi": 3,
        "lung": 1, "xu": 0.5, "chai bia": 1, "nam guc": 2, "chay mau": 1,
        "dung gay": 2.5, "dap": 1, "bat di": 3, "loi len xe": 3, "be len xe": 3,
        "keo len xe": 3, "khoc goi me": 2,
        # general vocabulary: weapons, attacks, abduction, strangling, threats
        "ma tau": 3, "cam ma tau": 3.5, "dao rua": 3, "cam rua": 3, "xa beng": 2,
        "tuyp sat": 3, "gay sat": 2.5, "gay bong chay": 3, "cam bua": 2.5,
        "cam sung": 4, "di sung": 4, "ban sung": 4, "no sung": 4, "chia sung": 4,
        "dam dao": 3, "dam vao bung": 4, "dam vao nguoi": 4, "bi dam": 3,
        "dam chet": 4, "dao dam": 3, "chem vao": 4, "bi chem": 4, "chem chet": 4,
        "bop co": 4, "siet co": 4, "dap dau": 3, "dap vao": 2, "dam vao mat": 3,
        "dam vao dau": 3, "dam dap": 3, "dam da": 3, "dam dam": 2.5, "tat vao mat": 3,
        "tat": 0.5, "dap cho chet": 4, "danh chet": 4, "danh dan": 4, "danh trong thuong": 4,
        "danh bam dap": 4, "danh ngat": 4, "danh vao dau": 3, "danh con nho": 4,
        "danh me": 3, "danh bo": 3, "danh em": 2.5, "danh toi": 2.5, "danh chi": 2.5,
        "dang danh": 2, "duoi danh": 4, "ruot chem": 4, "ruot danh": 4, "duoi chem": 4,
        "hon chien": 4, "hon chien nhau": 4, "thanh toan nhau": 3,
        "bat coc tong tien": 5, "bat con tin": 5, "con tin": 4,
        "khong che": 1, "dang khong che": 3, "nhot": 1.5, "bi nhot": 3, "giam long": 4, "giam giu": 3,
        "bat len xe": 4, "cho di mat": 2.5, "cuong hiep": 4, "dam o": 3,
        "tuoi xang": 3.5, "doa dot": 4, "dot nha": 3, "doa tat": 4, "chai axit": 4,
        "doa chem": 4, "doa dam": 4, "doa": 1.5,
        "nhan tin doa": 2.5, "nhan tin de doa": 3, "khung bo": 3, "de doa giet": 4,
        "danh dap vo": 4, "bao luc gia dinh": 5, "vo chong danh nhau": 4,
        "tre bi danh": 4, "bi bat nat": 3, "dau do": 1, "thuong": 0.5,
        "bi thuong": 1, "nhap vien": 1, "lot do": 2,
        "xam hai tinh duc": 5, "dam lien tuc": 3, "dam nhieu nhat": 4,
    },
    "drugs": {
        "ma tuy": 4, "con nghien": 3, "nguoi nghien": 2.5, "bon nghien": 3,
        "nghien hut": 3, "tu tap nghien": 3, "chich": 2, "kim tiem": 3,
        "heroin": 4, "thuoc lac": 4, "ma tuy da": 4, "ngao da": 1.5, "bay lac": 3,
        "dang bay": 2.5, "dap da": 3, "goi da": 3, "hut da": 3, "choi da": 3,
        "can sa": 4, "co my": 3, "bot trang": 2.5, "goi bot": 2.5, "hang trang": 2,
        "tinh the": 2.5, "no thuy tinh": 4, "bat lua kho": 2, "nuoc vui": 3,
        "keo": 0.5, "cho keo": 2, "bong cuoi": 1.5, "hut chich": 3,
        "dung cu su dung": 3, "dua goi": 2.5, "goi nho": 2, "giay bac": 1.5,
        "mui khet": 1.5, "thuoc la dien tu": 1, "say thuoc": 2, "nghien": 1.5,
        "mui co": 2, "cai nghien": 1.5, "phe": 1, "sock thuoc": 3, "qua lieu": 3,
        # general vocabulary and slang: ke, da, keo, bay, chich, hang
        "choi ke": 3.5, "hit ke": 3.5, "ke mat": 1, "chich choac": 4,
        "chich hut": 4, "tiem chich": 3, "bom kim tiem": 3, "xi lanh": 2.5,
        "ma tuy tong hop": 4, "ecstasy": 4, "ketamine": 4, "meth": 4,
        "tu lan": 2, "bay": 0.5, "choi bay": 3,
        "phe thuoc": 3, "nghien ngap": 3,
        "nghien heroin": 4, "nghien ma tuy": 4, "buon ma tuy": 4, "ban ma tuy": 4,
        "mua ban ma tuy": 4, "van chuyen ma tuy": 4, "tang tru": 3, "giao hang trang": 3,
        "hang da": 3, "goi nilon nho": 2,
        "la kho": 1.5, "giay cuon": 2, "co cuon": 3,
        "thuoc la dien tu co": 2, "hang dac biet": 1.5, "bo thuoc": 3, "bo thuoc vao": 3,
        "sui bot mep": 3, "khi cuoi": 3, "binh khi": 1.5,
        "no tu che": 3, "dung cu hut": 3,
        "ong hut": 1, "trai cai nghien": 2,
    },
    "gambling": {
        "danh bac": 4, "co bac": 4, "song bac": 4, "chieu bac": 4, "bac bip": 4,
        "xoc dia": 4, "lo de": 4, "ghi de": 4, "ghi lo": 4, "danh de": 4,
        "so de": 3, "danh lo": 4, "chu lo": 4, "chu de": 4, "bang de": 4,
        "danh bai": 3, "an tien": 2.5, "ca do": 4, "ca cuoc": 3, "tien cuoc": 3,
        "ta la": 3, "tam cuc": 3, "phom": 3, "ba cay": 3, "lieng": 3,
        "choi ga": 3, "da ga": 3, "ga choi": 3, "doi thuong": 3, "nha cai": 2,
        "soi cau": 3, "casino": 3, "tai xiu": 4, "bau cua": 3, "ghi so": 2,
        "canh song": 3, "game bai": 3, "sat phat": 2,
        # general vocabulary
        "ban ca": 1.5, "game ban ca": 4, "doi diem": 2.5, "doi ra tien": 3,
        "co bac bip": 4, "soi bac": 4, "cham ho": 2, "ty le keo": 4,
        "keo bong da": 4, "ca do bong da": 4, "dat cuoc": 3, "cuoc": 1.5, "cuoc tien": 3,
        "cuoc hang chuc trieu": 3, "bac": 1, "danh bac online": 4, "dai ly ca cuoc": 4,
        "web ca do": 4, "app ca do": 4, "to tom": 3, "danh bai an tien": 4,
        "bi a an tien": 3, "bida an tien": 3, "quay so": 1.5,
        "ghi so de": 4, "so lo": 3, "lo to": 2,
    },
    "fraud": {
        "lua dao": 4, "lua": 2, "bi lua": 3, "lua tien": 3, "mao danh": 4,
        "gia danh": 3, "gia lam": 3, "tu xung": 3, "xung la": 3, "xung": 2,
        "chiem doat": 3, "otp": 3, "link la": 3, "duong link": 2, "link": 1,
        "chuyen khoan": 1.5, "chuyen tien": 1.5, "chuyen gap": 2.5,
        "chan lien lac": 2, "tat lien lac": 2, "chan luon": 2, "bi chan": 1.5,
        "dat coc": 1.5, "coc": 1, "hack": 3, "vay tien": 1, "app vay": 2.5,
        "app": 1, "san giao dich": 3, "dau tu": 1.5, "nap them": 2.5,
        "nap tien": 1, "lam nhiem vu": 3, "nhiem vu": 2, "hoa hong": 2,
        "khong rut duoc": 3, "rut tien": 1, "trung thuong": 3, "gia mao": 3,
        "chuyen khoan gia": 4, "bill gia": 3, "hoan thue": 2.5, "hoan tien": 2,
        "tai ung dung": 2, "nhan vien ngan hang": 2, "ngan hang": 1,
        "tai khoan": 1, "thay cung": 2.5, "giai han": 2, "sao ke": 1,
        "lam viec online": 2.5, "giay trieu tap": 1.5, "ban hang online": 1,
        "da cap": 3, "dat mua": 1.5, "shop": 1, "acc": 1.5, "khong nhan duoc hang": 3,
        "ban gia cao": 2, "gia rat cao": 2, "boi nho": 1, "quen qua mang": 2,
        "cho vay nang lai": 2, "mat tien": 2, "ma qr": 2, "quet ma": 2,
        "don hang": 1.5, "mat hut": 2, "so tiet kiem": 1.5, "vu an": 1.5,
        "ve gia": 2, "hang gia": 2, "gia re": 1, "phi truoc": 2, "dong phi": 2,
        "lay lai tien": 2, "mao nhan": 2, "chiem doat tai san": 4,
        "goi dien bao": 2, "can chuyen tien": 2.5,
        # general vocabulary: pretending, luring, fake goods/papers, vanishing
        "lua dao chiem doat": 5, "lua dao qua mang": 5, "lua tinh": 3,
        "lua dao dau tu": 5, "bi lua mat": 4,
        "tu gioi thieu la": 2, "tu xung la": 3,
        "can cuoc gia": 4, "giay to gia": 3, "bang gia": 2, "tien gia": 3,
        "anh chup man hinh": 1.5, "bien lai gia": 3,
        "du mua": 2.5, "du do": 2, "ru re dau tu": 3, "chay viec": 3, "chay an": 3,
        "chay vao nganh": 3, "cat lien lac": 2.5, "bo so": 2, "doi ten": 1, "mat lien lac": 1.5,
        "khong tra tien": 1, "khong tra": 0.5, "vang gia": 3, "ma vang": 3, "hang nhai": 2,
        "chua bach benh": 4, "bach benh": 3, "than duoc": 3, "chua ung thu": 3,
        "ban gia cat co": 3, "gia cat co": 3, "nang lai": 1.5, "tin dung den": 3,
        "san tien ao": 4, "tien ao": 3, "tien dien tu": 2, "loi nhuan": 1.5, "san sap": 3,
        "hua hen": 1.5, "tra gop": 1, "thue nha ao": 3, "phong ao": 3, "chu phong ao": 3,
        "moi gioi": 1, "tien coc": 2, "cuop coc": 2, "lua coc": 4,
        "hack nick": 3, "hack zalo": 3, "hack facebook": 3, "facebook gia": 3,
        "zalo gia": 3, "tai khoan gia": 3, "trang gia": 3, "page gia": 3,
        "muon tien": 1, "vay tien nguoi than": 3, "nhan tin vay tien": 3,
        "tai khoan tam giu": 4, "rua tien": 3, "goi video": 1.5, "lien quan vu an": 3,
        "ma otp": 3, "doc ma": 2.5, "cai app": 2, "cai ung dung": 2, "bam link": 2.5,
        "bam vao link": 2.5, "nhap thong tin the": 3, "phong toa": 2, "bi tru tien": 3,
        "tai khoan bi tru": 3, "thu tien": 1, "thay cong to": 2, "ve may bay": 1,
        "dai ly ve": 1, "phi ho so": 2,
        "tha tim": 2, "chot don": 1, "lua lan 2": 4,
        "bi lua lan": 4, "lay lai tien bi lua": 3, "bat coc online": 6,
        "doi chuyen": 2.5, "goi bao": 1.5,
    },
    "public_order": {
        "on ao": 2.5, "gay on": 2.5, "tieng on": 2.5, "karaoke": 2, "loa keo": 3,
        "mat trat tu": 3, "gay roi": 2.5, "tu tap": 2, "say ruou": 1.5,
        "la het": 1, "ho het": 2, "chui boi": 1.5, "chui thi": 1.5, "chui the": 1.5,
        "chui": 1, "nhac": 0.5, "nhac to": 2, "mo nhac": 2, "tieng nhac": 2,
        "nhac xap xinh": 2, "dot phao": 3, "phao": 2, "qua gio": 1.5,
        "khuya": 1, "khong ngu duoc": 2, "an xin": 2, "cheo keo": 2, "loi keo": 2,
        "tranh gianh": 2, "tho tuc": 1.5, "doi no": 2, "xiet no": 2, "quay pha": 2,
        "dam dong": 1.5, "dao la": 2, "nhau": 1, "ngoi nhau": 2, "nhau nhet": 2,
        "dap chai": 1.5, "te bay": 2, "cai nhau": 1.5, "to tieng": 1.5, "bar": 1.5,
        "vu truong": 2, "tam than": 2, "khong tinh tao": 1.5, "coi tran": 1,
        "bass": 1.5, "loa": 1, "hat": 0.5, "noi bay": 1, "dap cua": 1,
        "gay mat an ninh": 2, "tranh cai": 1, "tieng dong": 1, "no bo": 2,
        "net bo": 2, "di bao": 2, "giang ho": 2, "hut thuoc": 0.5, "ruou": 0.5,
        "mam tom": 2, "son len tuong": 2, "nem": 0.5,
        # general vocabulary: noise, drunken disorder, gatherings
        "am i": 2, "inh oi": 2, "um soi": 2, "om som": 2, "nhuc oc": 2, "on qua": 2,
        "on kinh khung": 2.5, "to kinh khung": 1.5, "bat loa": 2, "loa dai": 2,
        "loa thung": 2, "mo loa": 2, "nhac san": 2.5, "hat hat": 1, "hat ho": 2,
        "hat karaoke": 2.5, "may khoan": 1.5, "tieng khoan": 2, "khoan be tong": 2,
        "khong ngu noi": 2, "mat ngu": 1.5, "den khuya": 1, "nua dem": 1, "dem khuya": 1,
        "say xin": 2, "say khuot": 2, "nhau say": 2, "ruou che": 1.5,
        "van tuc": 2, "noi tuc": 1.5, "chui tuc": 1.5, "trieu ghep": 2, "treu ghep": 2,
        "treu gheo": 2, "gay gho": 1.5, "xo day": 2, "gay lon": 1.5, "la loi": 1,
        "dap do": 1.5, "dap pha": 1.5, "nem da": 2, "hu het": 2,
        "tu tap dong nguoi": 2.5, "phao sang": 2,
        "bao ke": 2, "doi no thue": 2.5, "dan giay doi no": 2.5, "cai va": 2,
        "deo bam": 2, "nai ep": 2, "chen lan": 1.5,
        "giu trat tu": 2, "trat tu": 1.5,
    },
    "traffic": {
        "tai nan": 3, "tai nan giao thong": 4, "va cham": 2.5, "dam xe": 2,
        "xe dam": 2, "dam vao": 2, "quet nga": 3, "quet": 1, "nga xe": 2,
        "dua xe": 3, "boc dau": 3, "lang lach": 3, "luon lach": 3, "danh vong": 2,
        "nguoc chieu": 3, "vuot den do": 3, "den do": 2, "khong mu": 2,
        "mu bao hiem": 1, "qua tai": 3, "qua kho": 3, "qua so nguoi": 3, "xe tai": 1.5,
        "container": 2, "xe khach": 1, "xe du": 2, "don khach": 1.5, "lan lan": 2,
        "lan duong": 1, "un tac": 3, "ket xe": 3, "tac duong": 2, "dieu khien": 1.5,
        "lai xe": 1.5, "tai xe": 1, "nong do con": 3, "gay tai nan": 4,
        "giao thong": 2, "canh sat giao thong": 1.5, "bien bao": 2,
        "guong cau loi": 3, "den giao thong": 3, "nga tu": 1, "nga ba": 0.5,
        "vong xuyen": 1, "duong cong": 1, "khuat tam nhin": 2, "o ga": 2, "ho to": 2,
        "ho sau": 2, "giua duong": 1, "toc do": 2, "phong nhanh": 3, "vuot au": 3,
        "rai dinh": 2, "chay xe": 1, "xe may": 0.5, "o to": 0.5, "bop coi": 1.5,
        "ru ga": 2, "quoc lo": 1, "duong tranh": 1, "xe cho": 1, "cuu ho": 1.5,
        "lang qua lang lai": 3, "dung do": 1, "bo chay": 1,
        "camera hanh trinh": 1.5, "bien so": 0.5, "lap bien ban": 1,
        # general vocabulary: vehicles, collisions, signals, congestion
        "xe ben": 2, "xe cau": 1.5, "xe bon": 1, "xe buyt": 1.5,
        "xe dau keo": 2, "xe con": 1, "o to con": 1.5, "xe dap dien": 1,
        "cuon vao gam": 4, "gam xe": 2.5, "duoi banh": 2, "mat lai": 3, "lat xe": 3,
        "lat ngua": 2.5, "lao xuong muong": 3, "lao xuong": 1.5, "lao vao": 1.5,
        "dam truc dien": 4, "dam lien hoan": 4, "tong": 1.5, "tong nga": 3, "tong vao": 2.5,
        "dam vao xe": 3, "dam xe may": 3, "dam lien tiep": 3, "suyt dam": 2.5,
        "quet phai": 2.5, "va quet": 3,
        "den tin hieu": 3, "vuot den": 3, "tac cung": 3,
        "un u": 2.5, "dieu tiet": 2.5, "phan luong": 2.5,
        "chay nguoc chieu": 3, "chay toc do cao": 3, "toc do cao": 2,
        "cho 3": 2, "khong doi mu": 2.5, "doi mu bao hiem": 1,
        "bam bien": 1, "do xe": 1, "do tran lan": 2,
        "sai quy dinh": 1, "cam re": 3, "bien cam": 3, "nut giao": 2, "duong vanh dai": 1.5,
        "duong lien thon": 1, "duong lien xa": 1, "csgt": 3,
        "trau": 0.5,
        # "đâm nhau" after a vehicle is a collision, not a stabbing
        "xe dam nhau": 4, "tai dam nhau": 4, "may dam nhau": 4, "to dam nhau": 4,
        "khach dam nhau": 4, "xe dam vao": 3, "tai dam vao": 3, "to dam vao": 3,
        "may dam vao": 3,
    },
    "wanted_sighting": {
        "truy na": 5, "dang truy tim": 3, "truy tim": 3, "tron trai": 3,
        "tron khoi trai": 4, "trai giam": 2, "vuot nguc": 4, "bo tron": 1.5,
        "giong het": 1.5, "trong anh": 1, "giong anh": 2, "tron thi hanh an": 4,
    },
    "urban_order": {
        "rac": 2, "rac thai": 3, "bai rac": 1.5, "vut rac": 1.5, "do rac": 2,
        "thu gom": 2, "nuoc thai": 3, "xa thai": 3, "mui hoi": 2, "boc mui": 2,
        "hoi thoi": 2, "o nhiem": 3, "lan chiem": 3, "chiem via he": 3, "chiem het": 2,
        "via he": 1, "long duong": 1, "xay dung trai phep": 4, "xay trai phep": 3,
        "khong phep": 2, "khong co giay phep xay dung": 3, "xay them tang": 2,
        "dat cong": 3, "ong cong": 2.5, "cong thoat nuoc": 2.5, "thoat nuoc": 2,
        "dot rom": 3, "dot rac": 3, "khoi bui": 2, "khoi bay": 2, "khoi den": 2,
        "bui": 1, "hang rong": 1, "dung rap": 2, "to roi": 2, "cay xanh": 1.5,
        "de bua bai": 1.5, "do trom": 3, "vat lieu xay dung": 2, "vat lieu": 1,
        "chan het": 1.5, "ve sinh moi truong": 3, "moi truong": 2, "trai lon": 2,
        "chan nuoi": 1.5, "ruoi muoi": 2, "dau nhot": 2, "xuong song": 1.5,
        "chat thai": 3, "trong giu xe": 2, "giu xe trai phep": 3, "cho coc": 2,
        "mai ton": 1.5, "quay bat": 1.5, "rao lai": 2, "dung lan": 2, "tu y": 1,
        "trat tu do thi": 3, "tran ra duong": 2, "cong vo": 2, "den duong": 2,
        "chiem dung": 2, "dung rap cuoi": 2, "ngap": 1.5, "tha rong": 2,
        "cho chay rong": 2, "nut tuong": 1,
        # general vocabulary: waste, encroachment, construction debris, lights
        "do cat": 2, "do gach": 2, "bun dat": 1.5, "phe thai": 2.5, "phe lieu": 1.5,
        "xay nha": 1, "dot nhua": 3, "mui khet": 0.5, "khoi": 0.5,
        "be phot": 3, "xa xuong": 1.5, "xa ra": 1, "nuoc rua": 1.5, "ca chet": 2.5,
        "ruoi": 1, "muoi": 0.5,
        "chiem lon": 2, "lan chiem via he": 4, "bay hang": 2,
        "ban hang rong": 2, "xe day": 1, "chiem cho": 2,
        "chiem loi di": 2.5, "chiem het via he": 3, "cot den": 2.5,
        "toi om": 1.5, "bien quang cao": 2.5, "quang cao": 1,
        "ong nuoc": 1.5, "cong": 0.5, "cong ranh": 2, "ngap ung": 2, "tran ra": 1.5,
        "do trom rac": 3, "rac sinh hoat": 3, "bao tai rac": 3, "hanh lang": 1,
        "bo song": 0.5, "san lap": 2, "xay dung": 1,
    },
    "procedure_question": {
        "thu tuc": 3, "can cuoc": 2.5, "chung minh nhan dan": 2.5,
        "chung minh thu": 2.5, "lam can cuoc": 3, "tam tru": 3, "tam vang": 3,
        "thuong tru": 3, "ho khau": 3, "nhap khau": 3, "tach ho": 4, "tach so": 2,
        "cu tru": 3, "xac nhan cu tru": 4, "dinh danh": 3, "vneid": 3,
        "muc 2": 2, "kich hoat": 1.5, "sang ten": 3, "dang ky xe": 3,
        "cap lai": 2, "cap doi": 2, "ly lich tu phap": 4, "mot cua": 3,
        "gio lam viec": 3, "lam viec den may gio": 3, "co lam viec": 2,
        "ho so": 2, "giay to gi": 2.5, "can giay to": 2.5, "can mang": 1.5,
        "le phi": 2, "lam o dau": 1.5, "dang ky": 1.5, "tra cuu": 2,
        "luu tru": 2, "khai bao": 1.5, "giay phep": 1.5, "an ninh trat tu": 2,
        "du dieu kien": 2, "cai nghien tu nguyen": 3, "tu nguyen": 1,
        "can nhung gi": 2, "mat bao lau": 2, "ho chieu": 2,
        "phong chay chua chay": 1.5, "giay xac nhan": 2,
        "duong day nong": 2, "xin giay": 2, "phat nguoi": 1,
        # general vocabulary of administrative procedures
        "truc ban": 3, "so dien thoai": 1, "so may": 1, "lam lai": 1.5, "cap moi": 2,
        "doi the": 2.5, "the can cuoc": 2.5, "bien so": 1, "dang ky bien so": 3,
        "bam bien": 2, "thu hoi": 1.5, "nop phat": 3, "nop phat nguoi": 4,
        "mang gi": 2, "mang theo gi": 2, "can mang gi": 3,
        "co phai khai bao": 3, "khai bao gi": 3, "ly lich": 2, "phieu ly lich": 4,
        "xuat khau lao dong": 1, "dang ky tam tru": 4, "gia han": 2, "nhap ho khau": 4,
        "ho rieng": 2, "nop lai": 1.5, "dat lich": 1.5, "truc tuyen": 1.5, "online": 1,
        "dich vu cong": 2.5, "xac nhan": 1, "chung nhan": 1.5, "giay phep kinh doanh": 1,
        "kenh nao": 2, "qua kenh nao": 2.5, "giau ten": 1, "an danh": 1.5,
        "da trinh bao": 2.5, "da bao roi": 2.5, "da bao cong an": 2, "van ban": 1,
        "ket qua giai quyet": 3, "hoi thu tuc": 3, "muon hoi thu tuc": 3,
        "bang lai": 1.5, "giay phep lai xe": 1.5, "thi lai": 1,
    },
    "other": {
        "nhat duoc": 3, "cam on": 1.5, "khen": 2, "bieu duong": 3, "huy tin bao": 4,
        "hoa ra": 2, "bi to sai": 4, "to sai": 3, "bao sai": 3, "vu khong": 2,
        "vu oan": 2, "di lac": 2, "lac duong": 2, "mat tich": 3, "tim nguoi than": 2,
        "gop y": 3, "tra lai": 1.5, "chuc mung": 2, "tri an": 2,
        "tuyen truyen": 2.5, "lang thang": 1, "nho tim": 2, "tim giup": 2,
        "muon tam": 1.5, "tuong bi": 2, "bi lan": 3, "lan tri": 3, "chua ve": 2,
        "tim khap": 2, "khong thay dau": 1.5, "ra khoi nha": 1.5, "nen co": 1,
        "phong chong lua dao": 3, "to chuc tuyen truyen": 3,
        # self-harm: no crime category fits, urgency comes from LIFE_THREAT_CUES
        "tu tu": 3, "tu sat": 3, "nhay cau": 3, "dinh nhay": 3, "nhay xuong": 2,
        # fire, drowning, electrocution, trapped, self-harm, lost child
        "chay nha": 4, "dam chay": 4, "boc chay": 3, "lua boc": 3, "lua boc len": 3,
        "lua van chay": 3, "lua chay": 3, "chay lon": 3, "khoi lua": 3, "cuu hoa": 3,
        "chua chay": 1, "no binh gas": 4, "no gas": 3, "ro ri gas": 3, "chap dien": 3,
        "bi dien giat": 4, "dien giat": 3, "giat dien": 1, "duoi nuoc": 4, "chet duoi": 4,
        "chim xuong": 2, "nuoc cuon": 3, "bi cuon troi": 3, "mac ket": 2, "ket tren": 2,
        "ket trong": 2, "bi ket": 2, "khoa trong o to": 4, "bi khoa trong": 3,
        "thuoc ngu": 3, "uong thuoc ngu": 4, "uong thuoc tru sau": 4, "thuoc diet chuot": 4,
        "treo co": 4, "cat tay": 3, "khong muon song": 4, "nhan tin tam biet": 3,
        "tam biet": 1, "lan can cau": 2.5, "nhay lau": 4, "dinh tu tu": 4,
        "khong biet nha": 3, "lac me": 3, "lac bo me": 3, "bi lac": 3, "lang thang khoc": 3,
        "chua ve nha": 2, "tat may": 1, "khong lien lac duoc": 1, "di hoc chua ve": 3,
        "boc mui kho chiu": 1, "khong ai tra loi": 1, "rut tin bao": 4, "rut lai tin bao": 4,
        "gui nham": 3, "bao nham": 3, "nham tin": 2, "chuyen nham": 2, "bo qua giup": 1.5,
        "tinh nguyen vien": 2.5, "thuc tap": 2, "con tran": 3, "con ran": 3, "ran doc": 3,
        "bat ran": 2, "ong vo ve": 2, "to ong": 1.5, "cho dai": 2.5, "cho can": 1.5,
        "de xuat": 1,
    },
}

# Phrases that contain a cue but mean something else ("giu bi mat" is keeping
# a secret, not "bi mat" = lost; "danh roi" is dropping, not hitting). The
# longest match wins, so these simply shadow the shorter cue.
LOOKALIKES = (
    "giu bi mat", "xin bi mat", "dam bao bi mat", "bi mat ten", "bi mat thong tin",
    "bi mat danh tinh", "bi mat giup", "bao mat", "danh roi", "danh gia",
    "danh rang", "danh dau", "danh thuc", "danh so", "danh xe", "giat minh",
    "keo dai", "keo nhau", "lua chon", "bat lua", "ngon lua", "lua tuoi",
    "tien bac", "nhac nho", "nhac lai", "chu dao", "dao nay", "xung quanh",
    "xung dang", "xung phong", "xu ly", "xu phat", "xu li", "vi xu", "phe duyet",
    "phe binh", "khoi nha", "ra khoi", "quat tran", "cai quat", "nem ran",
    "ca phe", "cafe", "lung tung", "sau lung", "khau trang", "nhap khau hang",
    "cua khau", "mat khau", "cay xang", "lan luot", "link kien", "khong tinh tao",
    "o dau ngo", "o dau duong", "o dau lang", "o dau xom", "o dau cau", "o dau pho",
    "o dau hem", "o dau lang", "nhot thai", "dau nhot", "xe dap",
    # "lửa" (fire) folds like "lừa" (to cheat); "đâm" (to crash) like "đấm"
    "lua boc", "boc lua", "lua chay", "ngon lua", "bien lua", "khoi lua", "lua van",
    "chua lua", "dap lua", "lua tu", "bat lua kho",
    # "đá" (stone, kick, ice) vs "đá" (meth)
    "nem da", "da bong", "san bong da", "tra da", "da banh", "nuoc da",
    # "bán cá" (selling fish) vs "bắn cá" (the gambling game)
    "ban ca tuoi", "ban ca song", "hang ca",
)

# Ads, chain messages, abuse and test posts. Only decides "spam" together
# with the absence of report language, because scam *reports* quote ads too.
SPAM_CUES: dict[str, float] = {
    "inbox": 2, "ib": 2, "ship": 1.5, "ship toan quoc": 3, "si le": 3,
    "giao hang toan quoc": 3, "toan quoc": 1.5, "ket ban zalo": 2, "giai ngan": 3,
    "lai suat": 2, "khuyen mai": 2, "uu dai": 2, "mien phi": 1.5, "lien he ngay": 2,
    "lien he": 1, "hotline": 1, "uy tin": 1.5, "nha cai": 2, "dang ky ngay": 2,
    "click": 2, "http": 1.5, "www": 1.5, "bit ly": 3, "kiem tien": 2,
    "viec nhe luong cao": 3, "tuyen dung": 2, "tuyen": 1, "cong tac vien": 2,
    "ctv": 2, "lam viec tai nha": 2, "thu nhap": 2, "khong can kinh nghiem": 3,
    "chi can": 1, "nhanh chong": 1, "gia tot": 2, "gia re": 1.5, "mua ngay": 2,
    "sale": 2, "giam gia": 2, "follow": 2, "like share": 2, "chia se de": 2,
    "mau moi": 2, "order": 1.5, "test": 3, "thu xem": 2, "xem mau": 2,
    "nhan ngay": 1.5, "nhanh tay": 2, "kẻo het": 1, "keo het": 1.5, "nhan qua": 2,
    "qua tang": 1.5, "tri an khach hang": 3, "khong the chap": 2, "freeship": 3,
    "dat hang": 1.5, "nhan lam": 2.5, "lam bang": 3, "bao check": 3,
    "giay to cac loai": 3, "bao dau": 2,
    # abuse with no content to act on
    "vo dung": 2, "cc": 2, "dm": 2, "dcm": 3, "vcl": 2, "vkl": 2, "cut": 1.5,
    "bon may": 2, "an hai": 2, "an bam": 1,
    # general advertising vocabulary
    "goi ngay": 2, "nhan tin ngay": 2, "lien he zalo": 2, "ket ban": 1, "zalo": 0.5,
    "vay von": 2, "the chap": 1.5, "no xau": 2, "lai thap": 2, "ho tro vay": 2,
    "ban dat": 2, "dat nen": 3, "so do chinh chu": 3, "chinh chu": 1.5, "chinh hang": 2,
    "cam ket": 1.5, "hieu qua": 1, "kin dao": 1.5, "ship kin": 3, "khoa hoc": 1.5,
    "vip": 1.5, "dich vu": 1.5, "dao han": 3, "rut tien the tin dung": 3, "phi thap": 2,
    "co mat sau": 2, "dat lich": 1, "gia si": 2, "bao gia": 2, "ban nick": 3, "ban acc": 2,
    "nhan ship": 2, "cho thue": 1, "tang luc": 1, "sinh ly": 2, "tang cuong": 1,
    "chuc mung ban": 2, "trung thuong": 2, "nhan qua": 2, "bam vao link": 1.5,
    "loi nhuan": 1, "thu nhap": 2, "luong": 1, "tuyen gap": 3, "chot don": 2,
    "mien phi": 1.5, "ib": 2, "inbox": 2, "gia uu dai": 2.5, "hang chinh hang": 2,
    "nhan lam": 2.5, "nhan ve sinh": 2.5, "nhan sua": 2, "sua chua tai nha": 2,
    "tai nha": 1, "toan quoc": 1.5, "kiem tien online": 3, "san pham": 1,
}
# Abuse/insults with nothing to act on: spam when no matter is described.
ABUSE_CUES = ("vo dung", "an hai", "an bam", "cc", "dm", "dcm", "vcl", "vkl",
              "bon may", "lu an hai", "chi gioi", "do an hai", "vo tich su", "cut")
ABUSE_MAX_WORDS = 25
# Words that show the writer is reporting something, not advertising.
REPORT_CUES = ("bi lua", "lua dao", "lua", "phan anh", "to giac", "trinh bao",
               "canh bao", "bi mat", "mat tien", "de nghi", "toi bi", "em bi",
               "chung no", "mong", "nho cac", "giup", "cuu", "minh bi", "bo em",
               "me em", "me toi", "bo toi", "da chuyen", "chuyen tien cho", "bao cong an",
               "nghi la", "co phai lua", "xac minh")

# Negations that cancel a cue starting within the next few tokens of the same
# clause ("khong phai danh nhau", "chua danh ai", "chang phai trom").
NEGATIONS = ("khong phai", "chang phai", "dau phai", "khong he", "chua",
             "khong co", "khong bi", "khong con", "chu khong", "khong")
NEGATION_WINDOW = 4
# Bare "khong" negates only the very next word ("khong danh"), because it is
# everywhere in ordinary sentences ("khong ngu duoc", "khong dam ra").
BARE_NEGATION_WINDOW = 1
# The writer saying "it is not X" is evidence against X, not just no evidence.
NEGATED_CUE_PENALTY = 0.5

# Question framing: a tip that asks something.
QUESTION_CUES = ("cho hoi", "xin hoi", "muon hoi", "lam sao", "the nao",
                 "nhu the nao", "o dau", "can gi", "co phai", "duoc khong",
                 "co can", "bao lau", "may gio", "can nhung gi", "giay to gi",
                 "phai lam gi", "thu tuc", "?", "khong a", "chua a", "hoi ve")
# ...and narrates an event (then it is a report, not a procedure question).
NARRATIVE_CUES = ("hom qua", "toi qua", "dem qua", "sang nay", "chieu nay",
                  "toi nay", "vua", "dang", "luc", "bi mat", "bi danh", "bi lua",
                  "phat hien", "tuan truoc", "hom truoc", "mat trom", "thay co",
                  "co nguoi", "nhan duoc", "goi cho", "em thay", "toi thay",
                  "nha hang xom", "ngay nao", "toi nao", "thuong xuyen", "hay",
                  "da bi", "da mat", "da chuyen", "roi mat tich", "bien mat", "bo di",
                  "bo chay", "cat lien lac", "chan lien lac", "co khach", "co mot",
                  "co 1", "co may")
# A question-only tip is short; a long one narrates something anyway.
QUESTION_ONLY_MAX_WORDS = 40
# Without any question a procedure word ("can cuoc", "ho so") is incidental.
NO_QUESTION_PROCEDURE_FACTOR = 0.5
QUESTION_ONLY_BONUS = 2.5

# ---- urgency ---------------------------------------------------------------

# Happening right now (or seconds ago). "dang" alone is weak: it also marks a
# background ("chi ay dang tap the duc") in a story told about the past.
STRONG_PRESENT_CUES = ("ngay bay gio", "bay gio", "gio dang", "gio van", "luc nay", "hien dang",
                       "van dang", "hien tai", "vua", "vua moi", "phut truoc",
                       "tieng truoc", "ngay luc nay", "khan cap", "gap", "cuu",
                       "hien ho", "chua di xa", "dang o day", "nhanh len",
                       "mau len", "dang dien ra", "hien van", "con dang",
                       "ngay lap tuc", "den ngay", "toi ngay", "xuong ngay",
                       "vua xong", "giup voi", "di ra ngay", "tru ngay")
WEAK_PRESENT_CUES = ("dang",)
# Explicit "right now" wording: it wins over an earlier past cue in the same
# clause ("danh sách đăng tuần trước, giờ đang ngồi ở quán").
EXPLICIT_NOW_CUES = ("ngay bay gio", "bay gio", "gio dang", "gio van", "luc nay",
                     "hien dang", "van dang", "ngay luc nay", "dang dien ra",
                     "hien van", "con dang", "dang o day", "ngay lap tuc",
                     "den ngay", "toi ngay", "xuong ngay", "gap", "khan cap",
                     "nhanh len", "mau len", "cuu", "vua xong", "vua moi")
# "ngay" closing a clause is "right away" ("cần người điều tiết ngay"), unless
# it is "ngày" as in "hằng ngày", "cả ngày", "3 ngày".
NOT_NOW_BEFORE_NGAY = {"moi", "hang", "ca", "trong", "nhieu", "vai", "may", "cac",
                       "mot", "hai", "ba", "bon", "nam", "nua", "tung", "hom", "ban",
                       "sang", "sau", "truoc", "cuoi", "dau", "thu", "le", "tet"}
# "dang" also spells "đăng" (to post) and "đăng ký"; "vua roi" after a day
# name is last week. These do not mean "now".
NOT_PRESENT = ("dang ky", "dang bai", "dang tin", "dang tiktok", "dang len",
               "dang anh", "dang clip", "dang video", "dang facebook", "dang tai",
               "dang lan", "dang tren", "dang canh bao", "dang thong tin",
               "dang truy tim", "dang truy na", "dang bi truy", "vua roi",
               "vua qua", "vua phai", "dang ke", "dang ban hang", "gap nhieu",
               "dang livestream", "dang live", "dang quang cao", "dang nhap",
               "co the dang", "chac dang", "hinh nhu dang", "khong biet con dang",
               "bao dang", "da dang", "moi dang", "trang dang", "fanpage dang",
               "gap lai", "gap mat", "gap chuyen", "cuu tro", "nghien cuu")
PAST_CUES = ("hom qua", "toi qua", "dem qua", "tuan truoc", "thang truoc",
             "nam ngoai", "hom truoc", "da xay ra", "lan truoc", "nam truoc",
             "may hom nay", "thuong xuyen", "toi nao", "ngay nao", "dem nao",
             "sang nay", "chieu qua", "ngay truoc", "vua qua",
             "thang nay", "nam nao", "hom kia")
# Life or safety threatened now: emergency unless told as past.
LIFE_THREAT_CUES = ("cuu voi", "cuu em", "cuu toi", "cuu chau", "cuu me",
                    "keu cuu", "cap cuu", "bat tinh", "bat dong", "nam im",
                    "khong tinh", "co giat", "ngat xiu", "tim tai", "doi giet",
                    "doa giet", "doa chem", "tu tu", "nhay cau", "nhay song",
                    "that co", "tu sat", "bat coc", "chet duoi", "duoi nuoc",
                    "chay nha", "boc chay", "hoa hoan", "chay nhieu mau",
                    "nguy kich", "nam guc", "khong cho ve", "giam long",
                    "bi nhot", "nhot trong", "nhot lai", "khong tho duoc",
                    "sap chet", "nhay xuong", "dinh nhay", "bat di",
                    "be len xe", "loi len xe", "keo len xe", "khoc goi me",
                    # calls for help
                    "cuu nguoi", "cuu chung em", "cuu nha em", "cuu con",
                    "cuu me em", "goi cap cuu", "goi 113", "goi 114", "goi 115",
                    # not breathing / unconscious / bleeding badly
                    "khong tho", "tho yeu", "ngung tho", "tat tho", "khong cu dong",
                    "nam bat tinh", "ngat", "lim di", "sui bot mep", "mau chay nhieu",
                    "chay mau nhieu", "mat nhieu mau", "be bet mau", "dam mau",
                    "mau me", "khong dong day", "khong day duoc", "nam la liet",
                    # fire, drowning, electrocution, trapped
                    "dam chay", "lua boc", "no binh gas",
                    "nuoc cuon", "dien giat", "chim xuong", "dang chim",
                    "mac ket", "ket tren", "ket trong", "bi ket", "con ket",
                    "khoa trong o to", "bi khoa trong", "ket duoi",
                    # self-harm
                    "thuoc ngu", "uong thuoc tru sau", "thuoc diet chuot", "treo co",
                    "cat tay", "khong muon song", "dinh tu tu", "nhay lau",
                    "lan can cau",
                    # abduction, hostage, strangling, arson threat
                    "bat len xe", "con tin", "dang khong che", "bi khong che", "bop co",
                    "siet co", "tuoi xang", "doa dot", "dot chet")
# An attack or weapon: emergency when a "now" cue is close by.
ACUTE_DANGER_CUES = ("cam dao", "dao phay", "dao kiem", "rut dao", "vung dao",
                     "cam kiem", "cam gay", "sung", "chem", "danh", "dap",
                     "dam", "quat", "tum toc", "bop co", "vay danh", "xe dao",
                     "cam dao", "doa", "troi", "duoi", "ruot", "dap cua", "dap pha",
                     "dang khong che", "nhot", "chong tra", "hon chien", "xong vao", "siet")
WEAPON_CUES = ("cam dao", "dao phay", "dao kiem", "rut dao", "vung dao",
               "cam kiem", "sung", "chem", "dao bam", "cam gay", "ma tau",
               "dao rua", "cam rua", "xa beng", "tuyp sat", "gay sat", "cam bua",
               "axit", "di dao", "ke dao",
               "gay bong chay", "cam gach", "cam chai")
ACUTE_PROXIMITY = 8
# A traffic tip happening now with these is an emergency.
SEVERE_INJURY_CUES = ("bat tinh", "nam bat dong", "bat dong", "kep", "mac ket",
                      "chay nhieu mau", "cap cuu", "nguy kich", "tu vong",
                      "nang", "bi ket", "ket duoi", "ket ben trong", "ket trong",
                      "ket chan", "chan ket", "cuon vao gam", "khong cu dong",
                      "nam im", "chay mau tai", "chay mau dau", "la liet",
                      "keu cuu", "nhieu nguoi bi thuong", "lat xe", "lat ngua", "lao xuong",
                      "khong tho", "ngat")
DRUNK_DRIVING_CUES = ("say", "say ruou", "nong do con")
RECKLESS_CUES = ("nguoc chieu", "lang qua lang lai", "lang lach")
MISSING_PERSON_CUES = ("bi lan", "lan tri", "chua ve", "mat tich", "di lac",
                       "tre lac", "khong thay dau", "tim khap", "bi lac",
                       "khong biet nha", "lac me", "lac bo me", "tat may",
                       "khong lien lac duoc", "mat lien lac")
# Other time-critical matters that are not a crime: an animal loose in a
# home, a welfare check, a live wire. High, not emergency.
OTHER_URGENT_CUES = ("con tran", "con ran", "ran doc", "cho dai", "day dien dut",
                     "khong ai tra loi", "goi cua khong", "sap do")
# A whereabouts known by hearsay or as a habit, not a sighting right now.
HEARSAY_OR_HABIT_CUES = ("nghe noi", "nghe nguoi quen", "nghe ke", "co the dang",
                         "hinh nhu", "thuong di", "hay di", "hay ra", "thuong xuyen",
                         "di vang ban ngay", "thuong", "hay")
# Threats with no attacker present: high (README).
THREAT_CUES = ("de doa", "doa", "nhan tin doa", "doa giet", "doa chem", "doa tat",
               "doa bat coc", "doa danh", "khung bo", "doa se")
# Someone being carried off: a taking verb shortly before "lên xe" etc.
TAKING_VERBS = ("be", "keo", "loi", "bat", "day", "ep", "khieng", "nhet", "om",
                "tum", "dua")
TAKEN_INTO = ("len xe", "len o to", "vao xe", "vao o to", "len taxi", "di mat")
TAKING_WINDOW = 14
# ...and the one taken is a person named between the two.
PERSON_WORDS = ("be", "chau", "tre", "con", "chi", "em", "co gai", "nguoi", "ban",
                "anh", "ong", "ba", "me", "thang", "dua", "hoc sinh", "phu nu",
                "nan nhan", "co", "di", "cau", "toi")
# "ngay" closing a clause means "right away" only in a request ("cần ... ngay").
REQUEST_WORDS = ("can", "de nghi", "nho", "mong", "xin", "giup", "yeu cau", "moi")
# Abduction cue weight for the violence score.
ABDUCTION_WEIGHT = 4.0
# Armed robbery is theft_robbery (README): with a clear theft cue, violence
# (the weapon, the blow) has to be much stronger to take the category.
ROBBERY_MIN_THEFT = 2.5
ROBBERY_VIOLENCE_RATIO = 2.0
# Categories where "happening now" makes a tip high priority.
URGENT_WHEN_NOW = {"theft_robbery", "violence", "drugs", "gambling", "fraud",
                   "public_order", "traffic", "wanted_sighting"}

# ---- wards -----------------------------------------------------------------

WARD_PREFIXES = ("phuong", "xa", "p", "x", "thi tran", "tt")
# A ward name right after these is a street/road/bridge name, not the ward.
STREET_WORDS = ("duong", "pho", "ngo", "ngach", "hem", "quoc lo", "dai lo",
                "tuyen", "cau", "kiet", "so nha")
# Wording around a mention that says where action is needed (+) or is just
# background (-): the writer's former home, where a bus came from, etc.
WARD_ACTION_BEFORE = {"cong an": 2, "tai": 1, "o": 1, "ve": 1, "den": 1,
                      "sang": 0.5, "dang o": 1.5, "hien o": 1.5, "thuoc": 1,
                      "ben": 0.5, "nha o": 1}
WARD_BACKGROUND_BEFORE = {"tu": -1.5, "truoc o": -1.5, "truoc song o": -2,
                          "tru tai": -0.5, "que": -1.5, "que o": -1.5,
                          "chuyen tu": -2, "cu o": -1.5, "ra": -0.5,
                          "thuong tru": -1, "ho khau": -1}
# Words after a ward name that place it outside the city.
OUTSIDE_MARKERS = ("tinh", "huyen", "quan", "thi xa", "thanh pho", "tp")
HOME_CITY = ("ninh binh",)


# ---------------------------------------------------------------------------
# Matching helpers
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _positions(tokens: tuple) -> dict:
    """token -> where it occurs. Built once per text: every lexicon phrase then looks only
    at the places its first word occurs, not at the whole text (triage runs per tip)."""
    index: dict = {}
    for i, t in enumerate(tokens):
        index.setdefault(t, []).append(i)
    return index


def _find_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> list[int]:
    tokens = tuple(tokens)
    phrase = tuple(phrase)
    n = len(phrase)
    return [i for i in _positions(tokens).get(phrase[0], ()) if tokens[i:i + n] == phrase]


def _is_negated(tokens: Sequence[str], start: int) -> bool:
    """True when a negation precedes ``start`` within the same clause."""
    lo = max(0, start - NEGATION_WINDOW - 2)
    window = []
    for t in tokens[lo:start]:
        window = [] if t in _CLAUSE_BREAK else window + [t]
    text = " " + " ".join(window) + " "
    for neg in NEGATIONS:
        words = neg.split()
        limit = BARE_NEGATION_WINDOW if neg == "khong" else NEGATION_WINDOW
        for i in range(len(window) - len(words) + 1):
            if window[i:i + len(words)] == words:
                gap = len(window) - (i + len(words))
                if gap < limit:
                    return True
    return False


def _cue_hits(tokens: Sequence[str], cues: dict[str, float] | Iterable[str],
              honour_negation: bool = True) -> list[tuple[str, float, int]]:
    """All cue occurrences that are not negated: (phrase, weight, position).

    A cue contained inside a longer matched cue at the same place is dropped,
    so "mat trom" does not also score "trom".
    """
    weights = cues if isinstance(cues, dict) else {c: 1.0 for c in cues}
    tokens = tuple(tokens)  # once: _find_phrase's tuple() of a tuple is then free
    spans = []
    for phrase, weight in weights.items():
        words = phrase.split()
        for pos in _find_phrase(tokens, words):
            if honour_negation and _is_negated(tokens, pos):
                continue
            spans.append((pos, pos + len(words), phrase, weight))
    shadows = [(pos, pos + len(p.split())) for p in LOOKALIKES
               for pos in _find_phrase(tokens, p.split())]
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str, float]] = []
    for span in spans:
        longer = [k[:2] for k in kept] + shadows
        if any(a <= span[0] and span[1] <= b and b - a > span[1] - span[0] for a, b in longer):
            continue
        kept.append(span)
    return [(p, w, s) for s, e, p, w in kept]


def _has_any(tokens: Sequence[str], phrases: Iterable[str],
             honour_negation: bool = True) -> list[str]:
    return [p for p, _, _ in _cue_hits(tokens, list(phrases), honour_negation)]


# ---------------------------------------------------------------------------
# Ward gazetteer
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WardMention:
    ward_id: str
    position: int
    length: int
    has_prefix: bool
    score: float


class WardGazetteer:
    """Finds ward/commune mentions in any spelling, from a ward list passed in.

    ``wards``: dicts ``{"id", "name", "type"}`` plus optional ``"aliases"``
    (e.g. the old names of a merged ward).
    """

    def __init__(self, wards: Iterable[dict]):
        self.wards = [dict(w) for w in wards]
        self._names: list[tuple[list[str], str]] = []
        for ward in self.wards:
            names = [ward["name"], *ward.get("aliases", [])]
            for name in names:
                words = _fold_tokens(name)
                words = [w for w in words if w not in _CLAUSE_BREAK]
                if not words:
                    continue
                self._names.append((words, ward["id"]))
                if len(words) > 1:  # "ninhkhanh" typed without a space
                    self._names.append((["".join(words)], ward["id"]))
        # Longest names first so "Ninh Khánh Đông" beats "Ninh Khánh".
        self._names.sort(key=lambda n: -len(n[0]))

    def name_of(self, ward_id: str) -> str | None:
        for ward in self.wards:
            if ward["id"] == ward_id:
                return ward["name"]
        return None

    def mentions(self, text: str) -> list[WardMention]:
        return self._mentions(_fold_tokens(text))

    def _mentions(self, tokens: Sequence[str]) -> list[WardMention]:
        taken: set[int] = set()
        found: list[WardMention] = []
        for words, ward_id in self._names:
            for pos in _find_phrase(tokens, words):
                span = set(range(pos, pos + len(words)))
                if span & taken:
                    continue
                before = list(tokens[max(0, pos - 4):pos])
                has_prefix = bool(before) and (
                    before[-1] in WARD_PREFIXES
                    or " ".join(before[-2:]) in WARD_PREFIXES)
                if not has_prefix and self._is_street_name(before):
                    continue
                if self._is_outside_city(tokens, pos + len(words)):
                    continue
                taken |= span
                found.append(WardMention(ward_id, pos, len(words), has_prefix,
                                         self._action_score(before, has_prefix)))
        found.sort(key=lambda m: m.position)
        return found

    @staticmethod
    def _is_street_name(before: list[str]) -> bool:
        tail1 = before[-1:] and before[-1]
        tail2 = " ".join(before[-2:])
        return tail1 in STREET_WORDS or tail2 in STREET_WORDS

    @staticmethod
    def _is_outside_city(tokens: Sequence[str], end: int) -> bool:
        after = [t for t in tokens[end:end + 6] if t not in (",", "-")]
        for marker in OUTSIDE_MARKERS:
            words = marker.split()
            if after[:len(words)] == words:
                rest = " ".join(after[len(words):len(words) + 2])
                return bool(rest) and rest not in HOME_CITY
        return False

    @staticmethod
    def _action_score(before: list[str], has_prefix: bool) -> float:
        words = [t for t in before if t not in WARD_PREFIXES]
        score = 0.5 if has_prefix else 0.0
        for table in (WARD_ACTION_BEFORE, WARD_BACKGROUND_BEFORE):
            best = 0.0
            for phrase, weight in table.items():
                n = len(phrase.split())
                if " ".join(words[-n:]) == phrase or " ".join(words[-n - 1:-1]) == phrase:
                    best = weight if abs(weight) > abs(best) else best
            score += best
        return score

    def mask(self, tokens: Sequence[str], mentions: Sequence[WardMention]) -> list[str]:
        """Tokens with each ward mention replaced by one placeholder word each."""
        out = list(tokens)
        for m in mentions:
            for i in range(m.position, m.position + m.length):
                out[i] = "_ward_"
        return out

    def find(self, text: str) -> str | None:
        """The ward where action is needed, or None."""
        return self.choose(self.mentions(text))

    @staticmethod
    def choose(mentions: Sequence[WardMention]) -> str | None:
        if not mentions:
            return None
        ids = {m.ward_id for m in mentions}
        if len(ids) == 1:
            return mentions[0].ward_id
        # Several wards: highest action score; on a tie the later mention,
        # since tips usually start with who writes and end with where to act.
        best = max(mentions, key=lambda m: (m.score, m.position))
        return best.ward_id


# ---------------------------------------------------------------------------
# Triage
# ---------------------------------------------------------------------------

@dataclass
class TriageResult:
    category: str
    urgency: str
    ward: str | None
    is_spam: bool
    confidence: float
    category_scores: dict[str, float] = field(default_factory=dict)
    suggested_category: str | None = None
    category_disagreement: bool = False
    reasons: list[str] = field(default_factory=list)


# A citizen's chosen category is only contested when triage is clearly sure.
DISAGREEMENT_MIN_SCORE = 4.0
DISAGREEMENT_MIN_CONFIDENCE = 0.6
# With no cue at all there is nothing to go on.
MIN_CATEGORY_SCORE = 1.0

_VIETNAMESE_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(uye|uya|ươi|[aeiouy]{1,3})(ng|nh|ch|[cmnpt])?$")


def _looks_like_gibberish(tokens: Sequence[str]) -> bool:
    words = [t for t in tokens if t.isalpha()]
    if not words:
        return True
    valid = sum(1 for w in words if _VIETNAMESE_SYLLABLE.match(w))
    return len(words) <= 12 and valid / len(words) < 0.5


def _score_categories(tokens: Sequence[str]) -> tuple[dict[str, float], dict[str, list[str]]]:
    scores = {c: 0.0 for c in CATEGORY_CUES}
    cues: dict[str, list[str]] = {c: [] for c in CATEGORY_CUES}
    for category, phrase, weight, _, negated in _all_category_hits(tokens):
        if negated:
            scores[category] -= NEGATED_CUE_PENALTY * weight
            cues[category].append("not " + phrase)
        else:
            scores[category] += weight
            cues[category].append(phrase)
    if _taken_away(tokens):
        scores["violence"] += ABDUCTION_WEIGHT
        cues["violence"].append("person taken")
    asks = bool(_has_any(tokens, QUESTION_CUES, honour_negation=False))
    narrates = bool(_has_any(tokens, NARRATIVE_CUES, honour_negation=False))
    if not asks:
        scores["procedure_question"] *= NO_QUESTION_PROCEDURE_FACTOR
    elif not narrates and scores["procedure_question"] > 0:
        # A pure question that tells of no event is about a procedure even
        # when it names a crime ("mất điện thoại có nên báo không").
        scores["procedure_question"] += QUESTION_ONLY_BONUS
        cues["procedure_question"].append("question")
    return scores, cues


def _all_category_hits(tokens: Sequence[str]):
    """(category, phrase, weight, position, negated) for every cue occurrence.

    Longest match wins across all lexicons and LOOKALIKES, so "danh bac" is
    gambling only, "tu tap nghien" drugs only, "giu bi mat" nothing.
    """
    spans = []
    for category, lexicon in CATEGORY_CUES.items():
        for phrase, weight in lexicon.items():
            words = phrase.split()
            for pos in _find_phrase(tokens, words):
                spans.append((pos, pos + len(words), category, phrase, weight))
    for phrase in LOOKALIKES:
        words = phrase.split()
        for pos in _find_phrase(tokens, words):
            spans.append((pos, pos + len(words), None, phrase, 0.0))
    out = []
    for start, end, category, phrase, weight in spans:
        if category is None:
            continue
        shadowed = any(s <= start and end <= e and (e - s) > (end - start)
                       for s, e, *_ in spans)
        if shadowed:
            continue
        out.append((category, phrase, weight, start, _is_negated(tokens, start)))
    return out


def _is_spam(tokens: Sequence[str], scores: dict[str, float]) -> tuple[bool, list[str]]:
    words = [t for t in tokens if t.isalnum()]
    if _looks_like_gibberish(tokens):
        return True, ["gibberish"]
    strongest_report = max(v for k, v in scores.items() if k != "other")
    # The same few words repeated ("xin chao xin chao xin chao").
    if len(words) >= 6 and len(set(words)) / len(words) <= 0.4 and strongest_report < 2:
        return True, ["repetition"]
    hits = _cue_hits(tokens, SPAM_CUES, honour_negation=False)
    ad_score = sum(w for _, w, _ in hits)
    reporting = _has_any(tokens, REPORT_CUES)
    # An advert quotes loan/investment words that also score as fraud, so a
    # clearly stronger advertising signal wins over a moderate report score.
    if ad_score >= 4 and not reporting and (strongest_report < 4 or ad_score >= strongest_report + 3):
        return True, [p for p, _, _ in hits]
    # A short insult with nothing described ("ăn hại", "vô dụng").
    abuse = _has_any(tokens, ABUSE_CUES, honour_negation=False)
    if abuse and len(words) <= ABUSE_MAX_WORDS and strongest_report < 2.5 and not reporting:
        return True, ["abuse: " + ", ".join(abuse[:2])]
    return False, []


def _clause_of(tokens: Sequence[str], pos: int) -> tuple[int, int]:
    lo = pos
    while lo > 0 and tokens[lo - 1] not in _CLAUSE_BREAK:
        lo -= 1
    hi = pos
    while hi < len(tokens) and tokens[hi] not in _CLAUSE_BREAK:
        hi += 1
    return lo, hi


_PAST_UNITS = {"ngay", "tuan", "thang", "nam", "hom"}


def _past_positions(tokens: Sequence[str]) -> list[int]:
    """Positions of past-time cues, including "3 ngay truoc", "cach day 2 tuan"
    (but not "cach day nua tieng": minutes and hours ago are still now)."""
    found = [pos for _, _, pos in _cue_hits(tokens, list(PAST_CUES), honour_negation=False)]
    for i in range(len(tokens) - 1):
        if tokens[i].isdigit() and tokens[i + 1] in _PAST_UNITS and (
                tokens[i + 2:i + 3] in (["truoc"], ["roi"]) or tokens[max(0, i - 2):i] == ["cach", "day"]):
            found.append(i)
    return found


def _present(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """Cues that the matter is happening now, as (phrase, position).

    Look-alikes ("đăng ký", "tối thứ 7 vừa rồi") are dropped, and so is a
    "now" cue sharing its clause with a past one ("vừa bị sáng nay", "sáng nay
    ... chị ấy đang tập thể dục"): the story is told about the past.
    """
    blocked = {pos for _, _, pos in _cue_hits(tokens, list(NOT_PRESENT), honour_negation=False)}
    past_pos = _past_positions(tokens)
    found = []
    for phrase, _, pos in _cue_hits(tokens, list(STRONG_PRESENT_CUES + WEAK_PRESENT_CUES), False):
        if pos in blocked:
            continue
        lo, hi = _clause_of(tokens, pos)
        # An explicit "now" after the past cue moves the story to the present.
        explicit = phrase in EXPLICIT_NOW_CUES
        if any(lo <= p < hi and not (explicit and p < pos) for p in past_pos):
            continue
        found.append((phrase, pos))
    # "... điều tiết ngay", "đến ngay!": "ngay" closing a clause.
    for i, tok in enumerate(tokens):
        if (tok == "ngay" and i > 0 and (i + 1 == len(tokens) or tokens[i + 1] in _CLAUSE_BREAK)
                and tokens[i - 1] not in NOT_NOW_BEFORE_NGAY and not tokens[i - 1].isdigit()
                and tokens[i - 1] not in _CLAUSE_BREAK):
            lo, _ = _clause_of(tokens, i)
            if _has_any(tokens[lo:i], REQUEST_WORDS, honour_negation=False):
                found.append(("ngay", i))
    return found


def _taken_away(tokens: Sequence[str]) -> list[str]:
    """A person being carried off: "bế cháu lên xe", "kéo chị ấy lên ô tô"."""
    verbs = [p for _, _, p in _cue_hits(tokens, list(TAKING_VERBS), honour_negation=False)]
    into = _cue_hits(tokens, list(TAKEN_INTO), honour_negation=False)
    for phrase, _, pos in into:
        for v in verbs:
            between = tokens[v + 1:pos]
            if (0 < pos - v <= TAKING_WINDOW and not any(t in _CLAUSE_BREAK for t in between)
                    and _has_any(between, PERSON_WORDS, honour_negation=False)):
                return ["taken: " + phrase]
    return []


def _near(tokens: Sequence[str], positions_a: Iterable[int], positions_b: Iterable[int],
          distance: int) -> bool:
    """True when two cue positions lie within ``distance`` words in one sentence."""
    sentence_end = {".", "!", "?", "\n"}
    for a in positions_a:
        for b in positions_b:
            lo, hi = sorted((a, b))
            if hi - lo <= distance and not any(t in sentence_end for t in tokens[lo:hi]):
                return True
    return False


def _is_question_only(tokens: Sequence[str]) -> bool:
    words = [t for t in tokens if t.isalnum()]
    return (len(words) <= QUESTION_ONLY_MAX_WORDS
            and bool(_has_any(tokens, QUESTION_CUES, honour_negation=False))
            and not _has_any(tokens, NARRATIVE_CUES + PAST_CUES, honour_negation=False))


def _urgency(tokens: Sequence[str], category: str) -> tuple[str, list[str]]:
    if category in ("spam", "procedure_question"):
        return "low", []
    past = bool(_past_positions(tokens))
    present = _present(tokens)
    life = _has_any(tokens, LIFE_THREAT_CUES)

    # A scam in progress is urgent but not a threat to life (README).
    if category != "fraud" and life and (present or not past):
        return "emergency", ["danger: " + ", ".join(life[:3])]
    taken = _taken_away(tokens)
    if category in ("violence", "other", "theft_robbery") and taken and (present or not past):
        return "emergency", taken
    if present and category != "fraud":
        now_pos = [pos for _, pos in present]
        weapons = _cue_hits(tokens, list(WEAPON_CUES))
        if weapons and _near(tokens, [p for _, _, p in weapons], now_pos, ACUTE_PROXIMITY * 2):
            return "emergency", ["weapon now: " + ", ".join(p for p, _, _ in weapons[:3])]
        acute = _cue_hits(tokens, list(ACUTE_DANGER_CUES))
        if category == "violence" and _near(tokens, [p for _, _, p in acute], now_pos, ACUTE_PROXIMITY):
            return "emergency", ["attack under way: " + ", ".join(p for p, _, _ in acute[:3])]
        if category == "traffic":
            injury = _has_any(tokens, SEVERE_INJURY_CUES)
            drunk = _has_any(tokens, DRUNK_DRIVING_CUES)
            reckless = _has_any(tokens, RECKLESS_CUES)
            if injury or (drunk and reckless):
                return "emergency", ["road danger now: " + ", ".join((injury or reckless)[:3])]
    if category == "other":
        # A lost child or confused elder still missing is urgent; thanks are not.
        missing = _has_any(tokens, MISSING_PERSON_CUES)
        if missing and not past:
            return "high", ["missing person"]
        other_urgent = _has_any(tokens, OTHER_URGENT_CUES)
        if other_urgent and (present or not past):
            return "high", ["urgent: " + ", ".join(other_urgent[:2])]
        return "low", []
    if category == "wanted_sighting":
        # A sighting is worth acting on quickly when it is happening now;
        # a habitual or hearsay whereabouts ("thường", "nghe nói") can wait.
        if present:
            return "high", ["recent sighting"]
        if not past and not _has_any(tokens, HEARSAY_OR_HABIT_CUES, honour_negation=False):
            return "high", ["recent sighting"]
        return "normal", []
    if category == "violence" and not past:
        # Threats with no attacker present are high (README).
        threats = _has_any(tokens, THREAT_CUES)
        if threats:
            return "high", ["threat: " + ", ".join(threats[:2])]
    if present and category in URGENT_WHEN_NOW:
        return "high", ["happening now: " + ", ".join(p for p, _ in present[:3])]
    if present and category == "urban_order" and any(p not in WEAK_PRESENT_CUES for p, _ in present):
        return "high", ["happening now"]
    if _is_question_only(tokens):
        # "đánh bài 5 nghìn có bị tính là đánh bạc không?" asks, reports nothing.
        return "low", ["question only"]
    return "normal", []


def triage(text: str, wards: WardGazetteer, chosen_category: str | None = None) -> TriageResult:
    """Suggest category, urgency and ward for one tip."""
    tokens = _fold_tokens(text)
    mentions = wards._mentions(tokens)
    # Ward names are places, not cues ("Bích Đào kiểm tra" is no "dao kiem").
    tokens = wards.mask(tokens, mentions)
    scores, cues = _score_categories(tokens)
    spam, spam_reasons = _is_spam(tokens, scores)

    if spam:
        suggested = "spam"
        confidence = 1.0
        reasons = ["spam: " + ", ".join(spam_reasons[:3])]
    else:
        ranked = sorted(CATEGORY_PRIORITY,
                        key=lambda c: (-scores.get(c, 0.0), CATEGORY_PRIORITY.index(c)))
        suggested = ranked[0]
        theft = scores.get("theft_robbery", 0.0)
        if (suggested == "violence" and theft >= ROBBERY_MIN_THEFT
                and scores["violence"] < ROBBERY_VIOLENCE_RATIO * theft):
            suggested = "theft_robbery"  # armed robbery (README)
        top = scores.get(suggested, 0.0)
        if top < MIN_CATEGORY_SCORE:
            suggested, top = "other", 0.0
        total = sum(v for v in scores.values() if v > 0)
        confidence = round(top / total, 3) if total else 0.0
        reasons = [f"{suggested}: " + ", ".join(cues.get(suggested, [])[:4])] if top else []

    category = suggested
    disagreement = False
    if chosen_category and chosen_category in CATEGORIES:
        category = chosen_category  # the citizen's choice is kept, only flagged
        if chosen_category != suggested:
            chosen_score = scores.get(chosen_category, 0.0)
            top = scores.get(suggested, 0.0) if suggested != "spam" else 10.0
            disagreement = (top >= DISAGREEMENT_MIN_SCORE
                            and confidence >= DISAGREEMENT_MIN_CONFIDENCE
                            and chosen_score < top / 2)

    urgency, urgency_reasons = _urgency(tokens, "spam" if spam else category)
    ward = None if spam else wards.choose(mentions)
    if ward:
        reasons.append("ward: " + (wards.name_of(ward) or ward))
    return TriageResult(
        category=category,
        urgency=urgency,
        ward=ward or None,
        is_spam=spam,
        confidence=confidence,
        category_scores={k: v for k, v in scores.items() if v > 0},
        suggested_category=suggested,
        category_disagreement=disagreement,
        reasons=reasons + urgency_reasons,
    )


# ---------------------------------------------------------------------------
# Near-duplicates (merge suggestions)
# ---------------------------------------------------------------------------

DUPLICATE_THRESHOLD = 0.5


def _shingles(text: str, size: int = 2) -> set[str]:
    words = fold(text).split()
    words = [w for w in words if w not in _CLAUSE_BREAK]
    if len(words) < size:
        return set(words)
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def near_duplicates(text: str, open_tips: Iterable[tuple[object, str]],
                    threshold: float = DUPLICATE_THRESHOLD) -> list[tuple[object, float]]:
    """Open tips whose folded word-bigram Jaccard similarity reaches ``threshold``.

    Folding first means the same message sent once with and once without
    diacritics, or with "ko"/"không", still counts as a duplicate.
    """
    mine = _shingles(text)
    if not mine:
        return []
    found = []
    for tip_id, other_text in open_tips:
        theirs = _shingles(other_text)
        if not theirs:
            continue
        score = len(mine & theirs) / len(mine | theirs)
        if score >= threshold:
            found.append((tip_id, round(score, 3)))
    found.sort(key=lambda f: -f[1])
    return found


# ---------------------------------------------------------------------------
# Redaction of personal identifiers
# ---------------------------------------------------------------------------

PHONE_PLACEHOLDER = "[số điện thoại]"
CITIZEN_ID_PLACEHOLDER = "[số CCCD]"
PLATE_PLACEHOLDER = "[biển số]"

_SEP = r"[\s.\-]?"
# 12-digit citizen ID (CCCD), optionally grouped "037 190 001 234".
_CITIZEN_ID = re.compile(r"(?<![\w\d])\d{3}(?:[ .]?\d{3}){3}(?![\w\d])")
# Mobile/landline: 0 + 9–10 digits or +84/84 + 9–10 digits, with separators.
_PHONE = re.compile(
    r"(?<![\w\d+])(?:\+84|84|0)" + _SEP + r"\(?\d{2,3}\)?(?:" + _SEP + r"\d){6,8}(?![\w\d])")
# Licence plates: "35A-123.45", "35A12345", "35-B1 234.56", "29LD-123.45",
# "35B1-234.56", old style "35A-1234".
_PLATE = re.compile(
    r"(?<![\w\d])\d{2}\s?-?\s?[A-Z]{1,2}\d?\s?[-.]?\s?(?:\d{3}[.\s]?\d{2}|\d{4})(?![\w\d])",
    re.IGNORECASE)


def redact(text: str) -> str:
    """Replace phone numbers, citizen ID numbers and plates with placeholders."""
    text = normalise(text)
    text = _CITIZEN_ID.sub(CITIZEN_ID_PLACEHOLDER, text)
    text = _PLATE.sub(PLATE_PLACEHOLDER, text)
    text = _PHONE.sub(PHONE_PLACEHOLDER, text)
    return text
