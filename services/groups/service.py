"""Groups service: the directory of units, officers and channels (nameko entrypoints)."""
from contracts.rpc import InvalidInput, NotFound
from service_runtime.entrypoints import ServiceBase, rpc
from service_runtime.storage import StoreProvider
from service_runtime.validation import load
from services.groups import domain, schemas
from services.groups.store import GroupsStore


def unit_view(doc):
    return {"id": doc["_id"], "name": doc["name"], "kind": doc["kind"], "parent_id": doc.get("parent_id"),
            "ward": doc.get("ward"), "handles": doc.get("handles", []), "active": doc.get("active", True)}


class GroupsService(ServiceBase):
    name = "groups"
    store = StoreProvider(GroupsStore)

    @rpc
    def create_unit(self, payload):
        unit = load(schemas.UnitInput(), payload)
        if unit["parent_id"] and self.store.get_unit(unit["parent_id"]) is None:
            raise InvalidInput("Đơn vị cấp trên không tồn tại / unknown parent unit",
                               {"parent_id": ["unknown unit"]})
        return unit_view(self.store.create_unit(unit))

    @rpc
    def get_unit(self, unit_id):
        doc = self.store.get_unit(unit_id)
        if doc is None:
            raise NotFound("Không tìm thấy đơn vị / unit not found")
        return unit_view(doc)

    @rpc
    def create_officer(self, payload):
        officer = load(schemas.OfficerInput(), payload)
        if officer["unit_id"] and self.store.get_unit(officer["unit_id"]) is None:
            raise InvalidInput("Đơn vị không tồn tại / unknown unit", {"unit_id": ["unknown unit"]})
        return domain.public_officer(self.store.create_officer(officer))

    @rpc
    def authenticate(self, username, password):
        """The officer for these credentials, or None. Password hashes never leave here."""
        doc = self.store.find_officer(username) if isinstance(username, str) else None
        ok = domain.verify_password(doc["password_hash"] if doc else None, str(password))
        return domain.public_officer(doc) if ok and doc else None
