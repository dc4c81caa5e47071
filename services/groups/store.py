"""Groups: MongoDB access (database `<prefix>groups`)."""
import logging

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from contracts.rpc import Conflict
from service_runtime.config import env, secret
from service_runtime.storage import Store, utcnow
from services.groups import domain

logger = logging.getLogger(__name__)


class GroupsStore(Store):
    indexes = {
        "units": [IndexModel([("parent_id", ASCENDING)])],
        "officers": [IndexModel([("username", ASCENDING)], unique=True)],
    }

    def bootstrap(self):
        """Create the first admin from BINHYEN_ADMIN_USERNAME/PASSWORD if it does not exist."""
        username = env("BINHYEN_ADMIN_USERNAME")
        password = secret("BINHYEN_ADMIN_PASSWORD")
        if not (username and password):
            return
        if self.db.officers.find_one({"username": username}) is None:
            try:
                self.create_officer({"username": username, "password": password,
                                     "full_name": "Quản trị hệ thống", "roles": ["admin"], "unit_id": None})
                logger.info("bootstrap admin account created")
            except Conflict:
                pass  # another instance created it first

    # --- units ---------------------------------------------------------------------------
    def create_unit(self, unit):
        doc = {"_id": unit["id"], "name": unit["name"], "kind": unit["kind"],
               "parent_id": unit.get("parent_id"), "ward": unit.get("ward"),
               "handles": unit.get("handles", []), "active": True, "created_at": utcnow()}

        def write(session):
            self.db.units.insert_one(doc, session=session)
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
