"""The console in English: every Vietnamese text of the console has its English, and the compiled
catalog the gateway loads is the one the .po file says (gateway/web/translations/README.md)."""
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOG = ROOT / "gateway" / "web" / "translations" / "en" / "LC_MESSAGES"
# The citizens' site is Vietnamese only; its templates are not translated.
VIETNAMESE_ONLY = ("gateway/web/templates/site/", "gateway/web/site/")


def console_texts():
    method_map = [("gateway/web/**.py", "python"), ("gateway/web/templates/**.html", "jinja2")]
    texts = set()
    keywords = dict(DEFAULT_KEYWORDS, _l=None)  # _l: flask_babel.lazy_gettext, for texts made at import
    for filename, _, message, _, _ in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        if filename.startswith(VIETNAMESE_ONLY):
            continue
        texts.add(message if isinstance(message, str) else message[0])
    return texts


def test_every_console_text_has_its_english():
    with open(CATALOG / "messages.po", "rb") as po:
        catalog = read_po(po)
    # a plural entry is known by its singular text; every form must be translated
    english = {(m.id[0] if isinstance(m.id, tuple) else m.id): (m.string if isinstance(m.string, str) else
                                                              all(m.string) and m.string)
               for m in catalog if m.id and not m.fuzzy}
    missing = sorted(t for t in console_texts() if not english.get(t))
    assert not missing, f"{len(missing)} console texts without English, e.g.: {missing[:5]}"


def test_the_compiled_catalog_is_the_po_file():
    def entries(messages):
        return {(m.id if isinstance(m.id, str) else tuple(m.id)):
                (m.string if isinstance(m.string, str) else tuple(m.string)) for m in messages if m.id and not m.fuzzy}
    with open(CATALOG / "messages.po", "rb") as po:
        source = entries(read_po(po))
    with open(CATALOG / "messages.mo", "rb") as mo:
        compiled = entries(read_mo(mo))
    assert compiled == source, "run: .venv/bin/pybabel compile -d gateway/web/translations -l en"
