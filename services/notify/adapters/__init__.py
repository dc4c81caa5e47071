"""Channel adapters, one per channel type, all with the interface of `base.ChannelAdapter`."""
from services.notify.adapters import (email, facebook_messenger, facebook_page, manual_relay, webhook, youtube_channel,
                                      zalo_oa_group, zalo_oa_user)
from services.notify.adapters.base import DeliveryError, NoRetractApi, SendResult, use_settings  # noqa: F401

ADAPTERS = {
    "facebook_page": facebook_page.adapter,
    "zalo_oa_group": zalo_oa_group.adapter,
    "youtube_channel": youtube_channel.adapter,
    "webhook": webhook.adapter,
    "email": email.adapter,
    "zalo_group_manual": manual_relay.adapter,
    "manual_relay": manual_relay.adapter,   # any channel whose delivery is manual_relay
    # replies to a tipster on the platform they wrote from (not registry channels)
    "zalo_oa_user": zalo_oa_user.adapter,
    "facebook_messenger": facebook_messenger.adapter,
}


def adapter_for(channel_type):
    """The adapter of a channel type (KeyError for an unknown type)."""
    return ADAPTERS[channel_type]


def adapter_for_channel(channel):
    """The adapter of a registry channel: its delivery mode first, then its type."""
    if channel.get("delivery") == "manual_relay":
        return ADAPTERS["manual_relay"]
    return ADAPTERS[channel["type"]]
