"""What every service class has: correlation ids, `health()`, idempotent event subscribers,
work-queue consumers."""
import functools
import logging
import time

from kombu import Queue
from nameko.amqp.publish import Publisher, get_producer
from nameko.events import SERVICE_POOL, EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer, QueueConsumer
from nameko.rpc import ReplyListener, Rpc, RpcConsumer
from nameko.rpc import RpcProxy as NamekoRpcProxy
from nameko.utils import sanitize_url
from pymongo.errors import ConnectionFailure

from contracts.events import InvalidEvent, producer_of, validate_event
from contracts.rpc import InvalidInput, ServiceError
from service_runtime import failpoints, logs
from service_runtime.config import broker_urls, container_settings
from service_runtime.metrics import Metrics
from service_runtime.queues import dead_letter_exchange, declared, queue_type

logger = logging.getLogger(__name__)

# A refused request (bad input, not found, conflict) is the caller's business: logged at
# warning level without a traceback, returned to the caller as itself.
def rpc(fn=None, **kwargs):
    kwargs.setdefault("expected_exceptions", ServiceError)
    return ReplyTolerantRpc.decorator(**kwargs)(fn) if fn else ReplyTolerantRpc.decorator(**kwargs)


class ServiceQueueConsumer(QueueConsumer):
    """nameko's queue consumer (one connection per service process, shared by its RPC, event and
    reply queues), made for a broker that can lose a node:
    - settling a message on a connection that just died (reset by a node going down) is not an
      error that kills the service: the broker has taken the message back already;
    - AMQP_URI may list several nodes: the log names them all, with every password hidden
      (nameko hides only the first)."""

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except OSError:
            pass

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except OSError:
            pass

    def on_connection_error(self, exc, interval):
        logs.log(logger, logging.WARNING, "broker unreachable; retrying", error=f"{type(exc).__name__}: {exc}",
                 retry_in_s=interval, brokers=";".join(map(sanitize_url, broker_urls(self.amqp_uri))))


class ReplyQueueListener(ReplyListener):
    """Where the answers to a service's own RPC calls arrive: a queue of this process's, made
    non-durable, so that when the node holding it goes down the cluster drops it and the
    process declares it again on the node it reconnects to (a durable one could not be
    declared again until that node came back, and the service would receive nothing)."""
    queue_consumer = ServiceQueueConsumer()

    def setup(self):
        super().setup()
        self.queue = Queue(**dict(self.queue.as_dict(), durable=False))


class RpcProxy(NamekoRpcProxy):
    """nameko's RpcProxy (a dependency calling another service), with the reply queue above."""
    rpc_reply_listener = ReplyQueueListener()


class RequestQueueConsumer(RpcConsumer):
    """nameko's consumer of a service's RPC request queue (`rpc-<service>`), declared with the
    project's queue arguments (a quorum queue under RABBITMQ_QUEUE_TYPE=quorum)."""
    queue_consumer = ServiceQueueConsumer()

    def setup(self):
        super().setup()
        self.queue = declared(self.queue, container_settings(self.container))


class ReplyTolerantRpc(Rpc):
    """nameko's RPC entrypoint, except that a reply that cannot be sent (the broker went away
    while the worker ran) does not kill the whole service, as stock nameko does: the request
    stays unacknowledged, so the broker hands it out again once it is back, and the caller,
    whose reply queue went with the connection, has already had its error (a 503)."""

    metric_kind = "rpc"
    rpc_consumer = RequestQueueConsumer()

    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except Exception as exc:
            logs.log(logger, logging.WARNING, "RPC reply not sent: the broker connection is gone",
                     method=self.method_name, error=type(exc).__name__)
            return result, exc_info

# A handler that keeps failing is retried this many times, then dead-lettered.
HANDLER_ATTEMPTS = 3


class EventBusy(Exception):
    """Another worker holds this event right now; it comes back later."""


class CorrelationContext(DependencyProvider):
    """Puts the caller's correlation id into this worker's log lines (and its events)."""

    def get_dependency(self, worker_ctx):
        # nameko injects dependencies before worker_setup runs, so the id is settled here.
        cid = worker_ctx.data.get("correlation_id")
        if cid is None and worker_ctx.args and isinstance(worker_ctx.args[0], dict):
            cid = worker_ctx.args[0].get("correlation_id")  # an event envelope
        cid = cid or logs.new_correlation_id()
        worker_ctx.data["correlation_id"] = cid  # propagates to RPC calls it makes
        return cid

    def worker_setup(self, worker_ctx):
        logs.set_correlation_id(worker_ctx.data.get("correlation_id"))

    def worker_teardown(self, worker_ctx):
        logs.set_correlation_id(None)


class ServiceBase:
    """Mixed into every service class. Subclasses set `name` and `store`."""

    correlation_id = CorrelationContext()
    metrics = Metrics()

    @rpc
    def health(self):
        return self.store.health_report()


def dead_letter(amqp_uri, body, reason, consumer):
    """Park a message nobody may act on where operators can see it (never drop it)."""
    Publisher(amqp_uri, use_confirms=True, serializer="json").publish(
        body,
        exchange=dead_letter_exchange(),
        routing_key="",
        headers={"x-reason": reason[:1000], "x-consumer": consumer},
    )


class Settled:
    """How a consumed message ends (mixed into a nameko entrypoint): acked once handled;
    after a failure requeued with a back-off, and dead-lettered when `unfixable` says no
    retry can help or after HANDLER_ATTEMPTS failures; never dropped. `retry_later`
    failures ("not now": another worker holds it, storage is down) are retried without limit.
    Every message comes from the entrypoint's `queue`, declared with the project's arguments.
    """
    key_field = "id"    # the payload field that names a message across its deliveries
    unfixable = ()
    retry_later = ()

    @property
    def consumer(self):
        return f"{self.container.service_name}.{self.method_name}"

    def handle_message_processed(self, message, result=None, exc_info=None):
        key = message.payload.get(self.key_field) if isinstance(message.payload, dict) else None
        if exc_info is None:
            self._failures.pop(key, None)
            self.queue_consumer.ack_message(message)
            return
        if issubclass(exc_info[0], self.retry_later):
            time.sleep(0.5)
            self._put_back(message)
            return
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        if failures >= HANDLER_ATTEMPTS or issubclass(exc_info[0], self.unfixable):
            self._failures.pop(key, None)
            logs.log(logger, logging.ERROR, "message dead-lettered", consumer=self.consumer,
                     error=exc_info[0].__name__, attempts=failures)
            self._dead_letter(message.payload, message, f"handler: {exc_info[0].__name__}: {exc_info[1]}")
        else:
            time.sleep(0.2 * 2 ** failures)  # back off before the broker hands it back
            self.queue_consumer.requeue_message(message)

    def setup(self):
        super().setup()
        self.queue = declared(self.queue, container_settings(self.container))

    def _put_back(self, message):
        """Return a message that must wait ("not now") to its queue. A quorum queue counts
        every return against its delivery limit, and a wait (for MongoDB, for a vault key) may
        last longer than any limit: there it goes back as a copy at the queue's tail, then this
        delivery is acked (a crash in between leaves two copies, which handlers absorb)."""
        if queue_type(container_settings(self.container)) == "classic":
            self.queue_consumer.requeue_message(message)
            return
        try:
            with get_producer(self.container.config["AMQP_URI"], confirms=True) as producer:
                producer.publish(message.body, exchange="", routing_key=self.queue.name, delivery_mode=2,
                                 content_type=message.content_type, content_encoding=message.content_encoding,
                                 headers={k: v for k, v in message.headers.items() if k != "x-delivery-count"},
                                 message_id=message.properties.get("message_id"),
                                 correlation_id=message.properties.get("correlation_id"), retry=False)
        except Exception:
            logger.exception("could not put the message back as a copy; requeued")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def _dead_letter(self, body, message, reason):
        try:
            dead_letter(self.container.config["AMQP_URI"], body, reason, self.consumer)
        except Exception:
            # Could not park it: leave it on its queue rather than lose it.
            logger.exception("dead-lettering failed; message requeued")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


class EventSubscriber(Settled, EventHandler):
    """A SERVICE_POOL (durable, shared) handler that validates and dead-letters.

    An event whose envelope or data fails its schema is logged and dead-lettered; a
    handler that raises is retried, then dead-lettered. The handler receives the
    validated envelope.
    """
    retry_later = (EventBusy,)
    queue_consumer = ServiceQueueConsumer()

    def __init__(self, event_type, **kwargs):
        super().__init__(producer_of(event_type), event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, **kwargs)
        self._failures = {}

    def handle_message(self, body, message):
        try:
            event = validate_event(body)
        except InvalidEvent as exc:
            logs.log(logger, logging.ERROR, "event rejected by its schema; dead-lettered",
                     consumer=self.consumer, event_type=getattr(exc, "event_type", None),
                     errors=str(exc.errors)[:500])
            self._dead_letter(body, message, f"schema: {exc.errors}")
            return
        super().handle_message(event, message)


class WorkQueueConsumer(ServiceQueueConsumer):
    """The queue consumer of work queues: a connection of its own whose prefetch
    (WORK_QUEUE_CONCURRENCY, default 8) bounds the messages handled at once, so a backlog
    never takes every worker from RPC and events."""

    @property
    def prefetch_count(self):
        wanted = container_settings(self.container).WORK_QUEUE_CONCURRENCY
        return max(1, min(wanted, self.container.max_workers))

    def start(self):
        # Take no work before the container's own queue consumer is ready: until then its RPC
        # reply queues are not bound, and a worker's RPC would wait for a reply RabbitMQ dropped.
        ready = self.container.shared_extensions.get(ServiceQueueConsumer)
        if ready is not None:
            try:
                ready._consumers_ready.wait()
            except Exception:
                pass  # it failed or was stopped while starting: it says so itself
        super().start()


class WorkConsumer(Settled, Consumer):
    """Consumes a durable work queue: the handler gets the message body; invalid input
    (InvalidInput: the message can never be handled) is dead-lettered at once, an
    unreachable MongoDB is waited out, anything else is retried, then dead-lettered."""
    queue_consumer = WorkQueueConsumer()
    unfixable = (InvalidInput,)
    retry_later = (ConnectionFailure,)

    def __init__(self, queue, key_field, retry_later=(), **kwargs):
        super().__init__(queue, **kwargs)
        self.key_field = key_field
        self.retry_later = (*WorkConsumer.retry_later, *retry_later)
        self._failures = {}

    def handle_message(self, body, message):
        failpoints.hit("work_queue.received")
        super().handle_message(body, message)


def work_consumer(queue, key_field, retry_later=()):
    """Decorate `handler(self, body)` to consume `queue` (a kombu Queue, declared on start).

    Delivery is at-least-once: the handler must make a repeated message harmless (keyed by
    the body's `key_field`), since the process may die after its commit and before the ack.
    """
    return WorkConsumer.decorator(queue, key_field, retry_later=retry_later)


def event_subscriber(event_type):
    """Decorate `handler(self, event)`: validated, handled once per event id, never dropped.

    The handler's own writes should be idempotent too (upserts keyed by the event): if
    the process dies after the handler but before it is marked done, it runs again.
    """
    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, event):
            state = self.store.claim_event(fn.__name__, event["id"])
            if state == "done":
                logs.log(logger, logging.INFO, "duplicate event ignored",
                         event_id=event["id"], event_type=event["type"])
                return None
            if state == "busy":
                raise EventBusy(event["id"])
            try:
                result = fn(self, event)
            except Exception:
                self.store.release_event(fn.__name__, event["id"])
                raise
            self.store.finish_event(fn.__name__, event["id"])
            return result

        return EventSubscriber.decorator(event_type)(handler)

    return decorate
