"""Deliveries: where a published post went (the delivery monitor) and, for the board, the
deliveries across posts that need someone (failed, dead, waiting for a renewed token).

The monitor's progress per channel type is the post's delivery summary (notify's counts,
kept by posts): a fragment polled every 1.5 s while anything is still on its way, which
answers 286 (htmx stops polling) once nothing is. Relay and take-down tasks are people's
work and may take hours: they are listed, not waited for.
"""
from urllib.parse import urlsplit

from flask import g, redirect, render_template, request, url_for

from contracts.groups import CHANNEL_TYPES as DIRECTORY_CHANNEL_TYPES
from contracts.notify import DELIVERY_STATUSES, SUMMARY_COUNTERS
from gateway.rpc import call
from gateway.web.console import bp, is_htmx, page
from gateway.web.console.posts import gather
from contracts.notify import SUMMARY_COUNTER_OF

PAGE_SIZE = 50
RETRYABLE = ("failed", "dead", "reauth_wait")
REPLY_CHANNEL_TYPES = ("zalo_oa_user", "facebook_messenger")  # notify's replies to tipsters
STILL_UP_SHOWN = 50
TASKS_SHOWN = 50     # open (and overdue) relay tasks listed on the monitor
TABLE_ARGS = ("status", "channel_type", "cursor", "table")
POLL_SECONDS = 1.5
STOP_POLLING = 286  # htmx stops polling on this status
FOLLOW_POLLS = 40   # after a retry, follow it this many polls at most (a minute)


def delivery_query(args, **fixed):
    query = dict(fixed, limit=PAGE_SIZE)
    if args.get("status") in DELIVERY_STATUSES:
        query["status"] = args["status"]
    if args.get("channel_type"):
        query["channel_type"] = args["channel_type"]
    if args.get("cursor"):
        query["cursor"] = args["cursor"]
    return query


def pages(endpoint, found, filters, **values):
    """The pager's links: back to the first page (when on a later one) and to the next."""
    return {"first_url": url_for(endpoint, **values, **filters) if request.args.get("cursor") else None,
            "next_url": url_for(endpoint, **values, cursor=found["next_cursor"], **filters)
            if found["next_cursor"] else None}


def machine_busy(post):
    """True while notify is still sending (or, for a retracted post, still deleting through the
    platforms' APIs): what the monitor waits for. Open relay and take-down tasks are not."""
    summary = post.get("delivery_summary") or {}
    busy = sum(c.get("pending", 0) for c in summary.values())
    if post["status"] == "retracted":
        busy += sum(c.get("sent", 0) for c in summary.values())
    return busy > 0


def totals(summary):
    counters = {}
    for counts in (summary or {}).values():
        for counter, n in counts.items():
            counters[counter] = counters.get(counter, 0) + n
    return counters


def still_up(post):
    """Where a retracted post still is ([deliveries]): sent and not deleted yet, or in a group
    whose officer has not taken it down. Empty once it is gone everywhere."""
    if post["status"] != "retracted" or post.get("retracted_everywhere") is not False:
        return []
    found = gather({status: ("notify", "list_deliveries", ({"post_id": post["id"], "status": status,
                                                           "limit": STILL_UP_SHOWN},))
                    for status in ("sent", "retract_pending")})
    return found["sent"]["items"] + found["retract_pending"]["items"]


def summary_behind(post, live):
    """True while the post's delivery figures lag behind its deliveries as notify has them now
    (`live`: notify's delivery_summary): a retried delivery is still on its way, or its outcome
    is not yet in the post's summary (notify reports it within about a second)."""
    summary = post.get("delivery_summary") or {}
    for channel_type, counts in (live.get("by_channel_type") or {}).items():
        counters = dict.fromkeys(SUMMARY_COUNTERS, 0)
        for status, n in counts["by_status"].items():
            counters[SUMMARY_COUNTER_OF[status]] += n
        if counters["pending"] or any((summary.get(channel_type) or {}).get(c, 0) != n for c, n in counters.items()):
            return True
    return False


def progress_context(post):
    busy = machine_busy(post) and post["status"] in ("published", "retracted")
    return {"post": post, "summary": post.get("delivery_summary") or {}, "totals": totals(post.get("delivery_summary")),
            "busy": busy, "follow": 0, "still_up": still_up(post),
            "poll_seconds": POLL_SECONDS, "follow_polls": FOLLOW_POLLS, "still_up_shown": STILL_UP_SHOWN}


def open_tasks_calls(post_id):
    query = {"post_id": post_id, "limit": TASKS_SHOWN}
    if g.officer.may("relay_tasks.read_all"):
        query["all"] = True
    return {f"tasks_{status}": ("notify", "list_relay_tasks", (g.officer, dict(query, status=status)))
            for status in ("overdue", "open")}


@bp.route("/posts/<post_id>/deliveries")
@page()
def post_deliveries(post_id):
    """The monitor. Its table of deliveries comes as a fragment right after the page (listing a
    publication's deliveries sorts all of them on SecantusDB: about a second for 1,400), unless
    the officer asked for it (a filter, a page, or ?table=1, which is how it works without
    JavaScript). `part` (htmx): only the tasks or only the table, reloaded when sending settles."""
    part = request.args.get("part") if is_htmx() else None
    with_table = part == "table" or (part is None and any(request.args.get(k) for k in TABLE_ARGS))
    calls = {"post": ("posts", "get_post", (g.officer, post_id))}
    if part != "table":
        calls.update(open_tasks_calls(post_id))
    if with_table:
        calls["deliveries"] = ("notify", "list_deliveries", (delivery_query(request.args, post_id=post_id),))
    found = gather(calls)
    filters = {k: v for k, v in request.args.items() if k in ("status", "channel_type") and v}
    context = dict(progress_context(found["post"]), filters=filters, with_title=False, statuses=DELIVERY_STATUSES,
                   retryable=RETRYABLE, filter_action=url_for("console.post_deliveries", post_id=post_id),
                   any_status=True, type_options=sorted(found["post"].get("audience_by_type") or {}),
                   deliveries=found["deliveries"]["items"] if with_table else None)
    if with_table:
        context.update(pages("console.post_deliveries", found["deliveries"], filters, post_id=post_id))
    if part != "table":
        context.update(tasks=found["tasks_overdue"]["items"] + found["tasks_open"]["items"],
                       tasks_more=bool(found["tasks_overdue"]["next_cursor"] or found["tasks_open"]["next_cursor"]))
    if part == "table":
        return render_template("console/_post_deliveries_table.html", **context)
    if part == "tasks":
        return render_template("console/_post_tasks.html", **context)
    return render_template("console/post_deliveries.html", **context)


@bp.route("/posts/<post_id>/deliveries/progress")
@page()
def delivery_progress(post_id):
    post = call("posts", "get_post", g.officer, post_id)
    follow = request.args.get("follow", "")
    follow = min(int(follow), FOLLOW_POLLS) if follow.isdigit() else 0
    context = progress_context(post)
    if follow and not context["busy"] and summary_behind(post, call("notify", "delivery_summary", post_id)):
        context.update(busy=True, follow=follow - 1)  # a retried delivery not yet in the post's figures
    if context["busy"]:
        return render_template("console/_delivery_progress.html", **context)
    # settled: the last figures, no more polling, and the tables below reload once
    return render_template("console/_delivery_progress.html", **context), STOP_POLLING, \
        {"HX-Trigger": "deliveries-settled"}


def back_to(default):
    """Where a form without JavaScript returns to: a console path it names, else `default`."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and parts.path.startswith("/console") else default


@bp.route("/deliveries/<delivery_id>/retry", methods=["POST"])
@page("deliveries.retry")
def retry_delivery(delivery_id):
    delivery = call("notify", "retry_delivery", g.officer, delivery_id)
    if is_htmx():  # the row again, and the monitor's progress starts following it
        return render_template("console/_delivery_row.html", d=delivery, retryable=RETRYABLE, just_retried=True,
                               with_title=request.form.get("with_title") == "1"), {"HX-Trigger": "delivery-retried"}
    return redirect(back_to(url_for("console.deliveries")))


@bp.route("/deliveries")
@page()
def deliveries():
    """The board's list across posts: by default the ones that failed and wait for someone."""
    args = request.args.to_dict()
    args.setdefault("status", "failed")
    found = call("notify", "list_deliveries", delivery_query(args))
    filters = {k: v for k, v in args.items() if k in ("status", "channel_type") and v}
    return render_template("console/deliveries.html", deliveries=found["items"], filters=filters, with_title=True,
                           status=args["status"], statuses=DELIVERY_STATUSES, retryable=RETRYABLE,
                           filter_action=url_for("console.deliveries"), any_status=False,
                           type_options=DIRECTORY_CHANNEL_TYPES + REPLY_CHANNEL_TYPES,
                           **pages("console.deliveries", found, filters))
