"""Queued intake of web tips: accepted here, stored by the tips service.

The gateway validates a tip with the tips service's own rules (contracts.tips.PublicTip,
then contracts/tip_intake.prepare_intake, pure code shared with the tips service), draws its code and secret, and
publishes `{intake_id, received_at, tip_code, secret_hash, payload}` (never the secret) to
the durable queue contracts.tips.INTAKE_QUEUE: persistent, with publisher confirms and
`mandatory`, so RabbitMQ either confirms it is on the queue, returns it (no queue bound),
or says nothing within INTAKE_CONFIRM_SECONDS. Only a confirmed, routed message gets 202:
the tip is then durably queued. Anything else is ServiceUnavailable (503 + Retry-After)
and nothing is acknowledged. The tips service stores it once per intake_id, so sending a
message twice is harmless: a publish that failed on a connection that had worked is tried
once more on a new one (a broker restart leaves every idle connection dead).

Each gunicorn worker thread has its own connection and producer (a channel in confirm mode
must not be shared), made on first use after fork. A connection whose publish failed is
closed, never reused: a late confirm or return would be read as the next message's.

The answer cannot carry the urgency: triage (services/tips/triage/) costs about 2.5 ms of
CPU a tip, seven times everything else this request computes (about 0.4 ms), so it runs in
the tips service when the tip is stored. Every web receipt therefore opens with the emergency advice
(call 113 now if it is happening), whatever the tip says (intake_rules.citizen_ack with no urgency).
"""
import logging
import os
import threading
import uuid

import amqp.exceptions
from kombu import Connection

from contracts.tips import INTAKE_QUEUE
from gateway.rpc import BROKEN, ServiceUnavailable
from service_runtime import logs
from service_runtime.queues import declared
from service_runtime.storage import utcnow
from contracts import tip_intake as intake_rules

logger = logging.getLogger(__name__)

CONNECT_SECONDS = 2


class Unroutable(Exception):
    """RabbitMQ returned the message: no queue is bound for it."""


class IntakePublisher:
    def __init__(self, amqp_uri, confirm_seconds=5.0, queue=INTAKE_QUEUE, settings=None):
        self.amqp_uri = amqp_uri
        self.confirm_seconds = confirm_seconds
        self.queue = declared(queue, settings)  # with the arguments tips declares it with
        self._local = threading.local()
        self._pid = os.getpid()

    def _producer(self):
        local = self._local
        if self._pid != os.getpid():  # forked: this process's threads start afresh
            self._local = local = threading.local()
            self._pid = os.getpid()
        if getattr(local, "producer", None) is None:
            conn = Connection(self.amqp_uri, connect_timeout=CONNECT_SECONDS,
                              transport_options={"confirm_publish": True})
            try:
                producer = conn.Producer(on_return=self._returned)
                self.queue(producer.channel).declare()  # idempotent; binds the queue before any publish
            except BaseException:
                conn.release()
                raise
            local.conn, local.producer, local.returned, local.worked = conn, producer, False, False
        return local.producer

    def _returned(self, exc, exchange, routing_key, message):
        self._local.returned = True

    def _drop(self):
        conn = getattr(self._local, "conn", None)
        self._local.conn = self._local.producer = None
        if conn is not None:
            try:
                conn.release()
            except Exception:
                pass

    def publish(self, message, intake_id):
        """Durably queue `message`, or raise ServiceUnavailable."""
        for attempt in (1, 2):
            try:
                producer = self._producer()
                self._local.returned = False
                producer.publish(message, exchange=self.queue.exchange, routing_key=self.queue.routing_key,
                                 delivery_mode=2, mandatory=True, serializer="json", message_id=intake_id,
                                 headers={"nameko.correlation_id": logs.current_correlation_id()},
                                 timeout=self.confirm_seconds, confirm_timeout=self.confirm_seconds)
                if self._local.returned:
                    raise Unroutable(self.queue.name)
                self._local.worked = True
                return
            except (*BROKEN, Unroutable, amqp.exceptions.MessageNacked) as exc:
                stale = getattr(self._local, "worked", False)
                self._drop()
                logs.log(logger, logging.WARNING, "tip not queued", attempt=attempt, error=type(exc).__name__)
                # Only a connection that had worked is worth a second try; a confirm that did not
                # come in time is not waited for twice.
                if attempt == 2 or not stale or isinstance(exc, TimeoutError):
                    raise ServiceUnavailable(f"intake queue: {type(exc).__name__}")


def queue_tip(data, payload, publisher):
    """Check a web tip (`data`: PublicTip-loaded `payload`), queue it, return the receipt.

    Raises InvalidInput (422: nothing queued) or ServiceUnavailable (503: nothing queued).
    """
    now = utcnow()
    intake_rules.prepare_intake(dict(data, channel="web"), now)  # the service's own rules, before anything is queued
    tip_code, secret = intake_rules.new_tip_code(), intake_rules.new_secret()
    intake_id = uuid.uuid4().hex
    publisher.publish({"intake_id": intake_id, "received_at": now.isoformat(), "tip_code": tip_code,
                       "secret_hash": intake_rules.hash_secret(secret), "payload": payload}, intake_id)
    return intake_rules.receipt(tip_code, secret, None)  # not triaged yet
