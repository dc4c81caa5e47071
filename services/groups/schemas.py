"""Groups: input schemas. The payloads cross the service boundary, so they live in
contracts/groups.py (the gateway validates with the same ones); this module names them
for the service."""
from contracts.groups import (  # noqa: F401
    AudienceSpec, ChannelFilter, ChannelInput, ChannelPatch, OfficerInput, SubscriptionInput, UnitInput, UnitPatch,
)
from contracts.rpc import PageQuery as Page  # noqa: F401
