"""Vietnamese text, the same way everywhere: NFC on input, diacritics-insensitive keys.

Search uses our own folded token field with a multikey index (no MongoDB $text):
'Cảnh báo lừa đảo' and 'canh bao lua dao' give the same tokens.
"""
import re
import unicodedata


def normalise(text):
    """Unicode NFC, so NFD input (macOS, some keyboards) compares equal."""
    return unicodedata.normalize("NFC", text or "")


def strip_diacritics(text):
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def fold_for_search(text):
    """Diacritics-insensitive search key: NFC, lower, no accents, [a-z0-9] words."""
    return " ".join(re.findall(r"[a-z0-9]+", strip_diacritics(normalise(text).lower())))


def search_tokens(text):
    """Unique folded words in first-seen order (what goes in a document's token field)."""
    return list(dict.fromkeys(fold_for_search(text).split()))


def slugify(text):
    """A readable id: 'Công an phường Đông Thành' -> 'cong-an-phuong-dong-thanh'."""
    return "-".join(fold_for_search(text).split())
