"""Posts service (nameko entrypoints)."""
from service_runtime.entrypoints import ServiceBase
from service_runtime.storage import StoreProvider
from services.posts.store import PostsStore


class PostsService(ServiceBase):
    name = "posts"
    store = StoreProvider(PostsStore)
