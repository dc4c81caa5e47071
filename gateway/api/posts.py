"""Posts: authoring, admin-board moderation, scheduling, publishing, retraction, wanted notices."""
from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from contracts.posts import (HistoryEntry, Post, PostCreate, PostEdit, PostFilter, PublicPost,
                             PublicPostFilter, Reject, Resolve, Retract, Schedule, Transition, WantedStats)
from contracts.rpc import PageQuery, ServiceError
from gateway.api.schemas import body, list_of
from gateway.auth import public, require
from gateway.rpc import call

blp = Blueprint("posts", __name__, url_prefix="/api/v1", description="Posts and the admin board")
AUTH = {"security": [{"bearer": []}]}


class PreconditionRequired(ServiceError):
    status = 428
    title = "Thiếu điều kiện phiên bản / Precondition required"


def if_match(required):
    """The post version from If-Match ("3", W/"3" or 3); None when absent and optional."""
    raw = request.headers.get("If-Match")
    if raw is None:
        if required:
            raise PreconditionRequired("Cần header If-Match với phiên bản bài viết / send If-Match with the "
                                       "post's version (from its ETag)", {"If-Match": ["missing"]})
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 18):  # int64, not "٣" or 5,000 digits
        raise PreconditionRequired("If-Match phải là số phiên bản / If-Match must be the version number",
                                   {"If-Match": ["not a version"]})
    return int(value)


def with_etag(post):
    return post, 200, {"ETag": f'"{post["version"]}"'}


class PostListQuery(PageQuery, PostFilter):
    pass


class PublicListQuery(PageQuery, PublicPostFilter):
    pass


class Resolution(Schema):
    post = fields.Nested(Post, required=True)
    follow_up = fields.Nested(Post, allow_none=True)


@blp.route("/posts")
@blp.arguments(PostListQuery, location="query")
@blp.response(200, list_of(Post, "PostList"))
@blp.doc(**AUTH)
@require()
def list_posts(query):
    for key in ("created_from", "created_to"):
        if key in query:
            query[key] = request.args[key]  # the service parses them again
    return call("posts", "list_posts", query)


@blp.route("/posts", methods=["POST"])
@blp.arguments(PostCreate)
@blp.response(201, Post)
@blp.doc(**AUTH)
@require("posts.write")
def create_post(_):
    post = call("posts", "create_post", g.officer, body())
    return post, 201, {"ETag": f'"{post["version"]}"'}


@blp.route("/posts/<post_id>")
@blp.response(200, Post, headers={"ETag": {"description": "the version, for If-Match", "schema": {"type": "string"}}})
@blp.doc(**AUTH)
@require()
def get_post(post_id):
    return with_etag(call("posts", "get_post", g.officer, post_id))


@blp.route("/posts/<post_id>", methods=["PATCH"])
@blp.arguments(PostEdit)
@blp.response(200, Post)
@blp.alt_response(428, description="If-Match missing")
@blp.alt_response(409, description="Stale version: reload the post")
@blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}], **AUTH)
@require("posts.write")
def edit_post(_, post_id):
    return with_etag(call("posts", "edit_post", g.officer, post_id, body(), if_match(required=True)))


def transition(name, schema, permission, summary):
    @blp.route(f"/posts/<post_id>/{name}", methods=["POST"], endpoint=f"post_{name}")
    @blp.arguments(schema)
    @blp.response(200, Post)
    @blp.doc(summary=summary, parameters=[{"in": "header", "name": "If-Match", "required": False,
                                          "schema": {"type": "string"}}], **AUTH)
    @require(permission)
    def view(_, post_id):
        payload = body() or {}
        version = if_match(required=False)
        if version is not None:
            payload = dict(payload, expected_version=version)
        return with_etag(call("posts", name, g.officer, post_id, payload))
    return view


transition("submit", Transition, "posts.write", "Send a draft to the admin board")
transition("approve", Transition, "posts.moderate", "Approve (four eyes: never one's own post)")
transition("reject", Reject, "posts.moderate", "Reject with a reason (back to the author)")
transition("schedule", Schedule, "posts.moderate", "Publish at a future time")
transition("publish", Transition, "posts.moderate", "Publish now to every channel of the audience")
transition("retract", Retract, "posts.moderate", "Take a published post down from every channel")
transition("archive", Transition, "posts.archive", "Archive a draft, rejected or retracted post")


@blp.route("/posts/<post_id>/resolve", methods=["POST"])
@blp.arguments(Resolve)
@blp.response(200, Resolution)
@blp.doc(summary="A wanted person surrendered, was arrested, or the warrant was withdrawn", **AUTH)
@require("posts.moderate")
def resolve(_, post_id):
    return call("posts", "resolve", g.officer, post_id, body())


@blp.route("/posts/<post_id>/history")
@blp.response(200, HistoryEntry(many=True))
@blp.doc(**AUTH)
@require()
def history(post_id):
    return call("posts", "history", post_id)


@blp.route("/stats/wanted")
@blp.response(200, WantedStats)
@blp.doc(summary="Wanted notices: outcomes, and surrenders per channel type the person learned from", **AUTH)
@require()
def wanted_stats():
    return call("posts", "wanted_stats")


@blp.route("/public/posts")
@blp.arguments(PublicListQuery, location="query")
@blp.response(200, list_of(PublicPost, "PublicPostList"))
@public
def public_posts(query):
    return call("posts", "public_posts", query)


@blp.route("/public/posts/<post_id>")
@blp.response(200, PublicPost)
@public
def public_post(post_id):
    return call("posts", "public_post", post_id)
