"""MongoDB storage for a service: one database per service, indexes made at start-up.

A service's `store.py` subclasses `Store`, names its indexes, and writes state changes
together with their events through `atomic()` + `emit()`, so a state change and the
event announcing it are committed in one transaction (the outbox).
"""
import logging
import time
from datetime import timedelta

import pymongo
from nameko.extensions import DependencyProvider
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, PyMongoError

from contracts.events import make_event
from contracts.settings import PROCESSES
from contracts.times import utcnow  # noqa: F401  (services take the clock from here)
from service_runtime import failpoints, logs
from service_runtime.config import container_settings, load_settings
from service_runtime.outbox import OutboxRelay

logger = logging.getLogger(__name__)

# How long a claim on an event by one consumer worker blocks another from taking it.
EVENT_CLAIM_SECONDS = 60


def mongo_client(uri, **kwargs):
    """A client that fails fast (seconds, not the driver's 30 s) when MongoDB is down."""
    kwargs.setdefault("serverSelectionTimeoutMS", 5000)
    kwargs.setdefault("connectTimeoutMS", 3000)
    kwargs.setdefault("tz_aware", True)
    return pymongo.MongoClient(uri, **kwargs)


class Store:
    """Base of every service's MongoDB access. Subclasses set `indexes`."""

    # collection name -> [IndexModel, ...]
    indexes = {}

    # Runtime collections every service has.
    runtime_indexes = {
        "outbox": [
            IndexModel([("event_id", ASCENDING)], unique=True),
            IndexModel([("sent_at", ASCENDING), ("_id", ASCENDING)]),
        ],
        "processed_events": [],  # _id is "<handler>:<event id>", unique by definition
    }

    def __init__(self, service_name, client, db, config, settings=None):
        self.service_name = service_name
        self.client = client
        self.db = db
        self.config = config
        # The service's settings (contracts.settings), read at start-up; a store made by hand
        # (a test, a benchmark) reads them from `config` and the environment.
        self.settings = settings if settings is not None else load_settings(
            service_name if service_name in PROCESSES else "services", config)
        self.relay = None  # set by StoreProvider; woken after each commit

    # --- start-up -----------------------------------------------------------------
    def ensure_indexes(self):
        for collection, models in {**self.runtime_indexes, **self.indexes}.items():
            if models:
                self.db[collection].create_indexes(models)

    def bootstrap(self):
        """Hook run once at start-up after the indexes exist (seed, admin account...)."""

    # --- atomic writes with events ---------------------------------------------------
    def atomic(self, fn):
        """Run fn(session) in a transaction (retried on transient errors) and return its result.

        Events added with `emit(session, ...)` inside fn are committed with the state
        change or not at all; the relay is woken once the transaction has committed.
        """
        def run(session):
            result = fn(session)
            failpoints.hit("store.before_commit")
            return result

        with self.client.start_session() as session:
            result = session.with_transaction(run)
        if self.relay is not None:
            self.relay.wake()
        return result

    def emit(self, session, event_type, data):
        """Add an event to the outbox inside the caller's transaction; returns the envelope.

        The data is validated against contracts first: an invalid event raises before
        anything is written or sent.
        """
        envelope = make_event(
            event_type, data, producer=self.service_name,
            correlation_id=logs.current_correlation_id(),
        )
        self.db.outbox.insert_one(
            {"event_id": envelope["id"], "envelope": envelope, "created_at": utcnow(), "sent_at": None},
            session=session,
        )
        return envelope

    # --- idempotent consumption ---------------------------------------------------------
    def claim_event(self, handler, event_id):
        """Claim an event for one handler: 'new', 'done' (already handled) or 'busy'."""
        key = f"{handler}:{event_id}"
        now = utcnow()
        try:
            self.db.processed_events.insert_one({"_id": key, "state": "processing", "claimed_at": now})
            return "new"
        except DuplicateKeyError:
            pass
        taken = self.db.processed_events.find_one_and_update(
            {"_id": key, "state": "processing", "claimed_at": {"$lt": now - timedelta(seconds=EVENT_CLAIM_SECONDS)}},
            {"$set": {"claimed_at": now}},
        )
        if taken is not None:
            return "new"  # the earlier claimant died mid-way; the handler is idempotent
        doc = self.db.processed_events.find_one_and_update(
            {"_id": key, "state": "done"}, {"$inc": {"duplicates": 1}}
        )  # counting repeats tells operators how often at-least-once delivery repeats
        return "done" if doc else "busy"

    def finish_event(self, handler, event_id):
        self.db.processed_events.update_one(
            {"_id": f"{handler}:{event_id}"}, {"$set": {"state": "done", "done_at": utcnow()}}
        )

    def release_event(self, handler, event_id):
        self.db.processed_events.delete_one({"_id": f"{handler}:{event_id}", "state": "processing"})

    # --- metrics (read at scrape time) -------------------------------------------------
    def metrics(self):
        """(name, help, labels, value) figures; services add their own to these."""
        pending = self.db.outbox.count_documents({"sent_at": None})
        oldest = self.db.outbox.find_one({"sent_at": None}, sort=[("_id", ASCENDING)])
        age = (utcnow() - oldest["created_at"]).total_seconds() if oldest else 0.0
        service = {"service": self.service_name}
        yield "binhyen_store_up", "1 when the service's MongoDB answers", service, 1
        yield "binhyen_outbox_backlog", "Events written but not yet published", service, pending
        yield "binhyen_outbox_oldest_age_seconds", "Age of the oldest unpublished event", service, age

    # --- health ----------------------------------------------------------------------
    def health_report(self):
        started = time.monotonic()
        try:
            self.db.command("ping")
            mongodb = {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}
            pending = self.db.outbox.count_documents({"sent_at": None})
            oldest = self.db.outbox.find_one({"sent_at": None}, sort=[("_id", ASCENDING)])
            age = (utcnow() - oldest["created_at"]).total_seconds() if oldest else 0.0
            outbox = {"pending": pending, "oldest_age_seconds": round(age, 1)}
        except PyMongoError as exc:
            mongodb = {"ok": False, "error": type(exc).__name__}
            outbox = {"pending": None, "oldest_age_seconds": None}
        broker = self.relay.broker_state() if self.relay else {"ok": True}
        ok = mongodb["ok"] and broker["ok"]
        return {
            "service": self.service_name,
            "status": "ok" if ok else "degraded",
            "mongodb": mongodb,
            "broker": broker,
            "outbox": outbox,
        }


class StoreProvider(DependencyProvider):
    """Gives a nameko service its Store; creates indexes and runs the outbox relay."""

    def __init__(self, store_cls):
        self.store_cls = store_cls
        self.store = None

    def setup(self):
        config = self.container.config
        service_name = self.container.service_name
        client = mongo_client(config["MONGODB_URI"])
        db = client[f"{config.get('MONGODB_DB_PREFIX', 'binhyen_')}{service_name}"]
        self.store = self.store_cls(service_name, client, db, config, container_settings(self.container))
        self.store.relay = OutboxRelay(self.store, config, utcnow)

    def start(self):
        self._wait_for_mongodb()
        self.store.ensure_indexes()
        self.store.bootstrap()
        self.container.spawn_managed_thread(self.store.relay.run, identifier="outbox_relay")

    def _wait_for_mongodb(self):
        # At start-up MongoDB may still be coming up (compose, make run): wait, don't die.
        deadline = time.monotonic() + float(self.container.config.get("MONGODB_START_TIMEOUT", 60))
        while True:
            try:
                self.store.db.command("ping")
                return
            except PyMongoError:
                if time.monotonic() > deadline:
                    raise
                logger.warning("waiting for MongoDB")
                time.sleep(1)

    def stop(self):
        if self.store and self.store.relay:
            self.store.relay.stop()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.store
