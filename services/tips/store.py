"""Tips: MongoDB access (database `<prefix>tips`)."""
from service_runtime.storage import Store, utcnow


class TipsStore(Store):
    indexes = {}

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

    def get_unit(self, unit_id):
        return self.db.units.find_one({"_id": unit_id})
