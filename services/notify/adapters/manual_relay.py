"""Ordinary Zalo groups that no API can post to: the officer who runs the group posts by hand.

`send` reports that a relay task is needed (the notify service persists the RelayTask and
its officer confirms it with the permalink); `retract` raises NoRetractApi so a manual
take-down task is made the same way.
"""
from services.notify.adapters.base import ChannelAdapter, NoRetractApi, SendResult


class ManualRelay(ChannelAdapter):
    channel_type = "zalo_group_manual"

    def send(self, channel, message):
        return SendResult(external_id=None, relay_required=True,
                          raw={"group": channel.get("external_id"),
                               "relay_officer_id": channel.get("relay_officer_id"),
                               "text": message.get("text") or "", "link": message.get("link")})

    def retract(self, channel, external_id):
        raise NoRetractApi(self.channel_type)


adapter = ManualRelay()
