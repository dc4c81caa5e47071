"""Posts: MongoDB access (database `<prefix>posts`)."""
from service_runtime.storage import Store


class PostsStore(Store):
    indexes = {}
