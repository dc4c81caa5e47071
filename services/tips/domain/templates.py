"""Reply templates (admin-edited, per category; "*" for every category)."""
from contracts.rpc import InvalidInput
from contracts.tip_intake import clean_body, clean_text, has_words
from contracts.tips import ANY, MESSAGE_MAX
from services.tips.triage import CATEGORIES


TEMPLATE_TITLE_MAX = 200


def reply_template(data, partial=False):
    """A template's fields as stored: title and text NFC-cleaned (the text is a reply, so the
    reply's rules apply), the category one of CATEGORIES or ANY. ``partial``: only the fields given."""
    out, errors = {}, {}
    if "category" in data or not partial:
        if data.get("category") not in (ANY, *CATEGORIES):
            errors["category"] = [f"Một trong / One of: {ANY}, {', '.join(CATEGORIES)}"]
        out["category"] = data.get("category")
    if "title" in data or not partial:
        title = clean_text(data.get("title") or "").strip()
        if not has_words(title) or len(title) > TEMPLATE_TITLE_MAX:
            errors["title"] = [f"Từ 1 đến {TEMPLATE_TITLE_MAX} ký tự / 1 to {TEMPLATE_TITLE_MAX} characters"]
        out["title"] = title
    if "text" in data or not partial:
        try:
            out["text"] = clean_body(data.get("text"), "text", MESSAGE_MAX)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput("Mẫu trả lời có trường không hợp lệ / The reply template has invalid fields", errors)
    return out


def templates_for(category, templates):
    """The templates a reply to a tip of ``category`` is offered: its category's first, then those
    for every category, each group by title."""
    def title(t):
        return t["title"].casefold()
    own = sorted((t for t in templates if t["category"] == category), key=title)
    general = sorted((t for t in templates if t["category"] == ANY and category != ANY), key=title)
    return own + general
