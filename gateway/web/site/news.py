"""The police's verified news: every published post, the latest first, a page per post, an Atom
feed, and a search that finds "lừa đảo" when typed "lua dao" (the posts service folds both)."""
from flask import Response, render_template, request, url_for

from contracts.posts import WANTED_KINDS
from contracts.rpc import InvalidInput
from gateway.auth import public
from gateway.rpc import call
from gateway.web.site import bp

PAGE_SIZE = 10
FEED_SIZE = 20
SUMMARY_CHARS = 240
KIND_LABELS = {"news": "Tin tức", "warning": "Cảnh báo", "procedure_guide": "Hướng dẫn thủ tục",
               "wanted_notice": "Truy nã", "surrender_appeal": "Kêu gọi đầu thú", "video": "Video"}


def summary(text):
    text = " ".join((text or "").split())
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"


@bp.app_template_filter("post_kind")
def post_kind(kind):
    return KIND_LABELS.get(kind, kind)


@bp.app_template_filter("iso_time")
def iso_time(value):
    """RFC 3339 (Atom, <time datetime>), whether the RPC gave a datetime or a string."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


@bp.app_template_test("wanted")
def is_wanted(post):
    return post.get("kind") in WANTED_KINDS


@bp.route("/")
@public
def news():
    q = " ".join(request.args.get("q", "").split())[:200]
    query = {"limit": PAGE_SIZE, **({"q": q} if q else {})}
    if request.args.get("sau"):
        query["cursor"] = request.args["sau"]
    try:
        found = call("posts", "public_posts", query)
    except InvalidInput:  # a cursor that was tampered with, or outlived a change: start again
        found = call("posts", "public_posts", {k: v for k, v in query.items() if k != "cursor"})
    return render_template("site/news.html", posts=found["items"], next_cursor=found["next_cursor"], q=q,
                           summary=summary)


@bp.route("/tin/<post_id>")
@public
def post(post_id):
    return render_template("site/post.html", post=call("posts", "public_post", post_id))


@bp.route("/tin.atom")
@public
def feed():
    posts = call("posts", "public_posts", {"limit": FEED_SIZE})["items"]
    body = render_template("site/feed.xml", posts=posts, summary=summary,
                           site_url=url_for("site.news", _external=True),
                           self_url=url_for("site.feed", _external=True))
    return Response(body, mimetype="application/atom+xml")
