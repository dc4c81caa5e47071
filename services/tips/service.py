"""Tips service (nameko entrypoints)."""
from service_runtime.entrypoints import ServiceBase, event_subscriber, rpc
from service_runtime.storage import StoreProvider
from services.tips.store import TipsStore


class TipsService(ServiceBase):
    name = "tips"
    store = StoreProvider(TipsStore)

    @event_subscriber("groups.unit_created")
    def on_unit_created(self, event):
        self.store.apply_unit_created(event)

    @rpc
    def get_unit_projection(self, unit_id):
        doc = self.store.get_unit(unit_id)
        return None if doc is None else {"id": doc["_id"], "name": doc["name"], "version": doc["version"]}
