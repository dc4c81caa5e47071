"""Tips: MongoDB access (database `<prefix>tips`).

Collections:
  tips            one document per tip (domain shape, `id` stored as `_id`), plus
                  `version` (optimistic concurrency), `search_tokens` (folded words,
                  multikey index: no $text on SecantusDB) and `escalation_due_at` /
                  `escalation_level` (what the SLA timer looks at)
  vault           the sealed identity of a tip, `_id` = tip id; never in the tip itself
  reveal_audit    every opening of the vault {at, actor, tip_id, reason, kind}
  routing_rules   one document, the admin-edited rules table
  faq             procedures knowledge base (seeded from data/procedures-faq.json)
  wanted_notices  projection of published wanted notices (posts.published)
  units           projection of groups.unit_created
  triage_corrections  officers' corrections of category/urgency/ward, one per correction:
                  the labelled examples the triage model is retrained with (text redacted)
  attachments     (GridFS) tipsters' photos, stored without their metadata (photos.py)
  reply_templates admin-edited replies per category ("*": every category), seeded once from
                  data/reply-templates.json
"""
import json
import logging
import secrets
import threading
from datetime import timedelta
from pathlib import Path

import gridfs
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from contracts.rpc import Conflict, NotFound
from service_runtime.pagination import page
from service_runtime.storage import Store, utcnow
from contracts.text import search_tokens
from services.tips import domain
from services.tips.faq import FaqIndex, labelled_faq_queries

logger = logging.getLogger(__name__)

REPLY_TEMPLATES_FILE = Path(__file__).resolve().parents[2] / "data" / "reply-templates.json"
# Store-only fields: never part of the domain's tip.
STORE_FIELDS = ("_id", "search_tokens", "escalation_due_at", "escalation_level")
# What the staff list reads of each tip (its summary is the start of the text).
LISTED_FIELDS = ("tip_code", "status", "category", "urgency", "ward", "unit_id", "channel", "text", "received_at",
                 "sla_due_at", "is_spam")
DUPLICATE_WINDOW = timedelta(days=7)
DUPLICATE_CANDIDATES = 100
DUPLICATE_SCAN = 2 * DUPLICATE_CANDIDATES  # newest tips looked at for those (closed ones are skipped)


class DuplicateIntake(Exception):
    """This platform message was already stored as a tip (a webhook delivered twice)."""

    def __init__(self, existing):
        super().__init__(existing["tip_code"])
        self.existing = existing


class CodeTaken(Exception):
    """The random tip code collided with an existing one: draw another."""


class StaleTip(Exception):
    """The tip changed since it was read (another officer, the SLA timer, another instance)."""


def new_tip_id(now):
    """Time-ordered id (ms timestamp + 48 random bits): newest-first paging by _id works."""
    return f"{int(now.timestamp() * 1000):012x}{secrets.token_hex(6)}"


def to_tip(doc):
    """The domain's view of a stored tip."""
    if doc is None:
        return None
    tip = {k: v for k, v in doc.items() if k not in STORE_FIELDS}
    tip["id"] = doc["_id"]
    return tip


class TipsStore(Store):
    indexes = {
        "tips": [
            IndexModel([("tip_code", ASCENDING)], unique=True),
            # One tip per platform message: a webhook delivered twice makes one tip.
            IndexModel([("channel", ASCENDING), ("message_id", ASCENDING)], unique=True,
                       name="one_tip_per_message", partialFilterExpression={"message_id": {"$type": "string"}}),
            # The lookups intake makes for every tip, in shapes SecantusDB answers from an index
            # (it uses no partial index, and scans the collection when a query names a field
            # its index lacks).
            IndexModel([("message_id", ASCENDING), ("channel", ASCENDING)]),
            IndexModel([("category", ASCENDING), ("ward", ASCENDING), ("received_at", DESCENDING)]),
            IndexModel([("category", ASCENDING), ("received_at", DESCENDING)]),
            IndexModel([("status", ASCENDING), ("received_at", DESCENDING)]),
            IndexModel([("unit_id", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("urgency", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("category", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("ward", ASCENDING)]),
            IndexModel([("sla_due_at", ASCENDING)]),
            IndexModel([("escalation_due_at", ASCENDING)]),
            IndexModel([("received_at", DESCENDING)]),
            IndexModel([("search_tokens", ASCENDING)]),
            IndexModel([("wanted_notice.post_id", ASCENDING)]),
        ],
        "reveal_audit": [IndexModel([("tip_id", ASCENDING), ("at", ASCENDING)])],
        "wanted_notices": [IndexModel([("open", ASCENDING)])],
        "triage_corrections": [IndexModel([("at", ASCENDING)]), IndexModel([("tip_id", ASCENDING), ("at", ASCENDING)])],
        "reply_templates": [IndexModel([("category", ASCENDING)])],
    }

    def metrics(self):
        yield from super().metrics()
        for row in self.db.tips.aggregate([{"$group": {
                "_id": {"category": "$category", "urgency": "$urgency", "status": "$status"}, "n": {"$sum": 1}}}]):
            labels = {key: row["_id"].get(key) or "none" for key in ("category", "urgency", "status")}
            yield "binhyen_tips", "Tips by category, urgency and status", labels, row["n"]
        escalated = self.db.tips.count_documents({"escalation_level": {"$gt": 0}})
        yield "binhyen_tips_sla_breached", "Tips escalated at least once for a missed SLA", {}, escalated

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sla = domain.sla_policy(self.settings)  # SLA_<URGENCY>_SECONDS, checked when the settings were read
        self._faq = None  # (version, FaqIndex, entries by id)
        self._faq_lock = threading.Lock()
        self.attachments = gridfs.GridFS(self.db, collection="attachments")

    def bootstrap(self):
        self.seed_faq()
        self.seed_reply_templates()

    # --- tips: documents --------------------------------------------------------------------
    def _escalation_due_at(self, tip):
        """When the SLA timer should next look at this tip (None: never again).

        Mirrors domain.next_escalation: level n is due after n SLA windows.
        """
        if tip.get("status") not in domain.OPEN_STATUSES or domain.is_acknowledged(tip):
            return None
        window = self.sla.get(tip.get("urgency") or "normal", self.sla["normal"])
        level = len(tip.get("escalations") or []) + 1
        return domain.as_utc(tip["received_at"]) + timedelta(seconds=level * window)

    def _document(self, tip, version):
        doc = {k: v for k, v in tip.items() if k != "id"}
        doc["_id"] = tip["id"]
        doc["version"] = version
        doc["search_tokens"] = search_tokens(" ".join(filter(None, (
            tip.get("text"), tip.get("ward_text"), tip.get("tip_code")))))
        doc["escalation_level"] = len(tip.get("escalations") or [])
        doc["escalation_due_at"] = self._escalation_due_at(tip)
        return doc

    def create_tip(self, tip, sealed, events):
        """Store a new tip, its sealed identity and its events in one transaction.

        Raises DuplicateIntake (same platform message already stored) or CodeTaken.
        """
        doc = self._document(tip, 1)

        def write(session):
            self.db.tips.insert_one(doc, session=session)
            if sealed is not None:
                self.db.vault.insert_one({"_id": tip["id"], "sealed": sealed, "created_at": utcnow()},
                                         session=session)
            for event_type, data in events:
                self.emit(session, event_type, data)

        try:
            self.atomic(write)
        except DuplicateKeyError as exc:
            existing = self.find_intake(tip.get("channel"), tip.get("message_id"))
            if existing is not None:
                raise DuplicateIntake(existing)
            if "tip_code" in str(exc):
                raise CodeTaken()
            raise
        return to_tip(doc)

    def save_tips(self, changes, events=(), audit=None, extra_filter=None):
        """Write changed tips [(before, after)] with their events (and a reveal-audit
        entry) in one transaction. Each write is conditional on the version read, so a
        concurrent change makes the whole write fail with StaleTip instead of losing one.
        """
        def write(session):
            for before, after in changes:
                version = before.get("version", 1)
                query = {"_id": before["id"], "version": version, **(extra_filter or {})}
                result = self.db.tips.replace_one(query, self._document(after, version + 1), session=session)
                if result.matched_count != 1:
                    raise StaleTip(before["id"])
            if audit is not None:
                self.db.reveal_audit.insert_one(audit, session=session)
            for event_type, data in events:
                self.emit(session, event_type, data)

        self.atomic(write)
        return [dict(after, version=before.get("version", 1) + 1) for before, after in changes]

    def save_pending_triage(self, before, after, events):
        """A tip intake could not triage, triaged now: written only while it is still `received`
        (another instance of the timer may have triaged it meanwhile: StaleTip)."""
        return self.save_tips([(before, after)], events, extra_filter={"status": "received"})[0]

    def save_escalation(self, before, after, level, event):
        """A tip escalated to `level`: written only if no instance escalated it to that level first
        (StaleTip), so each level, and its event, happens once."""
        return self.save_tips([(before, after)], [event], extra_filter={"escalation_level": level - 1})[0]

    def get_tip(self, tip_id):
        return to_tip(self.db.tips.find_one({"_id": tip_id})) if isinstance(tip_id, str) else None

    def get_tip_by_code(self, code):
        return to_tip(self.db.tips.find_one({"tip_code": code})) if isinstance(code, str) else None

    def require_tip(self, tip_id):
        tip = self.get_tip(tip_id)
        if tip is None:
            raise NotFound("Không tìm thấy tin báo / tip not found")
        return tip

    def find_intake(self, channel, message_id):
        if not message_id:
            return None
        return to_tip(self.db.tips.find_one({"channel": channel, "message_id": message_id}))

    def search(self, filters, scope, limit, cursor, now):
        """A page of the staff list, newest first: the tips in `scope` (None: every tip) matching
        `filters` (a loaded TipQuery; see tip_filter)."""
        docs, next_cursor = page(self.db.tips, tip_filter(filters, scope, now), limit, cursor, newest_first=True,
                                 projection=dict.fromkeys(LISTED_FIELDS, 1))
        return [to_tip(doc) for doc in docs], next_cursor

    def open_tip_texts(self, category, ward, exclude_id, now):
        """(id, text, code) of the newest open tips of the same category (and ward, when known)
        in DUPLICATE_WINDOW: candidates for near-duplicates. Bounded, because intake runs this
        for every tip; the query names only indexed fields, the rest is checked here."""
        query = {"category": category, "received_at": {"$gte": now - DUPLICATE_WINDOW}}
        if ward:
            query["ward"] = ward
        cursor = self.db.tips.find(query, {"text": 1, "tip_code": 1, "status": 1}, sort=[("received_at", DESCENDING)],
                                   limit=DUPLICATE_SCAN)
        found = [(doc["_id"], doc["text"], doc["tip_code"]) for doc in cursor
                 if doc.get("status") in domain.OPEN_STATUSES and doc["_id"] != exclude_id]
        return found[:DUPLICATE_CANDIDATES]

    def pending_triage(self, older_than, limit=50):
        """Tips stored while triage could not run (groups unreachable): triaged by the timer."""
        return [to_tip(d) for d in self.db.tips.find(
            {"status": "received", "received_at": {"$lt": older_than}}, sort=[("received_at", ASCENDING)],
            limit=limit)]

    def due_for_escalation(self, now, limit=100):
        return [to_tip(d) for d in self.db.tips.find(
            {"escalation_due_at": {"$lte": now}}, sort=[("escalation_due_at", ASCENDING)], limit=limit)]

    def stop_escalation_checks(self, tip):
        """Nothing left to escalate to (the top of the tree): stop looking at this tip."""
        self.db.tips.update_one({"_id": tip["id"], "version": tip.get("version", 1)},
                                {"$set": {"escalation_due_at": None}})

    # --- the vault -----------------------------------------------------------------------------
    def get_sealed(self, tip_id):
        doc = self.db.vault.find_one({"_id": tip_id})
        return doc["sealed"] if doc else None

    def record_system_read(self, audit):
        self.db.reveal_audit.insert_one(audit)

    def reveal_audit_for(self, tip_id):
        """Every opening of this tip's vault entry, oldest first."""
        return [{k: v for k, v in doc.items() if k != "_id"} | {"id": doc["_id"]}
                for doc in self.db.reveal_audit.find({"tip_id": tip_id}, sort=[("at", ASCENDING)])]

    # --- stats ------------------------------------------------------------------------------------
    def work_counts(self, scope, now):
        """Of the tips in `scope` waiting to be taken up: how many, the emergencies among them, and
        those past their SLA at `now`."""
        # One read of the waiting tips' urgency and deadline, counted here: three count_documents
        # cost three scans of the tips on SecantusDB, and the home page of a city officer waits for them.
        waiting = list(self.db.tips.find(tip_filter({"waiting": True}, scope, now),
                                         {"_id": 0, "urgency": 1, "sla_due_at": 1}))
        return {"waiting": len(waiting),
                "emergency": sum(1 for tip in waiting if tip.get("urgency") == "emergency"),
                "past_sla": sum(1 for tip in waiting if tip.get("sla_due_at") and tip["sla_due_at"] < now)}

    def stats_rows(self, filters, scope):
        """What the statistics count (domain.STATS_FIELDS) of every tip in `scope` received in the
        period `filters` names (a loaded StatsQuery): one read (each figure its own aggregation cost
        six scans on SecantusDB)."""
        return list(self.db.tips.find(tip_filter(filters, scope, None),
                                      {"_id": 0, **dict.fromkeys(domain.STATS_FIELDS, 1)}))

    # --- routing rules ---------------------------------------------------------------------------
    def routing_rules(self):
        return self.db.routing_rules.find_one({"_id": "current"}) or {"rules": [], "updated_at": None,
                                                                      "updated_by": None}

    def save_routing_rules(self, rules, actor_id):
        self.db.routing_rules.replace_one(
            {"_id": "current"}, {"rules": rules, "updated_at": utcnow(), "updated_by": actor_id}, upsert=True)
        return self.routing_rules()

    # --- FAQ ---------------------------------------------------------------------------------------
    def seed_faq(self):
        """Load the initial knowledge base once (when the collection is empty)."""
        if self.db.faq.find_one({}, {"_id": 1}) is not None:
            return
        path = Path(self.settings.TIPS_FAQ_FILE)
        entries = json.loads(path.read_text(encoding="utf-8"))
        for entry in entries:
            doc = {k: v for k, v in entry.items() if k != "id"}
            try:
                self.db.faq.update_one({"_id": entry["id"]}, {"$setOnInsert": doc}, upsert=True)
            except DuplicateKeyError:
                pass  # another instance seeding at the same moment inserted it first
        self._bump_faq()

    def _bump_faq(self):
        self.db.meta.update_one({"_id": "faq"}, {"$inc": {"version": 1}}, upsert=True)

    def faq_index(self):
        """(FaqIndex, entries by id), rebuilt only when an entry changed (any instance)."""
        meta = self.db.meta.find_one({"_id": "faq"}) or {"version": 0}
        cached = self._faq
        if cached is not None and cached[0] == meta["version"]:
            return cached[1], cached[2]
        with self._faq_lock:
            entries = [faq_view(doc) for doc in self.db.faq.find(sort=[("_id", ASCENDING)])]
            self._faq = (meta["version"], FaqIndex(entries, labelled_faq_queries()),
                         {e["id"]: e for e in entries})
        return self._faq[1], self._faq[2]

    def list_faq(self, limit, cursor):
        docs, next_cursor = page(self.db.faq, {}, limit, cursor)
        return [faq_view(doc) for doc in docs], next_cursor

    def create_faq(self, entry):
        doc = {k: v for k, v in entry.items() if k != "id"}
        doc.update(_id=entry["id"], created_at=utcnow(), updated_at=utcnow())
        try:
            self.db.faq.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("Mục hỏi đáp đã tồn tại / an FAQ entry with this id exists", {"id": ["duplicate"]})
        self._bump_faq()
        return faq_view(doc)

    def update_faq(self, faq_id, changes):
        doc = self.db.faq.find_one_and_update({"_id": faq_id}, {"$set": dict(changes, updated_at=utcnow())},
                                              return_document=True)
        if doc is None:
            raise NotFound("Không tìm thấy mục hỏi đáp / FAQ entry not found")
        self._bump_faq()
        return faq_view(doc)

    # --- wanted notices (projection of posts.published) ------------------------------------
    def save_wanted_notice(self, notice):
        # open only on insert: a retraction that arrived first (another queue) keeps it closed
        self.db.wanted_notices.update_one(
            {"_id": notice["post_id"]},
            {"$set": dict({k: v for k, v in notice.items() if k != "post_id"}, updated_at=utcnow()),
             "$setOnInsert": {"open": True}}, upsert=True)

    def close_wanted_notice(self, post_id, why):
        self.db.wanted_notices.update_one({"_id": post_id}, {"$set": {"open": False, "closed_because": why,
                                                                      "updated_at": utcnow()}}, upsert=True)

    def open_wanted_notices(self, limit=1000):
        return list(self.db.wanted_notices.find({"open": True}, limit=limit))

    # --- units (projection of groups.unit_created) ------------------------------------------
    def apply_unit_created(self, event):
        """Keep the local directory of units that routing reads (a projection of groups)."""
        data = event["data"]
        self.db.units.update_one(
            {"_id": data["unit_id"]},
            {"$set": {"name": data["name"], "kind": data["kind"], "parent_id": data["parent_id"],
                      "ward": data["ward"], "handles": data["handles"], "updated_at": utcnow()},
             # version counts the events applied to this projection entry
             "$inc": {"version": 1}},
            upsert=True,
        )

    def unit_projection(self, unit_id):
        doc = self.db.units.find_one({"_id": unit_id})
        return None if doc is None else {"id": doc["_id"], "name": doc["name"], "version": doc["version"]}

    # --- officers' triage corrections -------------------------------------------------------
    def save_triage_correction(self, before, after, correction, events=()):
        """The corrected tip, the correction (a labelled example) and the events, in one
        transaction; StaleTip when the tip changed since it was read."""
        def write(session):
            version = before.get("version", 1)
            result = self.db.tips.replace_one({"_id": before["id"], "version": version},
                                              self._document(after, version + 1), session=session)
            if result.matched_count != 1:
                raise StaleTip(before["id"])
            self.db.triage_corrections.insert_one(dict(correction), session=session)
            for event_type, data in events:
                self.emit(session, event_type, data)

        self.atomic(write)
        return dict(after, version=before.get("version", 1) + 1)

    def triage_corrections(self, since=None, until=None, scope=None):
        """Corrections oldest first, optionally within [since, until) and within a scope (scope_filter)."""
        query = {}
        if since is not None or until is not None:
            query["at"] = {**({"$gte": since} if since else {}), **({"$lt": until} if until else {})}
        if scope is not None:
            query.update(scope_filter(scope))
        return [{k: v for k, v in doc.items() if k != "_id"}
                for doc in self.db.triage_corrections.find(query, sort=[("at", ASCENDING)])]

    # --- attachments ---------------------------------------------------------------------------
    def put_attachment(self, data, content_type):
        upload_id = secrets.token_hex(16)  # unguessable: a tip refers to its photos by these ids
        self.attachments.put(data, _id=upload_id, metadata={"content_type": content_type, "stored_at": utcnow()})
        return {"upload_id": upload_id, "content_type": content_type, "size": len(data)}

    def get_attachment(self, upload_id):
        try:
            found = self.attachments.get(upload_id)
        except gridfs.errors.NoFile:
            raise NotFound("Không tìm thấy tệp / attachment not found")
        return {"upload_id": upload_id, "content_type": found.metadata["content_type"], "size": found.length,
                "data": found.read()}

    # --- reply templates ----------------------------------------------------------------------
    def seed_reply_templates(self):
        """The first templates, once: an admin who deleted them all does not get them back."""
        if self.db.meta.find_one({"_id": "reply_templates_seeded"}) is not None:
            return
        for entry in json.loads(REPLY_TEMPLATES_FILE.read_text(encoding="utf-8")):
            doc = {k: v for k, v in entry.items() if k != "id"}
            doc.update(updated_at=utcnow(), updated_by=None)
            self.db.reply_templates.update_one({"_id": entry["id"]}, {"$setOnInsert": doc}, upsert=True)
        self.db.meta.update_one({"_id": "reply_templates_seeded"}, {"$set": {"at": utcnow()}}, upsert=True)

    def reply_templates(self, categories=None):
        query = {"category": {"$in": list(categories)}} if categories is not None else {}
        return [template_view(doc) for doc in self.db.reply_templates.find(query, sort=[("_id", ASCENDING)])]

    def create_reply_template(self, fields, actor_id):
        doc = dict(fields, _id=secrets.token_hex(8), updated_at=utcnow(), updated_by=actor_id)
        self.db.reply_templates.insert_one(doc)
        return template_view(doc)

    def update_reply_template(self, template_id, changes, actor_id):
        doc = self.db.reply_templates.find_one_and_update(
            {"_id": template_id}, {"$set": dict(changes, updated_at=utcnow(), updated_by=actor_id)},
            return_document=True)
        if doc is None:
            raise NotFound("Không tìm thấy mẫu trả lời / reply template not found")
        return template_view(doc)

    def delete_reply_template(self, template_id):
        if self.db.reply_templates.delete_one({"_id": template_id}).deleted_count != 1:
            raise NotFound("Không tìm thấy mẫu trả lời / reply template not found")


def all_of(conditions):
    """One query from conditions that must all hold: a single document when they name different
    fields, since SecantusDB plans an index for that shape and scans the collection under $and
    (the inbox's waiting emergencies: 60 ms instead of 565 ms over 5,000 tips); $and otherwise."""
    merged = {}
    for condition in conditions:
        if set(condition) & set(merged):
            return {"$and": list(conditions)}
        merged.update(condition)
    return merged


# The staff list's filters that are a field of the tip as they are.
EXACT_FILTERS = ("status", "category", "urgency", "ward", "unit_id", "channel")


def tip_filter(filters, scope, now):
    """The query for the tips in `scope` (None: every tip) that match `filters` (a loaded TipQuery or
    StatsQuery): the exact fields, the wanted notice a sighting names, waiting (open, not yet taken
    up), past_sla (waiting, past its deadline at `now`), the received period, and words of the text."""
    conditions = [] if scope is None else [scope_filter(scope)]
    for key in EXACT_FILTERS:
        if key in filters:
            conditions.append({key: filters[key]})
    if "wanted_post_id" in filters:
        conditions.append({"wanted_notice.post_id": filters["wanted_post_id"]})
    if filters.get("waiting") or filters.get("past_sla"):
        conditions.append({"status": {"$in": list(domain.WAITING_STATUSES)}})
    if filters.get("past_sla"):
        conditions.append({"sla_due_at": {"$lt": now}})
    if "received_from" in filters:
        conditions.append({"received_at": {"$gte": filters["received_from"]}})
    if "received_to" in filters:
        conditions.append({"received_at": {"$lt": filters["received_to"]}})
    words = search_tokens(filters.get("text", ""))
    if words:
        conditions.append({"search_tokens": {"$all": words}})
    return all_of(conditions)


def scope_filter(scope):
    """The query part that keeps an officer's scope (domain.tip_in_scope, in MongoDB's words):
    the tips (or corrections) of their units, and those of the wards their ward police units cover."""
    units = {"unit_id": {"$in": sorted(scope["units"])}}
    if not scope["wards"]:
        return units
    return {"$or": [units, {"ward": {"$in": sorted(scope["wards"])}}]}


def template_view(doc):
    return {"id": doc["_id"], "category": doc["category"], "title": doc["title"], "text": doc["text"],
            "updated_at": doc.get("updated_at"), "updated_by": doc.get("updated_by")}


def faq_view(doc):
    return {"id": doc["_id"], "title": doc["title"], "question_variants": doc.get("question_variants", []),
            "answer": doc["answer"], "procedure_code": doc.get("procedure_code", ""), "desk": doc.get("desk", "")}
