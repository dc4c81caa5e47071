"""Groups: MongoDB access (database `<prefix>groups`)."""
import json
import logging
import threading
import uuid
from datetime import timedelta
from pathlib import Path

from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from contracts.rpc import Conflict, NotFound
from service_runtime.pagination import page
from service_runtime.storage import Store, utcnow
from services.groups import domain

logger = logging.getLogger(__name__)

CHANNEL_FIELDS = ("name", "type", "unit_id", "kind", "ward", "external_id", "delivery", "relay_officer_id",
                  "followers", "status", "credentials_ref")


def unit_view(doc):
    return {"id": doc["_id"], "name": doc["name"], "kind": doc["kind"], "parent_id": doc.get("parent_id"),
            "ward": doc.get("ward"), "handles": doc.get("handles", []), "active": doc.get("active", True)}


def channel_view(doc):
    view = {"id": doc["_id"]}
    view.update({field: doc.get(field) for field in CHANNEL_FIELDS})
    return view


def subscription_view(doc):
    return {"id": doc["_id"], "unit_id": doc["unit_id"], "event_pattern": doc["event_pattern"],
            "filters": doc.get("filters", {}), "target_channel_id": doc["target_channel_id"],
            "active": doc.get("active", True)}


class GroupsStore(Store):
    indexes = {
        "units": [IndexModel([("parent_id", ASCENDING)])],
        "officers": [IndexModel([("username", ASCENDING)], unique=True),
                     IndexModel([("unit_id", ASCENDING)])],
        "channels": [IndexModel([("type", ASCENDING), ("external_id", ASCENDING)], unique=True),
                     IndexModel([("unit_id", ASCENDING), ("status", ASCENDING)]),
                     IndexModel([("ward", ASCENDING)]), IndexModel([("kind", ASCENDING)])],
        "subscriptions": [IndexModel([("unit_id", ASCENDING)])],
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._directory = None  # (version, units, channels): audiences resolve in memory
        self._directory_lock = threading.Lock()

    def bootstrap(self):
        self.load_reference()
        self.bootstrap_admin()

    def bootstrap_admin(self):
        """Create the first admin from BINHYEN_ADMIN_USERNAME/PASSWORD if it does not exist."""
        username = self.settings.BINHYEN_ADMIN_USERNAME
        password = self.settings.BINHYEN_ADMIN_PASSWORD
        if not (username and password):
            return
        if self.db.officers.find_one({"username": username}) is None:
            try:
                self.create_officer({"username": username, "password": password,
                                     "full_name": "Quản trị hệ thống", "roles": ["admin"], "unit_id": None})
                logger.info("bootstrap admin account created")
            except Conflict:
                pass  # another instance created it first

    # --- reference data (wards, group kinds): loaded once, a deployment replaces its own ---
    def load_reference(self, path=None):
        path = Path(path or self.settings.REFERENCE_DATA_FILE)
        if self.db.reference.find_one({"_id": "wards"}):
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("wards", "group_kinds", "tip_categories"):
            self.db.reference.update_one({"_id": key}, {"$setOnInsert": {"items": data[key]}}, upsert=True)

    def reference(self):
        return {doc["_id"]: doc["items"] for doc in self.db.reference.find()}

    def reference_file(self):
        return json.loads(Path(self.settings.REFERENCE_DATA_FILE).read_text(encoding="utf-8"))

    # --- the directory snapshot used for audiences and rule checks ---------------------------
    def _bump(self, session):
        self.db.meta.update_one({"_id": "directory"}, {"$inc": {"version": 1}}, upsert=True, session=session)

    def directory(self):
        """(units, channels) as lists of views, cached until any unit or channel changes.

        One small read per call checks the version, so several groups instances stay
        consistent without talking to each other.
        """
        meta = self.db.meta.find_one({"_id": "directory"}) or {"version": 0}
        cached = self._directory
        if cached is not None and cached[0] == meta["version"]:
            return cached[1], cached[2]
        with self._directory_lock:
            units = [unit_view(doc) for doc in self.db.units.find()]
            channels = [{"id": d["_id"], "name": d["name"], "type": d["type"], "unit_id": d["unit_id"],
                         "kind": d.get("kind"), "ward": d.get("ward"), "status": d["status"],
                         "delivery": d.get("delivery"), "external_id": d["external_id"],
                         "relay_officer_id": d.get("relay_officer_id"), "followers": d.get("followers", 0),
                         "credentials_ref": d.get("credentials_ref")}
                        for d in self.db.channels.find(sort=[("_id", ASCENDING)])]
            self._directory = (meta["version"], units, channels)
        return units, channels

    # --- units ---------------------------------------------------------------------------
    def create_unit(self, unit):
        doc = {"_id": unit["id"], "name": unit["name"], "kind": unit["kind"],
               "parent_id": unit.get("parent_id"), "ward": unit.get("ward"),
               "handles": unit.get("handles", []), "active": True, "created_at": utcnow()}

        def write(session):
            self.db.units.insert_one(doc, session=session)
            self._bump(session)
            self.emit(session, "groups.unit_created", {
                "unit_id": doc["_id"], "name": doc["name"], "kind": doc["kind"],
                "parent_id": doc["parent_id"], "ward": doc["ward"], "handles": doc["handles"],
            })

        try:
            self.atomic(write)
        except DuplicateKeyError:
            raise Conflict(f"Đơn vị {doc['_id']} đã tồn tại / unit already exists", {"id": ["duplicate"]})
        return doc

    def get_unit(self, unit_id):
        return self.db.units.find_one({"_id": unit_id})

    def list_units(self, limit, cursor):
        return page(self.db.units, {}, limit, cursor)

    def update_unit(self, unit_id, changes):
        def write(session):
            self.db.units.update_one({"_id": unit_id}, {"$set": dict(changes, updated_at=utcnow())},
                                     session=session)
            self._bump(session)
        self.atomic(write)
        return self.get_unit(unit_id)

    def active_channel_count(self, unit_id):
        return self.db.channels.count_documents({"unit_id": unit_id, "status": "active"})

    # --- officers ------------------------------------------------------------------------
    def create_officer(self, officer):
        doc = {"_id": domain.slugify(officer["username"]), "username": officer["username"],
               "full_name": officer.get("full_name"), "roles": officer["roles"],
               "unit_id": officer.get("unit_id"), "active": True,
               "password_hash": domain.hash_password(officer["password"]), "created_at": utcnow()}
        try:
            self.db.officers.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("Tên đăng nhập đã tồn tại / username already exists", {"username": ["duplicate"]})
        return doc

    def find_officer(self, username):
        return self.db.officers.find_one({"username": username, "active": True})

    def record_login_failure(self, officer_id, now):
        """One more wrong password; the LOGIN_LOCK_AFTER-th in a row locks the account a while."""
        doc = self.db.officers.find_one_and_update({"_id": officer_id}, {"$inc": {"failed_logins": 1}},
                                                   return_document=ReturnDocument.AFTER)
        if doc and doc.get("failed_logins", 0) >= domain.LOGIN_LOCK_AFTER:
            self.db.officers.update_one({"_id": officer_id}, {"$set": {
                "failed_logins": 0, "login_locked_until": now + timedelta(seconds=domain.LOGIN_LOCK_SECONDS)}})
            return True
        return False

    def clear_login_failures(self, doc):
        if doc.get("failed_logins") or doc.get("login_locked_until"):
            self.db.officers.update_one({"_id": doc["_id"]}, {"$set": {"failed_logins": 0},
                                                             "$unset": {"login_locked_until": ""}})

    def officers_by_id(self, ids=None):
        query = {"_id": {"$in": list(ids)}} if ids is not None else {}
        return {doc["_id"]: doc for doc in self.db.officers.find(query, {"password_hash": 0})}

    def relay_officers(self, officer_ids, unit_ids):
        """The officers named, and the unit operators of the units named (no password hashes)."""
        query = {"$or": [{"_id": {"$in": officer_ids}}, {"unit_id": {"$in": unit_ids}, "roles": "unit_operator"}]}
        return list(self.db.officers.find(query, {"password_hash": 0}, sort=[("_id", ASCENDING)]))

    def list_officers(self, limit, cursor):
        return page(self.db.officers, {}, limit, cursor, projection={"password_hash": 0})

    # --- channels --------------------------------------------------------------------------
    def get_channel(self, channel_id):
        return self.db.channels.find_one({"_id": channel_id})

    def list_channels(self, query, limit, cursor):
        return page(self.db.channels, query, limit, cursor)

    def save_channels(self, channels):
        """Insert new channels and update changed ones (matched on type + external_id).

        Returns (created, updated, unchanged) counts; one channel_registered event per new
        channel, in the same transaction.
        """
        ids = [domain.channel_id(c["type"], c["external_id"]) for c in channels]
        existing = {doc["_id"]: doc for doc in self.db.channels.find({"_id": {"$in": ids}})}
        created, updated, unchanged = [], [], 0
        now = utcnow()
        for channel, cid in zip(channels, ids):
            fields = {field: channel.get(field) for field in CHANNEL_FIELDS}
            old = existing.get(cid)
            if old is None:
                created.append(dict(fields, _id=cid, created_at=now, updated_at=now))
            elif any(old.get(f) != fields[f] for f in CHANNEL_FIELDS):
                updated.append(UpdateOne({"_id": cid}, {"$set": dict(fields, updated_at=now)}))
            else:
                unchanged += 1

        def write(session):
            if created:
                self.db.channels.insert_many(created, session=session)
                for doc in created:
                    self.emit(session, "groups.channel_registered", self._channel_event(doc))
            if updated:
                self.db.channels.bulk_write(updated, session=session)
            if created or updated:
                self._bump(session)

        if created or updated:
            try:
                self.atomic(write)
            except DuplicateKeyError:
                raise Conflict("Kênh đã tồn tại / a channel with this type and external id exists",
                               {"external_id": ["duplicate"]})
        return {"created": len(created), "updated": len(updated), "unchanged": unchanged,
                "ids": ids}

    def create_channel(self, channel):
        cid = domain.channel_id(channel["type"], channel["external_id"])
        if self.db.channels.find_one({"_id": cid}):
            raise Conflict("Kênh đã tồn tại / a channel with this type and external id exists",
                           {"external_id": ["duplicate"]})
        self.save_channels([channel])
        return self.get_channel(cid)

    def update_channel(self, channel_id, changes):
        def write(session):
            before = self.db.channels.find_one_and_update(
                {"_id": channel_id}, {"$set": dict(changes, updated_at=utcnow())}, session=session)
            self._bump(session)
            if before["status"] == "active" and changes.get("status") == "inactive":
                self.emit(session, "groups.channel_deactivated", {
                    "channel_id": channel_id, "type": before["type"], "unit_id": before["unit_id"]})
            elif before["status"] == "inactive" and changes.get("status") == "active":
                self.emit(session, "groups.channel_registered", self._channel_event(dict(before, **changes)))
        self.atomic(write)
        return self.get_channel(channel_id)

    @staticmethod
    def _channel_event(doc):
        return {"channel_id": doc["_id"], "type": doc["type"], "unit_id": doc["unit_id"],
                "kind": doc.get("kind"), "ward": doc.get("ward"), "delivery": doc["delivery"]}

    # --- subscriptions -----------------------------------------------------------------------
    def create_subscription(self, sub):
        doc = dict(sub, _id=uuid.uuid4().hex, active=True, created_at=utcnow())

        def write(session):
            self.db.subscriptions.insert_one(doc, session=session)
            self.emit(session, "groups.subscription_changed", {
                "subscription_id": doc["_id"], "unit_id": doc["unit_id"], "action": "created",
                "event_pattern": doc["event_pattern"], "target_channel_id": doc["target_channel_id"]})
        self.atomic(write)
        return doc

    def get_subscription(self, sub_id):
        return self.db.subscriptions.find_one({"_id": sub_id, "active": True})

    def list_subscriptions(self, query, limit, cursor):
        return page(self.db.subscriptions, dict(query, active=True), limit, cursor)

    def active_subscriptions(self):
        return list(self.db.subscriptions.find({"active": True}))

    def delete_subscription(self, sub):
        def write(session):
            self.db.subscriptions.update_one({"_id": sub["_id"]}, {"$set": {"active": False,
                                                                             "deleted_at": utcnow()}},
                                             session=session)
            self.emit(session, "groups.subscription_changed", {
                "subscription_id": sub["_id"], "unit_id": sub["unit_id"], "action": "deleted",
                "event_pattern": sub["event_pattern"], "target_channel_id": sub["target_channel_id"]})
        self.atomic(write)

    def require_unit(self, unit_id):
        doc = self.get_unit(unit_id)
        if doc is None:
            raise NotFound("Không tìm thấy đơn vị / unit not found")
        return doc
