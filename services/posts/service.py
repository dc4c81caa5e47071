"""Posts service: drafts, moderation, scheduling, publishing, retraction (nameko entrypoints).

Every change goes: load -> pure domain transition -> conditional save with its events in
one transaction. Staff RPCs take the acting officer first.
"""
import base64
import logging
from datetime import datetime

from nameko.timer import timer

from contracts.permissions import Actor
from contracts.rpc import Conflict, InvalidInput, NotFound
from service_runtime.entrypoints import RpcProxy, ServiceBase, event_subscriber, rpc
from service_runtime.storage import StoreProvider, utcnow
from service_runtime.validation import load
from services.posts import domain, schemas
from contracts.times import iso
from services.posts.store import PostsStore, new_post_id

logger = logging.getLogger(__name__)

# The scheduler looks for due posts this often: a post goes out within this + one publish.
SCHEDULER_SECONDS = 1.0
UNFIT_CHANNELS_NAMED = 20  # channels named in an approval refused for channels that cannot take the post


def view(post, actor=None):
    shown = {key: value for key, value in post.items() if key not in ("history", "summary_as_of")}
    shown["required_approvals"] = domain.required_approvals(post["kind"])
    shown["retracted_everywhere"] = (domain.retracted_everywhere(post.get("delivery_summary"))
                                     if post.get("retraction_reason") else None)
    if actor is not None:
        shown["allowed_actions"] = domain.allowed_actions(post, actor)
    return shown


def public_view(post):
    """What anyone may read. A wanted notice that was resolved stays listed, marked resolved,
    without its text and photos: those were taken down from every channel."""
    resolution = post.get("resolution")
    if resolution:
        return {"id": post["id"], "kind": post["kind"], "title": post["title"], "body": "", "media": [],
                "published_at": post["published_at"],
                "resolved": {"outcome": resolution["outcome"], "at": resolution["at"],
                             "label": domain.OUTCOME_LABELS[resolution["outcome"]][0]}}
    return {"id": post["id"], "kind": post["kind"], "title": post["title"], "body": post["body"],
            "media": post.get("media", []), "published_at": post["published_at"]}


def ref(post):
    return {"post_id": post["id"], "kind": post["kind"], "unit": post.get("unit"), "title": post["title"],
            "version": post["version"]}


def pick(header_version, body_version):
    """If-Match wins over the body's expected_version; a version 0 is a version (stale), not absent."""
    return header_version if header_version is not None else body_version


def split_version(payload):
    payload = dict(payload or {})
    return payload.pop("expected_version", None), payload


class PostsService(ServiceBase):
    name = "posts"
    store = StoreProvider(PostsStore)
    groups = RpcProxy("groups")

    # --- reading --------------------------------------------------------------------------
    @rpc
    def get_post(self, actor, post_id):
        return view(self.store.get(post_id), actor)

    @rpc
    def history(self, post_id, since_version=None):
        """The post's history; with since_version, only what happened after that version (what
        an editor whose copy went stale has missed)."""
        history = self.store.get(post_id).get("history", [])
        return history if since_version is None else domain.history_since(history, since_version)

    @rpc
    def preview(self, kind, content, channel_types):
        """What content (saved or not) would look like per channel type: the editor's live counts and
        the board's previews. Pure rules; nothing is read or stored."""
        if kind not in domain.KINDS:
            raise InvalidInput("Loại bài viết không hợp lệ / invalid kind", {"kind": list(domain.KINDS)})
        return domain.preview(kind, content or {}, [t for t in channel_types if t in domain.CHANNEL_TYPES],
                              utcnow())

    @rpc
    def check_channels(self, post_id):
        """Whether the post's audience can take it, asked before approving: {audience_count,
        audience_by_type, problems: [{channel_type, code, reason}], exclude_channels: [ids]}."""
        post = self.store.get(post_id)
        counts, summary = self._audience_fit(post)
        return dict(counts, **domain.channel_fit(post, summary))

    @rpc
    def list_posts(self, query=None):
        q = dict(query or {})
        paging = load(schemas.Page(), {k: q.pop(k) for k in ("limit", "cursor") if k in q})
        filters = load(schemas.PostFilter(), q)
        posts, cursor = self.store.search(filters, paging["limit"], paging["cursor"])
        return {"items": [view(post) for post in posts], "next_cursor": cursor}

    @rpc
    def public_posts(self, query=None):
        q = dict(query or {})
        paging = load(schemas.Page(), {k: q.pop(k) for k in ("limit", "cursor") if k in q})
        filters = load(schemas.PublicPostFilter(), q)
        posts, cursor = self.store.search_public(filters, paging["limit"], paging["cursor"])
        return {"items": [public_view(post) for post in posts], "next_cursor": cursor}

    @rpc
    def public_post(self, post_id):
        post = self.store.get(post_id)
        if not domain.is_public(post):
            raise NotFound("Không tìm thấy bài viết / post not found")
        return public_view(post)

    @rpc
    def work_counts(self, actor):
        """What waits for this officer (the console's home): posts to review (not yet approved by
        them), their unit's drafts and rejected posts, and what is scheduled."""
        actor = Actor.of(actor)
        counts = {}
        if actor.may("posts.moderate"):
            counts["to_review"] = self.store.count({"status": "in_review", "approvals.by": {"$ne": actor["id"]}})
            counts["scheduled"] = self.store.count({"status": "scheduled"})
        if actor.may("posts.write"):
            mine = {} if actor.is_admin else {"unit": actor.get("unit_id")}
            counts["drafts"] = self.store.count(dict(mine, status="draft"))
            counts["rejected"] = self.store.count(dict(mine, status="rejected"))
        return counts

    @rpc
    def wanted_stats(self):
        return self.store.wanted_stats()

    # --- writing ----------------------------------------------------------------------------
    @rpc
    def create_post(self, actor, payload):
        data = load(schemas.PostCreate(), payload)
        self._check_media(data.get("media", []))
        post = domain.create_draft(actor, utcnow(), data, post_id=new_post_id())
        return view(self.store.save(post), actor)

    @rpc
    def edit_post(self, actor, post_id, payload, expected_version=None):
        version, changes = split_version(load(schemas.PostEdit(), payload))
        self._check_media(changes.get("media", []))
        post = self.store.get(post_id)
        new = domain.edit(post, actor, utcnow(), changes, pick(expected_version, version))
        if new is not post and "audience" in changes:
            new.update(self._audience_counts(new))  # the count the board sees follows the audience
        return view(self.store.save(new, post["version"]) if new is not post else post, actor)

    @rpc
    def submit(self, actor, post_id, payload=None, expected_version=None):
        version, _ = split_version(load(schemas.Transition(), payload or {}))
        post = self.store.get(post_id)
        new = domain.submit(post, actor, utcnow(), pick(expected_version, version))
        new.update(self._audience_counts(new))
        return view(self.store.save(new, post["version"], [("posts.submitted", ref(new))]), actor)

    @rpc
    def approve(self, actor, post_id, payload=None, expected_version=None):
        version, _ = split_version(load(schemas.Transition(), payload or {}))
        post = self.store.get(post_id)
        counts, summary = self._audience_fit(post)
        new = domain.approve(post, actor, utcnow(), summary, pick(expected_version, version))
        if new["version"] == post["version"]:
            return view(post, actor)  # the same moderator approving again counts once
        new.update(counts)
        events = [("posts.approved", ref(new))] if new["status"] == "approved" else []
        return view(self.store.save(new, post["version"], events), actor)

    @rpc
    def reject(self, actor, post_id, payload):
        version, data = split_version(load(schemas.Reject(), payload))
        post = self.store.get(post_id)
        new = domain.reject(post, actor, utcnow(), data["reason"], version)
        return view(self.store.save(new, post["version"], [("posts.rejected", dict(ref(new), reason=data["reason"]))]),
                    actor)

    @rpc
    def schedule(self, actor, post_id, payload):
        version, data = split_version(load(schemas.Schedule(), payload))
        post = self.store.get(post_id)
        new = domain.schedule(post, actor, utcnow(), data["publish_at"], version)
        return view(self.store.save(new, post["version"]), actor)

    @rpc
    def publish(self, actor, post_id, payload=None, expected_version=None):
        version, _ = split_version(load(schemas.Transition(), payload or {}))
        return view(self._publish(self.store.get(post_id), actor, pick(expected_version, version)), actor)

    def _publish(self, post, actor, expected_version=None):
        counts = self._audience_counts(post)
        if not counts["audience_count"]:
            raise InvalidInput("Không còn kênh nào trong đối tượng nhận / the audience has no active channel",
                               {"audience": ["empty"]})
        new, snapshot = domain.publish(post, actor, utcnow(), expected_version)
        new.update(counts)
        new["delivery_summary"] = domain.initial_delivery_summary(counts["audience_by_type"])
        new["summary_as_of"] = new["published_at"]  # notify's first report comes later
        event = dict(snapshot, published_at=iso(snapshot["published_at"]), wanted=self._wanted_for_event(new))
        return self.store.save(new, post["version"], [("posts.published", event)])

    @staticmethod
    def _wanted_for_event(post):
        wanted = post.get("wanted")
        if not wanted:
            return None
        return {key: wanted.get(key) for key in ("full_name", "birth_year", "hometown", "charge")}

    @rpc
    def retract(self, actor, post_id, payload):
        version, data = split_version(load(schemas.Retract(), payload))
        post = self.store.get(post_id)
        new = domain.retract(post, actor, utcnow(), data["reason"], version)
        return view(self.store.save(new, post["version"], [("posts.retracted", self._retracted(new))]), actor)

    @staticmethod
    def _retracted(post):
        return {"post_id": post["id"], "publication_id": post["publication_id"], "kind": post["kind"],
                "reason": post["retraction_reason"]}

    @rpc
    def archive(self, actor, post_id, payload=None):
        version, _ = split_version(load(schemas.Transition(), payload or {}))
        post = self.store.get(post_id)
        return view(self.store.save(domain.archive(post, actor, utcnow(), version), post["version"]), actor)

    @rpc
    def resolve(self, actor, post_id, payload):
        """A wanted person surrendered, was arrested, or the warrant was withdrawn."""
        version, data = split_version(load(schemas.Resolve(), payload))
        post = self.store.get(post_id)
        new, follow_up = domain.resolve(post, actor, utcnow(), data["outcome"], data["learned_via_channel_type"],
                                        data["create_follow_up"], version, follow_up_id=new_post_id())
        resolution = new["resolution"]
        events = [("posts.retracted", self._retracted(new)),
                  ("posts.wanted_resolved", {
                      "post_id": new["id"], "publication_id": new["publication_id"], "outcome": resolution["outcome"],
                      "learned_via_channel_type": resolution["learned_via_channel_type"],
                      "follow_up_post_id": resolution["follow_up_post_id"]})]
        saved = self.store.save(new, post["version"], events, extra_posts=[follow_up] if follow_up else [])
        return {"post": view(saved, actor), "follow_up": view(follow_up, actor) if follow_up else None}

    # --- media ------------------------------------------------------------------------------
    @rpc
    def store_media(self, actor, filename, content_type, data_b64):
        data = base64.b64decode(data_b64)
        clean_name = domain.media_problem_check(filename, content_type, data)
        return self.store.put_media(data, clean_name, content_type, actor["id"])

    @rpc
    def get_media(self, media_id):
        media = self.store.get_media(media_id)
        media["data"] = base64.b64encode(media["data"]).decode()
        return media

    def _check_media(self, media):
        for item in media:
            stored = self.store.get_media(item["media_id"], with_data=False)  # NotFound for an unknown id
            if stored["content_type"] != item["content_type"] or stored["size"] != item["size"]:
                raise InvalidInput("Thông tin tệp không khớp tệp đã tải lên / media reference does not match "
                                   "the upload", {"media": [item["media_id"]]})

    # --- the scheduler and delivery news -------------------------------------------------------
    @timer(interval=SCHEDULER_SECONDS)
    def publish_due(self):
        """Publish scheduled posts that are due. Two instances may find the same post: the
        conditional save lets exactly one publish it; the other gets a conflict and moves on."""
        for post in self.store.due_posts(utcnow()):
            try:
                self._publish(post, domain.SCHEDULER_ACTOR, post["version"])
                logger.info("scheduled post published", extra={"fields": {"post_id": post["id"]}})
            except Conflict:
                pass  # another instance published it, or it was edited meanwhile
            except InvalidInput as exc:
                logger.warning("scheduled post not published: %s", exc.detail,
                               extra={"fields": {"post_id": post["id"]}})

    def _audience_fit(self, post):
        """(audience counts, the summary channel checks read), naming the channels of any type
        that cannot take the post, so the board can leave them out."""
        counts = self._audience_counts(post)
        summary = {"count": counts["audience_count"], "by_type": counts["audience_by_type"]}
        unfit_types = sorted({p["channel_type"] for p in domain.channel_problems(post, summary) if p["channel_type"]})
        if unfit_types:
            spec = dict(post.get("audience") or {}, channel_types=unfit_types)
            channels = self.groups.resolve_audience(spec, UNFIT_CHANNELS_NAMED)["channels"] or []
            summary["channels"] = {t: [c for c in channels if c["type"] == t] for t in unfit_types}
        return counts, summary

    def _audience_counts(self, post):
        result = self.groups.resolve_audience(post.get("audience") or {}, 0)
        return {"audience_count": result["count"], "audience_by_type": result["by_type"]}

    @event_subscriber("notify.publication_progress")
    def on_publication_progress(self, event):
        data = event["data"]
        self.store.apply_delivery_progress(data["publication_id"], domain.delivery_summary(data["by_channel_type"]),
                                           datetime.fromisoformat(data["as_of"]))
