"""Notify: MongoDB access (database `<prefix>notify`).

Collections:
  publications        what is being delivered, once per post publication / event / alert / reply
  audience_snapshots  the channel list a publication resolved to, as it was at that moment
  deliveries          one per publication x channel (unique), the work queue of the engine
  delivery_batches    first attempts of a fan-out, a few dozen deliveries each: a process claims
                      a batch with one write instead of one write per delivery
  relay_tasks         manual posts and take-downs an officer does by hand
  alerts              what a unit or officer must be told (delivered by a timer)

A delivery's result is written after what it causes (its event, relay task, alert), under ids
fixed by the delivery and its attempt, so a process that dies between the two sends again
after its lease and writes the same ids: nothing is lost, nothing doubled.
"""
import uuid
from datetime import timedelta

from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from contracts.events import make_event
from contracts.rpc import Conflict, NotFound
from service_runtime import logs
from service_runtime.pagination import page
from contracts.times import as_utc, iso
from service_runtime.storage import Store, utcnow
from services.notify import domain

CLAIMABLE = ("pending", "retry_wait")
CHANNEL_FIELDS = ("id", "name", "type", "unit_id", "kind", "ward", "delivery", "external_id", "relay_officer_id",
                  "credentials_ref")


def new_id():
    return uuid.uuid4().hex


def channel_snapshot(channel):
    return {field: channel.get(field) for field in CHANNEL_FIELDS}


def delivery_view(doc, with_attempts=False):
    view = {
        "id": doc["_id"], "publication_id": doc["publication_id"], "post_id": doc.get("post_id"),
        "kind": doc.get("kind", "post"), "event_type": doc.get("event_type"),
        "channel_id": doc["channel_id"], "channel_type": doc["channel_type"],
        "channel_name": (doc.get("channel") or {}).get("name"), "unit_id": doc.get("unit_id"),
        "publishing_unit": doc.get("publishing_unit"), "status": doc["status"],
        "attempt_count": doc.get("attempt_count", 0), "external_id": doc.get("external_id"),
        "last_error_class": doc.get("last_error_class"), "last_error": doc.get("last_error"),
        "next_attempt_at": iso(doc.get("next_attempt_at")), "relay_task_id": doc.get("relay_task_id"),
        "created_at": iso(doc["created_at"]), "updated_at": iso(doc.get("updated_at")),
        "sent_at": iso(doc.get("sent_at")),
    }
    if with_attempts:
        view["attempts"] = [dict(a, at=iso(a["at"])) for a in doc.get("attempts", [])]
    return view


def relay_task_view(doc):
    view = {key: doc.get(key) for key in ("purpose", "status", "delivery_id", "publication_id", "post_id",
                                          "post_title", "channel_id", "channel_type", "channel_name", "group_id",
                                          "officer_id", "officer_username", "officer_name", "unit_id", "text",
                                          "external_id", "permalink", "confirmed_by", "confirmed_by_username")}
    view["id"] = doc["_id"]
    view["unit_officers"] = doc.get("unit_officers") or []
    for key in ("created_at", "remind_at", "overdue_at", "reminded_at", "confirmed_at", "sent_at"):
        view[key] = iso(doc.get(key))
    return view


def outcome_data(doc):
    """notify.delivery_* data of a delivery document."""
    return {"delivery_id": doc["_id"], "publication_id": doc["publication_id"], "post_id": doc.get("post_id"),
            "channel_id": doc["channel_id"], "channel_type": doc["channel_type"], "status": doc["status"],
            "attempts": doc.get("attempt_count", 0), "external_id": doc.get("external_id"),
            "error_class": doc.get("last_error_class"), "error": doc.get("last_error"),
            "unit": doc.get("publishing_unit")}


class NotifyStore(Store):
    indexes = {
        # SecantusDB pays for every index on every write (measured: each one adds ~10-20% to a
        # delivery's update): only what the queue and the API need. A post's deliveries are
        # found through its publications (the unique index's prefix), not an index of their own.
        "deliveries": [
            IndexModel([("publication_id", ASCENDING), ("channel_id", ASCENDING)], unique=True),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),   # the work queue
            IndexModel([("unit_id", ASCENDING)]),
            # Deliveries a retraction caught in flight are found through their publication
            # (`retraction_flags`): a partial index costs each write as much as a full one.
        ],
        "relay_tasks": [
            IndexModel([("delivery_id", ASCENDING), ("purpose", ASCENDING)], unique=True),
            IndexModel([("officer_id", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("unit_id", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("remind_at", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("overdue_at", ASCENDING)]),
            IndexModel([("post_id", ASCENDING)]),   # a post's tasks (the delivery monitor)
        ],
        "delivery_batches": [IndexModel([("lease_until", ASCENDING)])],   # claimable: unclaimed or lease lost
        "audience_snapshots": [IndexModel([("post_id", ASCENDING)])],
        "publications": [IndexModel([("post_id", ASCENDING)]),
                         # partial: the few with deliveries a retraction flagged in flight
                         IndexModel([("retraction_flags", ASCENDING)],
                                    partialFilterExpression={"retraction_flags": True}),
                         IndexModel([("kind", ASCENDING), ("created_at", ASCENDING)])],   # statistics by period
        "alerts": [IndexModel([("delivered", ASCENDING), ("created_at", ASCENDING)]),
                   IndexModel([("unit_id", ASCENDING), ("created_at", ASCENDING)])],
    }

    # Indexes an earlier version made on deliveries: each one cost every delivery write.
    RETIRED_INDEXES = {"deliveries": ("has_side_effects_1", "retract_requested_1")}

    def bootstrap(self):
        for collection, names in self.RETIRED_INDEXES.items():
            for name in set(names) & set(self.db[collection].index_information()):
                self.db[collection].drop_index(name)

    def metrics(self):
        """Figures read at scrape time, the same whichever notify instance answers: deliveries
        waiting or needing a person, open relay tasks, the oldest delivery not yet out. Only
        statuses that stay few are counted here (an index range, not the whole collection)."""
        yield from super().metrics()
        now = utcnow()
        oldest = None
        for row in self.db.deliveries.aggregate([
                {"$match": {"status": {"$in": list(domain.WAITING_STATUSES)}}},
                {"$group": {"_id": {"channel_type": "$channel_type", "status": "$status"}, "n": {"$sum": 1},
                            "oldest": {"$min": "$created_at"}}}]):
            yield ("binhyen_deliveries", "Deliveries waiting to go out or for a person (relay, take-down, "
                   "token, dead), by channel type and status", row["_id"], row["n"])
            if row["_id"]["status"] in domain.NOT_YET_OUT and row.get("oldest"):
                oldest = min(oldest or row["oldest"], row["oldest"])
        yield ("binhyen_delivery_oldest_pending_age_seconds", "Age of the oldest delivery not yet out "
               "(pending, sending or waiting to retry); 0 when none", {},
               (now - oldest).total_seconds() if oldest else 0.0)
        for row in self.db.relay_tasks.aggregate([
                {"$match": {"status": {"$in": ["open", "overdue"]}}},
                {"$group": {"_id": {"purpose": "$purpose", "status": "$status"}, "n": {"$sum": 1}}}]):
            yield "binhyen_relay_tasks", "Relay and take-down tasks not yet done, by purpose and status", \
                row["_id"], row["n"]

    # --- publications and their deliveries ---------------------------------------------------
    def save_publication(self, publication):
        """Store what is delivered (once: a repeated event changes nothing)."""
        doc = dict(publication, created_at=utcnow())
        self.db.publications.update_one({"_id": doc.pop("_id")}, {"$setOnInsert": doc}, upsert=True)

    def get_publication(self, publication_id):
        return self.db.publications.find_one({"_id": publication_id})

    def save_audience_snapshot(self, publication_id, post_id, spec, audience):
        try:
            self.db.audience_snapshots.insert_one({
                "_id": publication_id, "post_id": post_id, "spec": spec, "count": audience["count"],
                "by_type": audience["by_type"], "channels": [channel_snapshot(c) for c in audience["channels"]],
                "resolved_at": utcnow()})
        except DuplicateKeyError:
            pass  # the event came again: the first snapshot stands

    def get_audience_snapshot(self, publication_id):
        return self.db.audience_snapshots.find_one({"_id": publication_id})

    def create_deliveries(self, publication, channels, send_times, batch_size=0, batch_within=0.0,
                          batch_lease_seconds=600.0):
        """One delivery per channel; (publication, channel) pairs that exist are left alone, so
        handling the same event twice creates nothing new. Returns the count created.

        With `batch_size`, the deliveries due within `batch_within` seconds go out in batches
        (`delivery_batches`): each is created in `sending` under its batch's id as claim token,
        and a process takes a whole batch with one write (`claim_batches`), so a first attempt
        costs its insert and its result, no claim. The others are `pending`, claimed one by one.
        A batched delivery without its batch (the process died between the two inserts) is
        taken over like a lost claim after `batch_lease_seconds`."""
        now = utcnow()
        docs, batches = [], []
        for channel, send_at in zip(channels, send_times):
            doc = {"_id": new_id(), "publication_id": publication["_id"], "post_id": publication.get("post_id"),
                   "kind": publication["kind"], "event_type": publication.get("event_type"),
                   "channel_id": channel["id"], "channel_type": channel["type"], "unit_id": channel.get("unit_id"),
                   "publishing_unit": publication.get("unit"), "channel": channel_snapshot(channel),
                   "status": "pending", "next_attempt_at": send_at, "attempts": [], "attempt_count": 0,
                   "attempts_before_retry": 0, "claims": 0, "created_at": now, "updated_at": now}
            if batch_size and (send_at - now).total_seconds() <= batch_within:
                if not batches or len(batches[-1]["delivery_ids"]) >= batch_size:
                    batches.append({"_id": new_id(), "publication_id": publication["_id"], "delivery_ids": [],
                                    "owner": None, "lease_until": send_at, "claims": 0, "created_at": now})
                batches[-1]["delivery_ids"].append(doc["_id"])
                doc.update(status=domain.transition("pending", "send"), claim_token=batches[-1]["_id"], owner=None,
                           lease_until=now + timedelta(seconds=batch_lease_seconds))
            docs.append(doc)
        if not docs:
            return 0
        created = self._insert_new(self.db.deliveries, docs)
        if batches:  # after their deliveries, or a claim could find a batch empty
            self.db.delivery_batches.insert_many(batches)
        return created

    @staticmethod
    def _insert_new(collection, docs):
        """insert_many that leaves documents already there alone; returns how many were new."""
        try:
            return len(collection.insert_many(docs, ordered=False).inserted_ids)
        except BulkWriteError as exc:
            if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
                raise
            return exc.details.get("nInserted", 0)

    # --- the work queue ----------------------------------------------------------------------
    def claim_deliveries(self, owner, limit, lease_seconds, take_over=True):
        """Take up to `limit` deliveries that are due, or (with `take_over`) whose worker lost
        its lease, for `owner`. Each document goes to exactly one claimant."""
        now = utcnow()
        due = {"status": {"$in": list(CLAIMABLE)}, "next_attempt_at": {"$lte": now},
               "retract_requested": {"$ne": True}}
        stale = {"status": "sending", "lease_until": {"$lt": now}}
        found = list(self.db.deliveries.find(stale, limit=limit)) if take_over else []
        stale_count = len(found)
        if stale_count < limit:
            found += list(self.db.deliveries.find(due, limit=limit - stale_count))
        if not found:
            return []
        token = new_id()
        claimed = {"status": "sending", "owner": owner, "claim_token": token, "claimed_at": now,
                   "lease_until": now + timedelta(seconds=lease_seconds)}
        claim = {"$set": claimed, "$inc": {"claims": 1}}
        # Two plain update_many (an $or here makes SecantusDB scan the whole collection); the
        # filter is checked again per document, so a delivery goes to one claimant only.
        modified = 0
        for docs, condition in ((found[:stale_count], stale), (found[stale_count:], due)):
            if docs:
                modified += self.db.deliveries.update_many({"_id": {"$in": [d["_id"] for d in docs]}, **condition},
                                                           claim).modified_count
        if modified == len(found):  # all ours (the usual case): no need to read them again
            return [dict(doc, **claimed, claims=doc.get("claims", 0) + 1) for doc in found]
        return list(self.db.deliveries.find({"_id": {"$in": [d["_id"] for d in found]}, "claim_token": token}))

    def claim_batches(self, owner, limit, lease_seconds):
        """Take up to `limit` batches nobody holds (or whose holder lost its lease) for `owner`:
        one conditional write per batch. Returns [(batch id, its deliveries still to send)],
        each delivery as claimed by `owner` (recording it needs the batch's id as claim token)."""
        now = utcnow()
        lease_until = now + timedelta(seconds=lease_seconds)
        taken = []
        for batch in self.db.delivery_batches.find({"lease_until": {"$lte": now}}, {"delivery_ids": 0},
                                                   sort=[("lease_until", ASCENDING)], limit=limit):
            if self.db.delivery_batches.update_one(
                    {"_id": batch["_id"], "lease_until": batch["lease_until"], "owner": batch.get("owner")},
                    {"$set": {"owner": owner, "lease_until": lease_until},
                     "$inc": {"claims": 1}}).modified_count:
                taken.append(batch["_id"])
        if not taken:
            return []
        ids = [doc["delivery_ids"] for doc in self.db.delivery_batches.find({"_id": {"$in": taken}},
                                                                            {"delivery_ids": 1})]
        docs = {batch_id: [] for batch_id in taken}
        for doc in self.db.deliveries.find({"_id": {"$in": [i for batch in ids for i in batch]}, "status": "sending",
                                            "claim_token": {"$in": taken}}):
            docs[doc["claim_token"]].append(dict(doc, owner=owner, lease_until=lease_until,  # the batch's lease
                                                 claims=doc.get("claims", 0) + 1))
        return list(docs.items())

    def finish_batch(self, batch_id, owner):
        """Every delivery of the batch is recorded: it is done (unless another process took it over)."""
        self.db.delivery_batches.delete_one({"_id": batch_id, "owner": owner})

    def release_batches(self, batch_ids, owner):
        """Stopping: hand what this process did not send back to the others at once."""
        if batch_ids:
            self.db.delivery_batches.update_many({"_id": {"$in": list(batch_ids)}, "owner": owner},
                                                 {"$set": {"owner": None, "lease_until": utcnow()}})

    def next_due_at(self):
        doc = self.db.deliveries.find_one({"status": {"$in": list(CLAIMABLE)}}, {"next_attempt_at": 1},
                                          sort=[("next_attempt_at", ASCENDING)])
        return doc["next_attempt_at"] if doc else None

    def record_outcomes(self, outcomes, relay_remind_seconds, lease_margin_seconds=5.0):
        """Write finished sends: what they cause, then their states, in bulk, no multi-document
        transaction (SecantusDB stalls an update_many behind any open one on the collection).

        First the events, relay tasks and alerts the outcomes cause (ids fixed by delivery and
        attempt: inserting them again changes nothing), then one bulk write of the deliveries.
        A process that dies between the two leaves its deliveries `sending`: whoever takes
        them over sends and writes the same ids again.

        `outcomes`: [(claimed delivery doc, settlement from domain.settle, or {"deferred_until": t})].
        A delivery whose claim was taken over (lost lease) matches nothing and is left to its
        new owner (what its outcome caused stays: a relay task is the same task, an event
        about a failure is true of that attempt). Returns how many were written.

        While a claim's lease has more than `lease_margin_seconds` to run nobody else can have
        taken the delivery, so it is written by _id alone: SecantusDB finds a document by _id
        directly but plans a query for any other filter (measured: a third of the write)."""
        updates, effects = [], {}
        safe_until = utcnow() + timedelta(seconds=lease_margin_seconds)
        for doc, result in outcomes:
            update, caused = self._settled(doc, result, relay_remind_seconds)
            for collection, effect in caused:
                effects.setdefault(collection, []).append(effect)
            ours = doc.get("lease_until") is not None and as_utc(doc["lease_until"]) > safe_until
            where = {"_id": doc["_id"]} if ours else {"_id": doc["_id"], "status": "sending",
                                                      "claim_token": doc["claim_token"]}
            updates.append(UpdateOne(where, update))
        if not updates:
            return 0
        self._insert_effects(effects)
        return self.db.deliveries.bulk_write(updates, ordered=False).matched_count

    def _insert_effects(self, effects):
        for collection in ("relay_tasks", "alerts", "outbox"):  # the event last: what it announces exists
            if effects.get(collection):
                self._insert_new(self.db[collection], effects[collection])
        if self.relay is not None and effects.get("outbox"):
            self.relay.wake()

    def _settled(self, doc, result, relay_remind_seconds):
        """(the update that settles one outcome, [(collection, document) it causes])."""
        now = utcnow()
        release = {"owner": None, "claim_token": None, "lease_until": None, "updated_at": now}
        if "deferred_until" in result:  # paced: back in the queue, no attempt made
            return {"$set": dict(release, status=domain.transition("sending", "deferred"),
                                 next_attempt_at=result["deferred_until"])}, []
        status = result["status"]
        changes = dict(release, status=status, next_attempt_at=result["next_attempt_at"],
                       last_error_class=result["error_class"], last_error=result["error"])
        if status == "sent":
            changes.update(external_id=result["external_id"], sent_at=now)
        attempt = dict(result["attempt"], by=doc.get("owner"))
        after = dict(doc, **changes, attempt_count=doc.get("attempt_count", 0) + 1)
        this_attempt = f"{doc['_id']}:{after['attempt_count']}"
        effects = []
        if status == "relay_pending":
            changes["relay_task_id"] = after["relay_task_id"] = f"{doc['_id']}:post"
            task, event, alert = self._relay_task(after, after["relay_task_id"], "post", relay_remind_seconds,
                                                 result.get("relay_message"), result.get("relay_officers"))
            alert["_id"] = f"{this_attempt}:{alert['kind']}"
            effects += [("relay_tasks", task), self._event_effect(*event, key=this_attempt), ("alerts", alert)]
        elif status in domain.OUTCOME_EVENTS:
            effects.append(self._event_effect(domain.OUTCOME_EVENTS[status], outcome_data(after), key=this_attempt))
        if status in domain.ALERT_FOR_STATE:
            kind = domain.ALERT_FOR_STATE[status]
            channel = after.get("channel") or {}
            alert = self._alert_doc(kind, after.get("publishing_unit") or channel.get("unit_id"),
                                    domain.alert_text(kind, channel=channel.get("name"),
                                                      attempts=after["attempt_count"], error=after.get("last_error")),
                                    delivery_id=after["_id"], post_id=after.get("post_id"))
            alert["_id"] = f"{this_attempt}:{kind}"
            effects.append(("alerts", alert))
        return {"$set": changes, "$push": {"attempts": attempt}, "$inc": {"attempt_count": 1}}, effects

    def _event_effect(self, event_type, data, key):
        """An outbox entry whose event id is fixed by `key` (one delivery attempt): written twice, stored once."""
        envelope = make_event(event_type, data, producer=self.service_name,
                              correlation_id=logs.current_correlation_id())
        envelope["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"binhyen:{event_type}:{key}"))
        return "outbox", {"event_id": envelope["id"], "envelope": envelope, "created_at": utcnow(), "sent_at": None}

    def flagged_for_retraction(self, limit=200):
        """Deliveries whose post was retracted while they were in flight."""
        found = []
        for publication in self.db.publications.find({"retraction_flags": True}, {"retraction_flags_at": 1}):
            flagged = list(self.db.deliveries.find({"publication_id": publication["_id"], "retract_requested": True}))
            if not flagged:  # all settled; unless the flags were set again since this read
                self.db.publications.update_one(
                    {"_id": publication["_id"], "retraction_flags_at": publication.get("retraction_flags_at")},
                    {"$unset": {"retraction_flags": "", "retraction_flags_at": ""}})
            found += [delivery for delivery in flagged if delivery["status"] != "sending"]
        return found[:limit]

    def settle_flag(self, delivery):
        """Clear the retraction flag; a delivery that did not land is cancelled. True if it landed (sent)."""
        now = utcnow()
        if delivery["status"] in domain.CANCELLABLE:
            self.db.deliveries.update_one({"_id": delivery["_id"], "status": delivery["status"]},
                                          {"$set": {"status": domain.transition(delivery["status"], "cancel"),
                                                    "updated_at": now, "next_attempt_at": None},
                                           "$unset": {"retract_requested": ""}})
            if delivery.get("relay_task_id"):  # recorded after the retraction cancelled the open tasks
                self.db.relay_tasks.update_one(
                    {"_id": delivery["relay_task_id"], "status": {"$in": ["open", "overdue"]}},
                    {"$set": {"status": "cancelled", "cancelled_at": now}})
            return False
        self.db.deliveries.update_one({"_id": delivery["_id"]}, {"$unset": {"retract_requested": ""}})
        return delivery["status"] == "sent"

    def _relay_task(self, delivery, task_id, purpose, remind_seconds, message=None, relay_officers=None):
        """(relay task, its notify.relay_task_created event, the officer's alert) for a delivery.

        The task says what to post, or what to delete (the post's title and text as sent, when,
        in which group, the platform's message id), and who does it. `message` ({text, title})
        and `relay_officers` (the names groups gave at publication) come from the engine's
        cached publication; without them the publication is read here."""
        now = utcnow()
        channel = delivery.get("channel") or {}
        remind_at, overdue_at = domain.relay_deadlines(now, remind_seconds)
        if message is None:
            publication = self.get_publication(delivery["publication_id"]) or {"kind": "event"}
            message = domain.message_for(channel, publication)
            relay_officers = relay_officers or publication.get("relay_officers")
        task = {"_id": task_id, "purpose": purpose, "status": "open", "delivery_id": delivery["_id"],
                "publication_id": delivery["publication_id"], "post_id": delivery.get("post_id"),
                "post_title": message.get("title"), "channel_id": delivery["channel_id"],
                "channel_type": delivery["channel_type"], "channel_name": channel.get("name"),
                "group_id": channel.get("external_id"), "unit_id": channel.get("unit_id"),
                **domain.task_assignee(channel, relay_officers), "text": message.get("text"),
                "sent_at": delivery.get("sent_at") if purpose == "take_down" else None,
                "external_id": delivery.get("external_id") if purpose == "take_down" else None,
                "created_at": now, "remind_at": remind_at, "overdue_at": overdue_at, "reminded_at": None}
        event = ("notify.relay_task_created", {
            "relay_task_id": task_id, "delivery_id": delivery["_id"], "publication_id": delivery["publication_id"],
            "post_id": delivery.get("post_id"), "channel_id": delivery["channel_id"],
            "channel_type": delivery["channel_type"], "officer_id": task["officer_id"], "purpose": purpose,
            "unit_id": task["unit_id"], "due_at": iso(overdue_at)})
        kind = "relay_task" if purpose == "post" else "take_down_task"
        alert = self._alert_doc(kind, task["unit_id"], domain.alert_text(kind, task, channel=task["channel_name"],
                                                                         title=task["post_title"]),
                                officer_id=task["officer_id"], delivery_id=delivery["_id"], relay_task_id=task_id,
                                post_id=delivery.get("post_id"))
        return task, event, alert

    # --- reading ---------------------------------------------------------------------------
    def get_delivery(self, delivery_id):
        doc = self.db.deliveries.find_one({"_id": delivery_id})
        if doc is None:
            raise NotFound("Không tìm thấy lượt gửi / delivery not found")
        return doc

    def list_deliveries(self, filters, limit, cursor):
        if "post_id" in filters and "publication_id" not in filters:  # through the publications' index
            filters = dict(filters, publication_id={"$in": self._publications_of(filters["post_id"])})
        return page(self.db.deliveries, filters, limit, cursor, projection={"attempts": 0, "side_effects": 0})

    def publication_titles(self, publication_ids):
        """{publication id: title} (what a list of deliveries names them by), in one read."""
        return {doc["_id"]: doc.get("title") for doc in self.db.publications.find(
            {"_id": {"$in": sorted(set(publication_ids))}}, {"title": 1})}

    def delivery_rows(self, post_id):
        return list(self.db.deliveries.find({"publication_id": {"$in": self._publications_of(post_id)}},
                                            {"status": 1, "channel_type": 1}))

    def _publications_of(self, post_id):
        return [doc["_id"] for doc in self.db.publications.find({"post_id": post_id}, {"_id": 1})]

    def report_progress(self, publication_id, post_id):
        """Emit where a publication stands now, counted from its deliveries, and keep the count
        with the publication (delivery statistics over a period add these up)."""
        now = utcnow()
        as_of = now.isoformat()  # before the read: a later report never shows less
        rows = list(self.db.deliveries.find({"publication_id": publication_id}, {"status": 1, "channel_type": 1}))
        data = domain.publication_progress(rows, publication_id, post_id, as_of)

        def write(session):
            self.emit(session, "notify.publication_progress", data)
            self.db.publications.update_one(
                {"_id": publication_id, "counts_as_of": {"$not": {"$gt": now}}},  # reports may cross
                {"$set": {"counts": domain.counts_by_type_and_status(rows), "counts_as_of": now}}, session=session)
        self.atomic(write)
        return data

    def delivery_counts(self, post_id=None, created_from=None, created_to=None):
        """({channel_type: {status: n}}, publications counted) for one post's publications and/or
        the posts published in [created_from, created_to). One post is counted from its
        deliveries, as they are now; over a period each publication adds the count its last
        progress report kept (a period of hundreds of posts costs one read per post, not one per
        delivery), and one not reported yet is counted from its deliveries."""
        query = {"kind": "post"}
        if post_id:
            query["post_id"] = post_id
        if created_from or created_to:
            query["created_at"] = {**({"$gte": created_from} if created_from else {}),
                                   **({"$lt": created_to} if created_to else {})}
        counts, recount = {}, []
        publications = list(self.db.publications.find(query, {"counts": 1}))
        for publication in publications:
            if post_id or publication.get("counts") is None:
                recount.append(publication["_id"])
            else:
                domain.add_counts(counts, publication["counts"])
        if recount:
            rows = self.db.deliveries.find({"publication_id": {"$in": recount}}, {"status": 1, "channel_type": 1})
            domain.counts_by_type_and_status(rows, into=counts)
        return counts, len(publications)

    def reopen(self, delivery_id, actor_id):
        """An operator's retry: back to pending, with a fresh budget of attempts."""
        doc = self.get_delivery(delivery_id)
        try:
            status = domain.reopen(doc["status"])
        except domain.IllegalTransition:
            # says what to do instead: wait, confirm the relay task, publish again...
            raise Conflict(f"Không gửi lại được / cannot retry ({doc['status']}): {domain.not_retryable_reason(doc)}",
                           {"status": [doc["status"]]})
        now = utcnow()
        after = self.db.deliveries.find_one_and_update(
            {"_id": delivery_id, "status": doc["status"]},
            {"$set": {"status": status, "next_attempt_at": now, "updated_at": now, "retried_by": actor_id,
                      "attempts_before_retry": doc.get("attempt_count", 0)}},
            return_document=ReturnDocument.AFTER)
        if after is None:
            raise Conflict("Lượt gửi vừa thay đổi, hãy thử lại / the delivery just changed, try again")
        return after

    # --- retraction ------------------------------------------------------------------------------
    def mark_publication_retracted(self, publication_id, reason, notice_publication_id):
        """Remember the retraction (and the event partners get about it, for late landings)."""
        self.db.publications.update_one({"_id": publication_id, "retracted_at": None},
                                        {"$set": {"retracted_at": utcnow(), "retraction_reason": reason,
                                                  "retraction_publication_id": notice_publication_id}})

    def cancel_unsent(self, publication_id):
        """Cancel what has not gone out; flag what is in flight (retracted once it lands)."""
        now = utcnow()
        cancelled = self.db.deliveries.update_many(
            {"publication_id": publication_id, "status": {"$in": list(domain.CANCELLABLE)}},
            {"$set": {"status": "cancelled", "updated_at": now, "next_attempt_at": None}}).modified_count
        self.db.relay_tasks.update_many(
            {"publication_id": publication_id, "purpose": "post", "status": {"$in": ["open", "overdue"]}},
            {"$set": {"status": "cancelled", "cancelled_at": now}})
        self.db.deliveries.update_many({"publication_id": publication_id, "status": "sending"},
                                       {"$set": {"retract_requested": True}})
        # After the flags (a repeated event sets it again): what flagged_for_retraction looks at.
        self.db.publications.update_one({"_id": publication_id},
                                        {"$set": {"retraction_flags": True, "retraction_flags_at": now}})
        return cancelled

    def sent_deliveries(self, publication_id):
        return list(self.db.deliveries.find({"publication_id": publication_id, "status": "sent"}))

    def mark_retracted(self, delivery, note, duration_ms=None):
        now = utcnow()
        status = domain.transition("sent", "retracted")
        self.db.deliveries.update_one(
            {"_id": delivery["_id"], "status": "sent"},
            {"$set": {"status": status, "retracted_at": now, "updated_at": now},
             "$push": {"attempts": {"at": now, "outcome": "retracted", "error_class": None, "error": note,
                                    "duration_ms": duration_ms}}})

    def request_take_down(self, delivery, remind_seconds, note=None, message=None, relay_officers=None):
        """A sent delivery with no delete API: a take-down task for its officer or unit."""
        def write(session):
            now = utcnow()
            task_id = new_id()
            after = self.db.deliveries.find_one_and_update(
                {"_id": delivery["_id"], "status": "sent"},
                {"$set": {"status": domain.transition("sent", "takedown_requested"), "updated_at": now,
                          "take_down_task_id": task_id},
                 "$push": {"attempts": {"at": now, "outcome": "takedown_requested", "error_class": None,
                                        "error": note, "duration_ms": None}}},
                session=session, return_document=ReturnDocument.AFTER)
            if after is not None:
                task, event, alert = self._relay_task(after, task_id, "take_down", remind_seconds, message,
                                                      relay_officers)
                self.db.relay_tasks.insert_one(task, session=session)
                self.db.alerts.insert_one(alert, session=session)
                self.emit(session, *event)
            return after
        return self.atomic(write)

    # --- relay tasks ------------------------------------------------------------------------------
    def get_relay_task(self, task_id):
        doc = self.db.relay_tasks.find_one({"_id": task_id})
        if doc is None:
            raise NotFound("Không tìm thấy nhiệm vụ / relay task not found")
        return doc

    def count_relay_tasks(self, filters):
        return self.db.relay_tasks.count_documents(filters)

    def count_deliveries(self, filters):
        return self.db.deliveries.count_documents(filters)

    def list_relay_tasks(self, filters, limit, cursor):
        return page(self.db.relay_tasks, filters, limit, cursor, newest_first=True)

    def confirm_relay_task(self, task, actor, permalink):
        def write(session):
            now = utcnow()
            done = self.db.relay_tasks.find_one_and_update(
                {"_id": task["_id"], "status": {"$in": ["open", "overdue"]}},
                {"$set": {"status": "done", "permalink": permalink, "confirmed_by": actor["id"],
                          "confirmed_by_username": actor.get("username"), "confirmed_at": now}},
                session=session, return_document=ReturnDocument.AFTER)
            if done is None:
                raise Conflict("Nhiệm vụ đã xong hoặc đã huỷ / the task is already done or cancelled",
                               {"status": [task["status"]]})
            if task["purpose"] == "post":
                attempt = {"at": now, "outcome": "relay_confirmed", "error_class": None, "error": None,
                           "duration_ms": None}
                after = self.db.deliveries.find_one_and_update(
                    {"_id": task["delivery_id"], "status": "relay_pending"},
                    {"$set": {"status": domain.transition("relay_pending", "relay_confirmed"),
                              "external_id": permalink, "sent_at": now, "updated_at": now},
                     "$push": {"attempts": attempt}},
                    session=session, return_document=ReturnDocument.AFTER)
                if after is None:
                    raise Conflict("Lượt gửi không còn chờ đăng tay / the delivery no longer awaits a relay")
            else:
                self.db.deliveries.update_one(
                    {"_id": task["delivery_id"], "status": "retract_pending"},
                    {"$set": {"status": domain.transition("retract_pending", "takedown_confirmed"),
                              "retracted_at": now, "updated_at": now}}, session=session)
            return done
        return self.atomic(write)

    def due_reminders(self, now, limit=100):
        return list(self.db.relay_tasks.find({"status": "open", "remind_at": {"$lte": now}, "reminded_at": None},
                                             limit=limit))

    def remind(self, task):
        def write(session):
            result = self.db.relay_tasks.update_one({"_id": task["_id"], "reminded_at": None},
                                                    {"$set": {"reminded_at": utcnow()}}, session=session)
            if result.modified_count:
                self._alert(session, "relay_reminder", unit_id=task.get("unit_id"), officer_id=task.get("officer_id"),
                            relay_task_id=task["_id"], delivery_id=task["delivery_id"], post_id=task.get("post_id"),
                            text=domain.alert_text("relay_reminder", task, channel=task.get("channel_name")))
        self.atomic(write)

    def due_overdue(self, now, limit=100):
        return list(self.db.relay_tasks.find({"status": "open", "overdue_at": {"$lte": now}}, limit=limit))

    def mark_overdue(self, task):
        def write(session):
            result = self.db.relay_tasks.update_one({"_id": task["_id"], "status": "open"},
                                                    {"$set": {"status": "overdue", "overdue_marked_at": utcnow()}},
                                                    session=session)
            if not result.modified_count:
                return
            self.emit(session, "notify.relay_task_overdue", {
                key: task.get(key) for key in ("delivery_id", "publication_id", "post_id", "channel_id",
                                               "channel_type", "officer_id", "unit_id", "purpose")}
                | {"relay_task_id": task["_id"], "created_at": iso(task["created_at"])})
            self._alert(session, "relay_overdue", unit_id=task.get("unit_id"), officer_id=None,
                        relay_task_id=task["_id"], delivery_id=task["delivery_id"], post_id=task.get("post_id"),
                        text=domain.alert_text("relay_overdue", task, channel=task.get("channel_name")))
        self.atomic(write)

    # --- alerts ------------------------------------------------------------------------------
    @staticmethod
    def _alert_doc(kind, unit_id, text, officer_id=None, **refs):
        return {"_id": new_id(), "kind": kind, "unit_id": unit_id, "officer_id": officer_id, "text": text,
                "refs": refs, "created_at": utcnow(), "delivered": False}

    def _alert(self, session, kind, unit_id, text, officer_id=None, **refs):
        self.db.alerts.insert_one(self._alert_doc(kind, unit_id, text, officer_id, **refs), session=session)

    def add_alert(self, kind, unit_id, text, officer_id=None, alert_id=None, **refs):
        """An alert outside a delivery's transaction (tips events); idempotent by alert_id."""
        try:
            self.db.alerts.insert_one({"_id": alert_id or new_id(), "kind": kind, "unit_id": unit_id,
                                       "officer_id": officer_id, "text": text, "refs": refs,
                                       "created_at": utcnow(), "delivered": False})
        except DuplicateKeyError:
            pass

    def undelivered_alerts(self, limit=50):
        return list(self.db.alerts.find({"delivered": False}, sort=[("created_at", ASCENDING)], limit=limit))

    def mark_alerts_delivered(self, alert_ids, channels):
        """One write for a digest's alerts (a province fan-out raises hundreds of relay alerts)."""
        self.db.alerts.update_many({"_id": {"$in": alert_ids}}, {"$set": {"delivered": True, "delivered_to": channels,
                                                                         "delivered_at": utcnow()}})

    def alerts_for(self, unit_id=None, officer_id=None):
        query = {}
        if unit_id:
            query["unit_id"] = unit_id
        if officer_id:
            query["officer_id"] = officer_id
        return list(self.db.alerts.find(query, sort=[("created_at", ASCENDING)]))
