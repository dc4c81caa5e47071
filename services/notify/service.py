"""Notify service (nameko entrypoints)."""
from service_runtime.entrypoints import ServiceBase
from service_runtime.storage import StoreProvider
from services.notify.store import NotifyStore


class NotifyService(ServiceBase):
    name = "notify"
    store = StoreProvider(NotifyStore)
