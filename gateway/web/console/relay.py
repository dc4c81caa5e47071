"""Relay tasks: what an officer posts (or takes down) by hand in Zalo groups no API reaches.

Built for a phone: one card per task, the text to paste with a copy button, the group, the
deadline; overdue tasks first; confirming a post needs the message's permalink.
"""
from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from contracts.rpc import InvalidInput
from gateway.rpc import call
from gateway.web.console import bp, is_htmx, page

OPEN = ("overdue", "open")  # the order the cards come in


def my_open_tasks():
    tasks = []
    for status in OPEN:
        tasks += call("notify", "list_relay_tasks", g.officer, {"status": status, "limit": 200})["items"]
    return tasks


@bp.route("/relay")
@page()
def relay_tasks():
    done = call("notify", "list_relay_tasks", g.officer, {"status": "done", "limit": 20})["items"]
    return render_template("console/relay.html", tasks=my_open_tasks(), done=done)


@bp.route("/relay/<task_id>/confirm", methods=["POST"])
@page()
def confirm_relay_task(task_id):
    permalink = request.form.get("permalink", "").strip()
    payload = {"permalink": permalink} if permalink else {}
    try:
        task = call("notify", "confirm_relay_task", g.officer, task_id, payload)
    except InvalidInput as exc:
        task = call("notify", "get_relay_task", g.officer, task_id)
        errors = exc.errors.get("permalink") or [exc.detail]
        message = _("Dán đường dẫn (https://…) tới tin nhắn đã đăng trong nhóm.") \
            if "required" in errors else errors[0]
        return render_template("console/_relay_card.html", task=task, error=message, permalink=permalink), 422
    if is_htmx():
        return render_template("console/_relay_card.html", task=task, just_done=True)
    return redirect(url_for("console.relay_tasks"))
