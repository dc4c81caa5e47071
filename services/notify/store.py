"""Notify: MongoDB access (database `<prefix>notify`)."""
from service_runtime.storage import Store


class NotifyStore(Store):
    indexes = {}
