"""Posts: input schemas. The payloads cross the service boundary, so they live in
contracts/posts.py (the gateway validates with the same ones); this module names them
for the service."""
from contracts.posts import (  # noqa: F401
    AudienceSpec, MediaRef, PostCreate, PostEdit, PostFilter, PublicPostFilter, Reject, Resolve, Retract, Schedule,
    Transition, WantedFields,
)
from contracts.rpc import PageQuery as Page  # noqa: F401
