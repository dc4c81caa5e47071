"""The outbox relay: publishes committed events to RabbitMQ, with publisher confirms.

Order of work per event: publish (confirmed by the broker) -> mark sent. A relay that
dies between the two publishes the event again after restart; consumers absorb the
repeat by event id (at-least-once delivery, exactly-once effect).

Several instances of a service may run: a lease in MongoDB lets one relay publish at a
time, so events keep their order and are not sent twice in the normal case; when the
holder dies its lease expires and another takes over.
"""
import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError, PyMongoError

from contracts.events import exchange_name
from contracts.topology import consumer_queues
from service_runtime import failpoints
from service_runtime.queues import DEAD_LETTER_QUEUE, dead_letter_queue, declared  # noqa: F401 (DEAD_LETTER_QUEUE: for readers of it)

logger = logging.getLogger(__name__)

LEASE_SECONDS = 10
BATCH = 200


def events_exchange(producer):
    # Same declaration as nameko's get_event_exchange, so both sides agree.
    return Exchange(exchange_name(producer), type="topic", durable=True, delivery_mode=2)


def declare_topology(amqp_uri, producer, settings=None):
    """Declare the producer's exchange and every consumer queue bound to it."""
    exchange = events_exchange(producer)
    with Connection(amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        exchange(channel).declare()
        for queue, _exchange, routing_key in consumer_queues(producer):
            declared(Queue(queue, exchange=exchange, routing_key=routing_key, durable=True),
                     settings)(channel).declare()
        dead_letter_queue(settings)(channel).declare()  # declares its exchange too


class OutboxRelay:
    def __init__(self, store, config, now):
        self._now = now  # the store's clock (storage.utcnow)
        self.store = store
        self.amqp_uri = config["AMQP_URI"]
        self.poll_seconds = store.settings.OUTBOX_POLL_SECONDS
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.publisher = Publisher(self.amqp_uri, use_confirms=True, serializer="json", retry=False)
        self.exchange = events_exchange(store.service_name)
        self._stopping = False
        self._wake = None
        self._declared = False
        self._last_error = None
        self._last_ok = None

    # --- control ----------------------------------------------------------------------
    def wake(self):
        if self._wake is not None and not self._wake.ready():
            self._wake.send(True)

    def stop(self):
        self._stopping = True
        self.wake()

    def broker_state(self):
        if self._last_error and (self._last_ok is None or self._last_error[0] > self._last_ok):
            return {"ok": False, "error": self._last_error[1]}
        return {"ok": True}

    # --- loop -------------------------------------------------------------------------
    def run(self):
        from eventlet.event import Event
        backoff = self.poll_seconds
        while not self._stopping:
            self._wake = Event()
            published = 0
            try:
                if self.hold_lease():
                    if not self._declared:
                        declare_topology(self.amqp_uri, self.store.service_name, self.store.settings)
                        self._declared = True
                    published = self.publish_pending()
                self._last_ok = time.monotonic()
                backoff = self.poll_seconds
            except PyMongoError as exc:
                self._note_error("mongodb", exc)
                backoff = min(backoff * 2, 10)
            except Exception as exc:  # broker down, channel closed, ...
                self._note_error("broker", exc)
                self._declared = False
                backoff = min(backoff * 2, 10)
            if published >= BATCH:
                continue  # more waiting: keep going without sleeping
            self._wake.wait(timeout=backoff)  # a commit wakes us early
        self.release_lease()

    def _note_error(self, what, exc):
        self._last_error = (time.monotonic(), f"{what}: {type(exc).__name__}")
        logger.warning("outbox relay: %s unavailable (%s); retrying", what, type(exc).__name__)

    # --- lease ------------------------------------------------------------------------
    def hold_lease(self):
        now = self._now()
        try:
            self.store.db.outbox_lease.update_one(
                {"_id": "relay", "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + timedelta(seconds=LEASE_SECONDS)}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # another live relay holds it
        return True

    def release_lease(self):
        try:
            self.store.db.outbox_lease.delete_one({"_id": "relay", "owner": self.owner})
        except PyMongoError:
            pass

    # --- publishing ---------------------------------------------------------------------
    def publish_pending(self):
        entries = list(
            self.store.db.outbox.find({"sent_at": None}, sort=[("_id", ASCENDING)], limit=BATCH)
        )
        sent_ids = []
        try:
            for entry in entries:
                envelope = entry["envelope"]
                self.publisher.publish(
                    envelope,
                    exchange=self.exchange,
                    routing_key=envelope["type"],
                    message_id=envelope["id"],
                    headers={"nameko.correlation_id": envelope.get("correlation_id")},
                )
                sent_ids.append(entry["_id"])
                failpoints.hit("relay.after_publish")
        finally:
            if sent_ids:
                self.store.db.outbox.update_many(
                    {"_id": {"$in": sent_ids}}, {"$set": {"sent_at": self._now()}}
                )
        return len(entries)
