"""The durable queues the project declares, with the same arguments wherever each is declared.

RabbitMQ refuses to declare an existing queue again with other arguments (406
PRECONDITION_FAILED, which closes the channel), and a queue is declared in several places:
the event consumer queues by their subscribers and by the outbox relay before its first
publish, the tips intake queue by the gateway and by tips, the dead-letter queue. So every
declaration takes its arguments from `declared` here, given the caller's settings (read
from the environment when a caller has none: a test, a tool).

RABBITMQ_QUEUE_TYPE=classic (the default, for one node) declares them without arguments.
`quorum` makes each a quorum queue, replicated on the nodes of a cluster (RabbitMQ 4 has no
mirrored classic queues: in a cluster only these keep messages when a node is lost), with a
delivery limit: a message handed out RABBITMQ_DELIVERY_LIMIT more times without being
settled (its consumer died or lost its connection each time) is moved to the dead-letter
queue, where operators see it, instead of killing consumers for ever. Moved at least once:
it leaves its queue only once the dead-letter queue holds it. The dead-letter queue itself
has no limit (nothing to move its messages to). RPC reply queues are per process and
short-lived: they stay classic.
"""
from kombu import Exchange, Queue

from service_runtime.config import load_settings

DEAD_LETTER_EXCHANGE = "binhyen.dead-letter"
DEAD_LETTER_QUEUE = "binhyen.dead-letter"


def _broker(settings):
    return settings if settings is not None else load_settings("services")


def queue_type(settings=None):
    """RABBITMQ_QUEUE_TYPE: classic or quorum."""
    return _broker(settings).RABBITMQ_QUEUE_TYPE


def queue_arguments(name, settings=None):
    """The x-arguments of the durable queue `name` (None: a classic queue, no arguments)."""
    settings = _broker(settings)
    if queue_type(settings) == "classic":
        return None
    arguments = {"x-queue-type": "quorum"}
    if name != DEAD_LETTER_QUEUE:
        arguments.update({"x-delivery-limit": settings.RABBITMQ_DELIVERY_LIMIT,
                          "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                          "x-dead-letter-strategy": "at-least-once",
                          "x-overflow": "reject-publish"})  # what at-least-once dead-lettering requires
    return arguments


def declared(queue, settings=None):
    """`queue` (a durable kombu Queue) as the project declares it on this broker."""
    arguments = queue_arguments(queue.name, settings)
    if arguments is None:
        return queue
    return Queue(**dict(queue.as_dict(), queue_arguments=arguments))


def dead_letter_exchange():
    return Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True)


def dead_letter_queue(settings=None):
    return declared(Queue(DEAD_LETTER_QUEUE, exchange=dead_letter_exchange(), durable=True), settings)
