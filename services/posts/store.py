"""Posts: MongoDB access (database `<prefix>posts`), media in GridFS."""
import secrets
import time
from datetime import datetime

import gridfs
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from contracts.rpc import Conflict, NotFound
from service_runtime.pagination import decode_cursor, encode_cursor, page
from contracts.times import iso
from service_runtime.storage import Store, utcnow
from services.posts import domain


def new_post_id():
    """Time-ordered ids (ms timestamp + randomness): newest-first paging needs no extra index."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(6)}"


def to_doc(post):
    doc = dict(post)
    doc["_id"] = doc.pop("id")
    doc["search_tokens"] = domain.search_tokens_for(post)
    return doc


def to_post(doc):
    post = dict(doc)
    post["id"] = post.pop("_id")
    post.pop("search_tokens", None)
    return post


class PostsStore(Store):
    indexes = {
        "posts": [IndexModel([("status", ASCENDING), ("publish_at", ASCENDING)]),
                  IndexModel([("kind", ASCENDING)]), IndexModel([("unit", ASCENDING)]),
                  IndexModel([("author", ASCENDING)]), IndexModel([("search_tokens", ASCENDING)]),
                  IndexModel([("publication_id", ASCENDING)], sparse=True),
                  IndexModel([("created_at", DESCENDING)]),
                  IndexModel([("published_at", DESCENDING), ("_id", DESCENDING)], sparse=True)],
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.media = gridfs.GridFS(self.db, collection="media")

    def metrics(self):
        yield from super().metrics()
        for row in self.db.posts.aggregate([{"$group": {"_id": {"status": "$status", "kind": "$kind"},
                                                        "n": {"$sum": 1}}}]):
            yield "binhyen_posts", "Posts by status and kind", row["_id"], row["n"]

    def get(self, post_id):
        doc = self.db.posts.find_one({"_id": post_id})
        if doc is None:
            raise NotFound("Không tìm thấy bài viết / post not found")
        return to_post(doc)

    def find_by_publication(self, publication_id):
        doc = self.db.posts.find_one({"publication_id": publication_id})
        return to_post(doc) if doc else None

    def save(self, new, old_version=None, events=(), extra_posts=()):
        """Write a post (insert when old_version is None, else only if still at old_version)
        together with its events and any follow-up posts, in one transaction.

        A concurrent change makes the conditional replace match nothing: 409, never a
        silent overwrite.
        """
        def write(session):
            if old_version is None:
                self.db.posts.insert_one(to_doc(new), session=session)
            else:
                result = self.db.posts.replace_one({"_id": new["id"], "version": old_version}, to_doc(new),
                                                   session=session)
                if result.matched_count != 1:
                    raise Conflict("Bài viết vừa bị thay đổi, hãy tải lại / the post changed meanwhile; "
                                   "reload it", {"version": ["stale"]})
            for post in extra_posts:
                self.db.posts.insert_one(to_doc(post), session=session)
            for event_type, data in events:
                self.emit(session, event_type, data)

        try:
            self.atomic(write)
        except DuplicateKeyError:
            raise Conflict("Bài viết đã tồn tại / post already exists", {"id": ["duplicate"]})
        return new

    def search(self, filters, limit, cursor):
        query = {}
        for key in ("status", "kind", "unit", "author"):
            if filters.get(key):
                query[key] = filters[key]
        if filters.get("created_from") or filters.get("created_to"):
            query["created_at"] = {}
            if filters.get("created_from"):
                query["created_at"]["$gte"] = filters["created_from"]
            if filters.get("created_to"):
                query["created_at"]["$lt"] = filters["created_to"]
        tokens = domain.query_tokens(filters.get("q") or "")
        if tokens:
            query["search_tokens"] = {"$all": tokens}
        docs, next_cursor = page(self.db.posts, query, limit, cursor, newest_first=True)
        return [to_post(doc) for doc in docs], next_cursor

    # What domain.is_public shows: published, or a wanted notice resolved since.
    PUBLIC = {"$or": [{"status": "published"}, {"status": "retracted", "resolution": {"$ne": None}}]}

    def search_public(self, filters, limit, cursor):
        """Public posts, the latest published first (not the latest written)."""
        conditions = [self.PUBLIC]
        if filters.get("kind"):
            conditions.append({"kind": filters["kind"]})
        tokens = domain.query_tokens(filters.get("q") or "")
        if tokens:
            conditions.append({"search_tokens": {"$all": tokens}})
        if cursor:
            at, post_id = decode_cursor(cursor)
            at = datetime.fromisoformat(at)
            conditions.append({"$or": [{"published_at": {"$lt": at}}, {"published_at": at, "_id": {"$lt": post_id}}]})
        docs = list(self.db.posts.find({"$and": conditions}, sort=[("published_at", DESCENDING), ("_id", DESCENDING)],
                                       limit=limit + 1))
        more, docs = len(docs) > limit, docs[:limit]
        last = docs[-1] if docs else None
        next_cursor = encode_cursor([iso(last["published_at"]), last["_id"]]) if more and last else None
        return [to_post(doc) for doc in docs], next_cursor

    def count(self, query):
        return self.db.posts.count_documents(query)

    def due_posts(self, now, limit=50):
        return [to_post(doc) for doc in self.db.posts.find(
            {"status": "scheduled", "publish_at": {"$lte": now}}, sort=[("publish_at", ASCENDING)], limit=limit)]

    def apply_delivery_progress(self, publication_id, summary, as_of):
        """Keep notify's count of a publication's deliveries unless a newer one is already
        here (reports from several notify processes may arrive out of order)."""
        result = self.db.posts.update_one({"publication_id": publication_id, "summary_as_of": {"$lt": as_of}},
                                          {"$set": {"delivery_summary": summary, "summary_as_of": as_of}})
        return result.modified_count == 1

    def wanted_stats(self):
        notices = list(self.db.posts.find({"kind": {"$in": list(domain.WANTED_KINDS)},
                                           "status": {"$in": ["published", "retracted"]}},
                                          {"title": 1, "status": 1, "resolution": 1, "wanted.full_name": 1,
                                           "published_at": 1}))
        resolved, by_channel, per_notice = {}, {}, []
        for doc in notices:
            resolution = doc.get("resolution") or {}
            outcome = resolution.get("outcome")
            if outcome:
                resolved[outcome] = resolved.get(outcome, 0) + 1
            via = resolution.get("learned_via_channel_type")
            if outcome == "surrendered" and via:
                by_channel[via] = by_channel.get(via, 0) + 1
            per_notice.append({"post_id": doc["_id"], "title": doc["title"], "status": doc["status"],
                               "outcome": outcome, "learned_via_channel_type": via})
        return {"notices": len(notices), "resolved": resolved, "surrenders_by_channel_type": by_channel,
                "per_notice": per_notice}

    # --- media --------------------------------------------------------------------------
    def put_media(self, data, filename, content_type, uploaded_by):
        media_id = new_post_id()
        self.media.put(data, _id=media_id, filename=filename,
                       metadata={"content_type": content_type, "uploaded_by": uploaded_by, "uploaded_at": utcnow()})
        return {"media_id": media_id, "content_type": content_type, "size": len(data), "filename": filename}

    def get_media(self, media_id, with_data=True):
        """The stored file; without its bytes when only the description is needed (a post
        referring to a 50 MB video must not read it to check its type and size)."""
        try:
            grid_out = self.media.get(media_id)
        except gridfs.errors.NoFile:
            raise NotFound("Không tìm thấy tệp / media not found")
        media = {"media_id": media_id, "content_type": grid_out.metadata["content_type"],
                 "filename": grid_out.filename, "size": grid_out.length}
        if with_data:
            media["data"] = grid_out.read()
        return media
