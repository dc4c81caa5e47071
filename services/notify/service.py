"""Notify service: fan-out of posts, unit alerts and subscriptions, replies to tipsters (nameko entrypoints).

The work itself is done by the DeliveryEngine (services/notify/engine.py); these entrypoints
turn events into deliveries and answer the API.
"""
import logging
import uuid

from nameko.timer import timer

from contracts.notify import ALERT_EVENT, DeliveryQuery, DeliveryStatsQuery, RelayConfirm, RelayTaskQuery
from contracts.permissions import may, require
from contracts.rpc import Forbidden, InvalidInput
from service_runtime import logs
from service_runtime.entrypoints import RpcProxy, ServiceBase, event_subscriber, rpc
from service_runtime.storage import StoreProvider, utcnow
from service_runtime.validation import load
from services.notify import domain
from services.notify.engine import DeliveryEngine
from contracts.times import iso
from services.notify.store import NotifyStore, delivery_view, relay_task_view

logger = logging.getLogger(__name__)

ALERT_DIGEST_LINES = 20
REPLY_CHANNEL_TYPES = {"zalo": ("zalo_oa_user", "TIPS_REPLY_ZALO_CREDENTIALS_REF"),
                       "facebook": ("facebook_messenger", "TIPS_REPLY_FACEBOOK_CREDENTIALS_REF")}


def post_publication(event):
    data = event["data"]
    return {"_id": data["publication_id"], "kind": "post", "post_id": data["post_id"], "post_kind": data["kind"],
            "title": data["title"], "body": data["body"], "channel_overrides": data.get("channel_overrides") or {},
            "media": data.get("media") or [], "unit": data.get("unit"), "envelope": event, "event_type": event["type"]}


def event_publication(event):
    return {"_id": f"event:{event['id']}", "kind": "event", "event_type": event["type"], "envelope": event,
            "title": domain.EVENT_TITLES.get(event["type"], event["type"]), "text": domain.event_text(event),
            "post_id": None, "unit": None}


class NotifyService(ServiceBase):
    name = "notify"
    store = StoreProvider(NotifyStore)
    engine = DeliveryEngine()
    groups = RpcProxy("groups")

    # --- posts -----------------------------------------------------------------------------------
    @event_subscriber("posts.published")
    def on_post_published(self, event):
        """Snapshot the audience and make one delivery per channel (a repeat makes none)."""
        data = event["data"]
        audience = self.groups.resolve_audience(data["audience"], None)
        publication = post_publication(event)
        publication["relay_officers"] = self._relay_officers(audience["channels"])
        self.store.save_publication(publication)
        self.store.save_audience_snapshot(publication["_id"], data["post_id"], data["audience"], audience)
        self.engine.fan_out(publication, audience["channels"])
        self._deliver_to_subscribers(event)

    @event_subscriber("posts.retracted")
    def on_post_retracted(self, event):
        """Cancel what has not gone out; take down what has (API, task, or the partner is told)."""
        data = event["data"]
        notice = event_publication(event)
        self.store.save_publication(notice)
        self.store.mark_publication_retracted(data["publication_id"], data["reason"], notice["_id"])
        self.store.cancel_unsent(data["publication_id"])
        self.engine.touch(data["publication_id"], data["post_id"])
        self.engine.retract_all(self.store.sent_deliveries(data["publication_id"]), notice["_id"])
        self._deliver_to_subscribers(event)

    @event_subscriber("posts.wanted_resolved")
    def on_wanted_resolved(self, event):
        # The notice itself is taken down through the posts.retracted that comes with it.
        self._deliver_to_subscribers(event)

    # --- tips ------------------------------------------------------------------------------------
    @event_subscriber("tips.assigned")
    def on_tip_assigned(self, event):
        data = event["data"]
        self.store.add_alert("tip_assigned", data["unit_id"], domain.alert_text("tip_assigned", tip_code=data["tip_code"]),
                             alert_id=f"tips.assigned:{event['id']}", tip_id=data["tip_id"])
        self._deliver_to_subscribers(event)

    @event_subscriber("tips.escalated")
    def on_tip_escalated(self, event):
        data = event["data"]
        self.store.add_alert("tip_escalated", data["to_unit_id"],
                             domain.alert_text("tip_escalated", tip_code=data["tip_code"], level=data["level"]),
                             alert_id=f"tips.escalated:{event['id']}", tip_id=data["tip_id"])
        self._deliver_to_subscribers(event)

    @event_subscriber("tips.triaged")
    def on_tip_triaged(self, event):
        self._deliver_to_subscribers(event)

    @event_subscriber("tips.status_changed")
    def on_tip_status_changed(self, event):
        self._deliver_to_subscribers(event)

    @event_subscriber("tips.reply_sent")
    def on_tip_reply_sent(self, event):
        """A staff reply to a tipster who wrote on Zalo or Facebook (web tipsters read it online).
        The tipster's platform id is asked of tips at send time, never stored here."""
        data = event["data"]
        if data["source"] not in REPLY_CHANNEL_TYPES:
            return
        channel_type, credentials_setting = REPLY_CHANNEL_TYPES[data["source"]]
        channel = {"id": f"tipster:{data['tip_id']}", "name": f"Người báo tin {data['tip_code']}",
                   "type": channel_type, "unit_id": None, "delivery": "api", "external_id": None,
                   "credentials_ref": self.engine.settings[credentials_setting]}
        publication = {"_id": f"event:{event['id']}", "kind": "reply", "event_type": event["type"],
                       "text": data["text"], "title": f"Phản hồi tin báo {data['tip_code']}", "envelope": None,
                       "post_id": None, "unit": None}
        self.store.save_publication(publication)
        self.engine.fan_out(publication, [channel])

    def _relay_officers(self, channels, retractable=True):
        """Names of the officers this publication's relay and take-down tasks go to, asked of
        groups once here (never per task). Without them (groups older than this call, or it
        failed) tasks still name the officer's id."""
        officer_ids, unit_ids = domain.task_people_needed(channels, retractable)
        if not officer_ids and not unit_ids:
            return None
        try:
            return self.groups.relay_officers(sorted(officer_ids), sorted(unit_ids))
        except Exception as exc:
            logs.log(logger, logging.WARNING, "relay officers' names unavailable; tasks name ids only",
                     error=type(exc).__name__)
            return None

    def _deliver_to_subscribers(self, event):
        recipients = self.groups.recipients_for(event["type"], event["data"])
        if recipients:
            publication = event_publication(event)
            publication["relay_officers"] = self._relay_officers([r["channel"] for r in recipients], False)
            self.store.save_publication(publication)
            self.engine.fan_out(publication, [r["channel"] for r in recipients])

    # --- timers ---------------------------------------------------------------------------------
    @timer(interval=1.0)
    def relay_deadlines(self):
        """Remind the officer after one period; overdue (and the unit told) after the second."""
        now = utcnow()
        for task in self.store.due_reminders(now):
            self.store.remind(task)
        for task in self.store.due_overdue(now):
            self.store.mark_overdue(task)

    @timer(interval=1.0)
    def deliver_alerts(self):
        """Send pending alerts to each unit's alert channels (its subscriptions to notify.alert),
        one digest per unit and kind, so an outage that kills 1,000 deliveries sends one message."""
        alerts = self.store.undelivered_alerts(limit=500)
        groups = {}
        for alert in alerts:
            groups.setdefault((alert.get("unit_id"), alert["kind"]), []).append(alert)
        for (unit_id, kind), batch in groups.items():
            recipients = [r for r in self.groups.recipients_for(ALERT_EVENT, {"kind": kind})
                          if unit_id and r["unit_id"] == unit_id] if unit_id else []
            channels = [r["channel"] for r in recipients]
            if channels:
                publication = self._alert_publication(batch)
                self.store.save_publication(publication)  # what a send reads, in whichever process
                self.engine.fan_out(publication, channels)
            self.store.mark_alerts_delivered([alert["_id"] for alert in batch], [c["id"] for c in channels])

    @staticmethod
    def _alert_publication(batch):
        first = batch[0]
        lines = [a["text"] for a in batch[:ALERT_DIGEST_LINES]]
        if len(batch) > ALERT_DIGEST_LINES:
            lines.append(f"… và {len(batch) - ALERT_DIGEST_LINES} cảnh báo nữa / and "
                         f"{len(batch) - ALERT_DIGEST_LINES} more")
        text = "[Bình Yên] " + "\n".join(lines)
        envelope = {"id": str(uuid.uuid4()), "type": ALERT_EVENT, "version": 1, "occurred_at": iso(first["created_at"]),
                    "producer": "notify", "correlation_id": None,
                    "data": {"kind": first["kind"], "unit_id": first.get("unit_id"), "count": len(batch),
                             "alerts": [{"id": a["_id"], "text": a["text"], "officer_id": a.get("officer_id"),
                                         **a.get("refs", {})} for a in batch[:100]]}}
        return {"_id": f"alert:{first['_id']}", "kind": "alert", "event_type": ALERT_EVENT, "envelope": envelope,
                "title": f"Cảnh báo / alert: {first['kind']}", "text": text, "post_id": None,
                "unit": first.get("unit_id")}

    # --- deliveries (API) ---------------------------------------------------------------------------
    @rpc
    def list_deliveries(self, query=None):
        q = load(DeliveryQuery(), query or {})
        filters = {key: q[key] for key in ("post_id", "publication_id", "status", "channel_type", "unit_id") if key in q}
        docs, cursor = self.store.list_deliveries(filters, q["limit"], q["cursor"])
        titles = self.store.publication_titles(doc["publication_id"] for doc in docs) if docs else {}
        return {"items": [dict(delivery_view(doc), title=titles.get(doc["publication_id"])) for doc in docs],
                "next_cursor": cursor}

    @rpc
    def get_delivery(self, delivery_id):
        return delivery_view(self.store.get_delivery(delivery_id), with_attempts=True)

    @rpc
    def retry_delivery(self, actor, delivery_id):
        if not may(actor, "deliveries.retry"):
            raise Forbidden("Chỉ Ban kiểm duyệt hoặc quản trị viên được gửi lại: hãy báo họ mã lượt gửi này / "
                            "only moderators and admins may retry: tell them this delivery's id")
        doc = self.store.reopen(delivery_id, actor["id"])
        self.engine.touch(doc["publication_id"], doc.get("post_id"))
        self.engine.wake()
        return delivery_view(doc, with_attempts=True)

    @rpc
    def delivery_summary(self, post_id):
        """Where a post arrived: counts by status and by channel type (for GET /posts/{id}/deliveries)."""
        return domain.summarise(self.store.delivery_rows(post_id), post_id)

    @rpc
    def delivery_stats(self, query=None):
        """Deliveries of posts by channel type and outcome: one post (`post_id`) and/or the posts
        published in a period (`from`, `to`); with neither, every post."""
        q = load(DeliveryStatsQuery(), query or {})
        counts, publications = self.store.delivery_counts(q.get("post_id"), q.get("published_from"),
                                                          q.get("published_to"))
        return dict(domain.delivery_stats(counts), post_id=q.get("post_id"), publications=publications,
                    published_from=iso(q.get("published_from")), published_to=iso(q.get("published_to")))

    @rpc
    def audience_snapshot(self, publication_id):
        doc = self.store.get_audience_snapshot(publication_id)
        return None if doc is None else {"publication_id": doc["_id"], "post_id": doc["post_id"], "count": doc["count"],
                                         "by_type": doc["by_type"], "channels": doc["channels"],
                                         "resolved_at": iso(doc["resolved_at"])}

    # --- relay tasks (API) ------------------------------------------------------------------------
    @rpc
    def work_counts(self, actor):
        """What waits for this officer (the console's home): their open relay and take-down tasks
        and how many are overdue; for the board, deliveries that failed or died and every
        overdue relay task."""
        mine = {"$or": domain.my_tasks(actor), "status": {"$in": ["open", "overdue"]}}
        counts = {"relay_open": self.store.count_relay_tasks(dict(mine, purpose="post")),
                  "take_down_open": self.store.count_relay_tasks(dict(mine, purpose="take_down")),
                  "mine_overdue": self.store.count_relay_tasks(dict(mine, status="overdue"))}
        if may(actor, "relay_tasks.read_all"):
            counts["overdue_all"] = self.store.count_relay_tasks({"status": "overdue"})
            counts["deliveries_failed"] = self.store.count_deliveries({"status": {"$in": ["failed", "reauth_wait"]}})
            counts["deliveries_dead"] = self.store.count_deliveries({"status": "dead"})
        return counts

    @rpc
    def list_relay_tasks(self, actor, query=None):
        q = load(RelayTaskQuery(), query or {})
        filters = {key: q[key] for key in ("status", "purpose", "post_id") if key in q}
        if q["all"]:
            require(actor, "relay_tasks.read_all")
        else:
            filters["$or"] = domain.my_tasks(actor)
        docs, cursor = self.store.list_relay_tasks(filters, q["limit"], q["cursor"])
        return {"items": [relay_task_view(doc) for doc in docs], "next_cursor": cursor}

    @rpc
    def get_relay_task(self, actor, task_id):
        return relay_task_view(self.store.get_relay_task(task_id))

    @rpc
    def confirm_relay_task(self, actor, task_id, payload=None):
        """The officer posted it (or took it down) by hand: the permalink proves where."""
        data = load(RelayConfirm(), payload or {})
        task = self.store.get_relay_task(task_id)
        if not domain.may_confirm(task, actor):
            raise Forbidden("Chỉ cán bộ được giao hoặc quản trị viên / only the assigned officer or an admin")
        if task["purpose"] == "post" and not data.get("permalink"):
            raise InvalidInput("Cần đường dẫn tới bài đã đăng / the permalink is required",
                               {"permalink": ["required"]})
        done = self.store.confirm_relay_task(task, actor, data.get("permalink"))
        self.engine.touch(task.get("publication_id"), task.get("post_id"))
        return relay_task_view(done)

    @rpc
    def alerts(self, unit_id=None, officer_id=None):
        """Alerts raised for a unit or an officer, oldest first."""
        return [{"id": a["_id"], "kind": a["kind"], "unit_id": a.get("unit_id"), "officer_id": a.get("officer_id"),
                 "text": a["text"], "refs": a.get("refs", {}), "created_at": iso(a["created_at"]),
                 "delivered": a.get("delivered", False)} for a in self.store.alerts_for(unit_id, officer_id)]

    @rpc
    def engine_stats(self):
        return dict(self.engine.stats, owner=self.engine.owner, in_flight=self.engine.pool.running())
