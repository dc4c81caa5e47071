"""The thread with the tipster (messages both ways, FAQ answers), staff notes, and what each side reads."""
import copy

from contracts.rpc import Conflict, Forbidden, InvalidInput
from contracts.times import iso
from contracts.tip_intake import clean_body
from contracts.tips import MESSAGE_MAX
from services.tips.domain.lifecycle import status_label
from services.tips.domain.permissions import can_act
from services.tips.triage import redact


def add_message(tip, sender, text, now, author_id=None):
    """Append to the two-way thread the citizen sees. ``sender``: police | citizen."""
    if sender not in ("police", "citizen"):
        raise InvalidInput("Người gửi không hợp lệ / Invalid sender",
                           {"from": ["police | citizen"]})
    text = clean_body(text, "text", MESSAGE_MAX)
    if tip.get("status") == "closed" and sender == "citizen":
        raise Conflict("Tin báo đã đóng, không nhận thêm tin nhắn / This tip is closed")
    out = copy.deepcopy(tip)
    message = {"at": now, "from": sender, "text": text}
    if author_id:
        message["author_id"] = author_id
    out.setdefault("messages", []).append(message)
    out["updated_at"] = now
    return out


def staff_reply(tip, text, actor, now, in_scope):
    """An officer's message to the citizen (goes out redacted via public_status)."""
    if not can_act(actor, tip, in_scope):
        raise Forbidden("Bạn không có quyền xử lý tin báo này / You may not act on this tip")
    return add_message(tip, "police", text, now, author_id=actor.get("id"))


def add_note(tip, text, actor, now, in_scope):
    """Internal staff note: never shown to the citizen."""
    if not can_act(actor, tip, in_scope):
        raise Forbidden("Bạn không có quyền xử lý tin báo này / You may not act on this tip")
    text = clean_body(text, "text", MESSAGE_MAX)
    out = copy.deepcopy(tip)
    out.setdefault("notes", []).append({"at": now, "author_id": actor.get("id"), "text": text})
    out["updated_at"] = now
    return out


def public_status(tip):
    """What the tipster sees with code + secret: status and the thread, nothing else.

    Whitelisted, not filtered: a field added to tips later cannot leak here. Texts
    are redacted because this leaves the service for a public channel.
    """
    return {
        "tip_code": tip["tip_code"],
        "status": status_label(tip["status"]),
        "received_at": iso(tip["received_at"]),
        "public_messages": [
            {"at": iso(m["at"]), "from": m["from"], "text": redact(m["text"])}
            for m in tip.get("messages", ()) if m.get("from") in ("police", "citizen")
        ],
        "answers": faq_answers(tip),
    }


# A procedure question gets the best FAQ answers at once (web page, Zalo, Facebook); the tip
# stays open for an officer to confirm or answer.
FAQ_HEADING = "Có thể bạn cần / You may need:"
FAQ_FOLLOW_UP = ("Cán bộ sẽ xem câu hỏi của bạn và trả lời thêm nếu cần. / "
                 "An officer will read your question and reply if more is needed.")


def faq_answers(tip):
    """[{title, answer}] best first, for a procedure question triage matched to the FAQ."""
    if tip.get("category") != "procedure_question":
        return []
    return [{"title": s.get("title") or "", "answer": s["answer"]}
            for s in tip.get("faq_suggestions") or () if s.get("answer")]


def faq_replies(answers):
    """The chat messages carrying `answers`: one each (a chat message holds MESSAGE_MAX
    characters), the heading on each, the officer's follow-up promised in the last."""
    replies = []
    for n, item in enumerate(answers, 1):
        head = f"{FAQ_HEADING} {item['title']}\n"
        tail = f"\n{FAQ_FOLLOW_UP}" if n == len(answers) else ""
        room = MESSAGE_MAX - len(head) - len(tail)
        answer = item["answer"] if len(item["answer"]) <= room else item["answer"][:room - 1].rstrip() + "…"
        replies.append(head + answer + tail)
    return replies


def staff_view(tip, alias):
    """A tip for officers: no secret hash, no sealed identity, the tipster as an alias."""
    out = copy.deepcopy(tip)
    out.pop("secret_hash", None)
    out["has_identity"] = bool(out.pop("identity_sealed", None))
    out["tipster_alias"] = alias
    return out
