"""Who consumes which event: the queues that must exist before anything publishes.

RabbitMQ drops an event published to an exchange with no bound queue, silently. So the
outbox relay declares, before its first publish, every consumer queue named here; a
consumer that starts later finds its queue already holding what it missed. A test
checks this table against the services' `@event_subscriber` handlers.
"""
from contracts.events import exchange_name, producer_of

# (consumer service, handler method, event type)
CONSUMERS = [
    ("tips", "on_unit_created", "groups.unit_created"),
    ("tips", "on_post_published", "posts.published"),
    ("tips", "on_post_retracted", "posts.retracted"),
    ("tips", "on_wanted_resolved", "posts.wanted_resolved"),
    ("posts", "on_publication_progress", "notify.publication_progress"),
    ("notify", "on_post_published", "posts.published"),
    ("notify", "on_post_retracted", "posts.retracted"),
    ("notify", "on_wanted_resolved", "posts.wanted_resolved"),
    ("notify", "on_tip_assigned", "tips.assigned"),
    ("notify", "on_tip_escalated", "tips.escalated"),
    ("notify", "on_tip_triaged", "tips.triaged"),
    ("notify", "on_tip_status_changed", "tips.status_changed"),
    ("notify", "on_tip_reply_sent", "tips.reply_sent"),
]


def queue_name(event_type, consumer_service, method_name):
    """nameko's SERVICE_POOL queue name for an event handler."""
    return f"evt-{producer_of(event_type)}-{event_type}--{consumer_service}.{method_name}"


def consumer_queues(producer):
    """(queue name, exchange name, routing key) for every consumer of a producer's events."""
    return [
        (queue_name(event_type, service, method), exchange_name(producer), event_type)
        for service, method, event_type in CONSUMERS
        if producer_of(event_type) == producer
    ]
