"""The delivery engine: claims due deliveries, sends them concurrently, records what happened.

Three parts in every notify process, sharing the queue in MongoDB with any other process:
  claimer   takes the batches a fan-out made of its first attempts (one conditional write per
            batch of DELIVERY_BATCH_SIZE deliveries: each batch goes to one process), then
            other due deliveries (retries, paced sends: one conditional update_many, each
            delivery to one process) while the send pool has room and the recorder keeps up;
  senders   one green thread per delivery (up to DELIVERY_CONCURRENCY in flight): pace by
            the channel account's token bucket, send through the adapter, settle the result;
  recorder  writes finished sends in batches (one bulk write each) and, at most once a
            second, tells posts where each publication it touched stands.
A claim is a lease, of a batch or of one delivery: a process that dies mid-send loses it after
DELIVERY_LEASE_SECONDS and another process sends again what was not recorded (at-least-once; a
webhook partner de-duplicates on webhook-id).
"""
import base64
import logging
import os
import socket
import time
import uuid
from collections import OrderedDict, deque
from datetime import timedelta

import eventlet
from eventlet.event import Event
from eventlet.queue import Empty, LightQueue
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Histogram
from pymongo.errors import PyMongoError

from service_runtime import logs
from service_runtime.config import container_settings
from service_runtime.storage import StoreProvider, utcnow
from services.notify import adapters, domain
from services.notify.adapters import DeliveryError, NoRetractApi, adapter_for, adapter_for_channel
from services.notify.domain import ErrorClass, TokenBucket, rate_bucket_key, rate_limit_for

logger = logging.getLogger(__name__)

RETRACT_TRIES = 3

# What this process did (Prometheus adds the instances up; a restart starts from zero, which
# rate() and increase() expect). What is waiting now is read from MongoDB (NotifyStore.metrics).
SEND_SECONDS = Histogram(
    "binhyen_delivery_send_seconds", "Time one send took on the platform, by channel type and outcome "
    "(ok, relay_required, retry, reauthorize, permanent)", ["channel_type", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
RETRIES = Counter("binhyen_delivery_retries", "Sends that failed for a passing reason and will be tried again",
                  ["channel_type"])
DEAD = Counter("binhyen_deliveries_dead", "Deliveries given up after their last attempt (an alert went to the "
               "publishing unit)", ["channel_type"])
COUNTED_AFTER_RECORD = {"retry_wait": RETRIES, "dead": DEAD}


class RpcClient:
    """A standalone RPC proxy for the engine's green threads (they are not nameko workers):
    one at a time, rebuilt after a failure. Used for the YouTube video and a tipster's address."""

    def __init__(self, config):
        self.config = config
        self.lock = Semaphore()
        self.holder = self.proxy = None

    def call(self, service, method, *args):
        from nameko.standalone.rpc import ClusterRpcProxy
        with self.lock:
            if self.proxy is None:
                self.holder = ClusterRpcProxy(self.config, timeout=30)
                self.proxy = self.holder.start()
            try:
                return getattr(getattr(self.proxy, service), method)(*args)
            except Exception as exc:
                if getattr(exc, "exc_type", None) is None and not hasattr(exc, "status"):
                    self.close()  # transport trouble: start afresh next time
                raise

    def close(self):
        if self.holder is not None:
            try:
                self.holder.stop()
            except Exception:
                pass
        self.holder = self.proxy = None


class DeliveryEngine(DependencyProvider):

    def setup(self):
        self.settings = container_settings(self.container)  # DELIVERY_*, RATE_*, ... (contracts.settings)
        adapters.use_settings(self.settings)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.pool = eventlet.GreenPool(self.settings["DELIVERY_CONCURRENCY"])
        self.outcomes = LightQueue()
        self.buckets = {}            # bucket key -> TokenBucket (this process's share of the pacing)
        self.paused = {}             # bucket key -> monotonic time a Retry-After lifts
        self.publications = OrderedDict()  # a few publications kept in memory while they fan out
        self.publication_read = Semaphore()  # one read of a publication, however many sends want it
        self.ready = deque()         # claimed deliveries waiting for a free send slot
        self.batches = {}            # batch id -> its deliveries this process has not recorded yet
        self.touched = {}            # publication id -> post id: progress to report
        self.rpc = RpcClient(self.container.config)
        self.store = None
        self.running = False
        self.recording = False
        self._wake = Event()
        self.stats = {"claimed": 0, "batches": 0, "sent": 0, "recorded": 0, "lost_claims": 0,
                      "claim_seconds": 0.0, "record_seconds": 0.0}

    def start(self):
        self.store = next(d.store for d in self.container.dependencies if isinstance(d, StoreProvider))
        self.running = True
        self.container.spawn_managed_thread(self._claim_loop, identifier="delivery_claimer")
        self.container.spawn_managed_thread(self._record_loop, identifier="delivery_recorder")

    def stop(self):
        """Finish what is in flight and record it, so a graceful stop sends nothing twice."""
        self.running = False
        self.wake()
        self.ready.clear()  # not started: their batches go back to the others below
        with eventlet.Timeout(self.settings["DELIVERY_LEASE_SECONDS"] / 2, False):
            self.pool.waitall()
            while not self.outcomes.empty() or self.recording:
                eventlet.sleep(0.05)
        try:
            self.store.release_batches(self.batches, self.owner)
        except Exception as exc:  # their lease runs out instead
            logs.log(logger, logging.WARNING, "releasing delivery batches failed", error=type(exc).__name__)
        self.rpc.close()

    def kill(self):
        self.running = False
        self.wake()

    def get_dependency(self, worker_ctx):
        return self

    # --- for the service's handlers ----------------------------------------------------------
    def wake(self):
        if not self._wake.ready():
            self._wake.send(True)

    def touch(self, publication_id, post_id):
        """A post's deliveries changed: report its progress with the next sweep."""
        if publication_id and post_id:
            self.touched[publication_id] = post_id

    def fan_out(self, publication, channels):
        """Create one delivery per channel, first attempts paced per channel account."""
        unique = list({channel["id"]: channel for channel in channels}.values())
        times = domain.plan_send_times(unique, utcnow(), lambda t: rate_limit_for(t, self.settings))
        lease = self.settings["DELIVERY_LEASE_SECONDS"]
        created = self.store.create_deliveries(publication, unique, times, self.settings["DELIVERY_BATCH_SIZE"],
                                               self.settings["DELIVERY_BATCH_WITHIN_SECONDS"],
                                               batch_lease_seconds=max(600.0, 10 * lease))
        self._remember(publication)
        self.wake()
        return created

    # --- claimer --------------------------------------------------------------------------------
    def _claim_loop(self):
        batch = self.settings["DELIVERY_CLAIM_BATCH"]
        concurrency = self.settings["DELIVERY_CONCURRENCY"]
        worth_a_claim = max(1, min(batch, concurrency // 4))  # each claim costs a query: not for one slot
        last_take_over = 0.0
        while self.running:
            try:
                free = self.pool.free()
                busy = concurrency - free
                if self.ready:  # a claimed batch first
                    for _ in range(min(free, len(self.ready))):
                        self.pool.spawn_n(self._deliver, self.ready.popleft())
                    if self.ready:
                        eventlet.sleep(0.01)
                    continue
                if free < worth_a_claim and busy or self.outcomes.qsize() > concurrency:
                    eventlet.sleep(0.01)  # the pool or the recorder is full: let it drain
                    continue
                started = time.monotonic()
                room = min(free, batch)
                docs = self._claim_batches(room)
                if len(docs) < room:
                    # Leases run for a minute: looking for lost ones a few times per lease is enough.
                    take_over = started - last_take_over > self.settings["DELIVERY_LEASE_SECONDS"] / 10
                    docs += self.store.claim_deliveries(self.owner, room - len(docs),
                                                        self.settings["DELIVERY_LEASE_SECONDS"], take_over)
                    last_take_over = started if take_over else last_take_over
                self.stats["claim_seconds"] += time.monotonic() - started
            except Exception as exc:
                logs.log(logger, logging.WARNING, "claiming deliveries failed; retrying", error=type(exc).__name__)
                eventlet.sleep(1)
                continue
            self.stats["claimed"] += len(docs)
            self.ready.extend(docs)
            for _ in range(min(self.pool.free(), len(self.ready))):
                self.pool.spawn_n(self._deliver, self.ready.popleft())
            if len(docs) < room and not self.ready:  # nothing more due now
                self._wake = Event()
                self._wake.wait(timeout=self.settings["DELIVERY_POLL_SECONDS"])

    def _claim_batches(self, room):
        """Deliveries of the fan-out batches this process takes (about `room` of them)."""
        size = self.settings["DELIVERY_BATCH_SIZE"]
        if not size:
            return []
        docs = []
        for batch_id, batch_docs in self.store.claim_batches(self.owner, -(-room // size),
                                                             self.settings["DELIVERY_LEASE_SECONDS"]):
            self.stats["batches"] += 1
            if batch_docs:
                self.batches[batch_id] = len(batch_docs)
                docs += batch_docs
            else:  # another process sent them all before it lost its lease
                self.store.finish_batch(batch_id, self.owner)
        return docs

    # --- senders ---------------------------------------------------------------------------------
    def _deliver(self, doc):
        try:
            result = self._send(doc)
        except Exception as exc:  # a bug here must not leave the delivery claimed until the lease ends
            logger.exception("delivery failed unexpectedly", extra={"fields": {"delivery_id": doc["_id"]}})
            result = domain.settle(self._attempts_made(doc), utcnow(),
                                   error=(ErrorClass.PERMANENT, f"Lỗi nội bộ / internal error: {type(exc).__name__}",
                                          None))
        self.outcomes.put((doc, result))

    def _attempts_made(self, doc):
        return doc.get("attempt_count", 0) - doc.get("attempts_before_retry", 0) + 1

    def _send(self, doc):
        if doc.get("retract_requested"):  # its post was retracted while its batch waited: back to the
            return {"deferred_until": utcnow()}  # queue, where the retraction sweep cancels it
        channel = doc["channel"]
        publication = self._publication(doc["publication_id"])
        if publication is None:
            return domain.settle(self._attempts_made(doc), utcnow(),
                                 error=(ErrorClass.PERMANENT, "Không còn nội dung để gửi / publication missing", None))
        bucket_key, wait = self._pace(channel, self.settings["DELIVERY_MAX_PACE_WAIT_SECONDS"])
        if wait is not None:
            return {"deferred_until": utcnow() + timedelta(seconds=wait)}
        message = domain.message_for(channel, publication)
        started = time.monotonic()
        external_id, relay_required, error = None, False, None
        try:
            if channel["type"] == "youtube_channel":
                message["video"] = self._video(publication)
            if publication["kind"] == "reply":
                channel = self._tipster_address(channel)
            adapter = adapter_for_channel(channel)
            sent = adapter.send(channel, message)
            external_id, relay_required = sent.external_id, sent.relay_required
        except DeliveryError as exc:
            error = exc
        except Exception as exc:
            error = adapter_for(channel["type"]).classify_error(exc)
        elapsed = time.monotonic() - started
        duration_ms = int(elapsed * 1000)
        SEND_SECONDS.labels(channel["type"], "relay_required" if relay_required else
                            error.error_class.value if error is not None else "ok").observe(elapsed)
        if error is not None and error.error_class == ErrorClass.RETRY and error.retry_after and bucket_key:
            # Honour Retry-After for the whole account, not just this delivery.
            self.paused[bucket_key] = max(self.paused.get(bucket_key, 0.0), time.monotonic() + error.retry_after)
        self.stats["sent"] += error is None
        result = domain.settle(
            self._attempts_made(doc), utcnow(), external_id=external_id, relay_required=relay_required,
            error=(error.error_class, error.message, error.retry_after) if error else None, duration_ms=duration_ms,
            max_attempts=self.settings["DELIVERY_MAX_ATTEMPTS"],
            backoff_base=self.settings["DELIVERY_BACKOFF_BASE_SECONDS"],
            backoff_cap=self.settings["DELIVERY_BACKOFF_CAP_SECONDS"])
        if relay_required:
            result["relay_message"] = {"text": message["text"], "title": message["title"]}
            result["relay_officers"] = publication.get("relay_officers")
        return result

    def _pace(self, channel, max_wait=None):
        """Take a token from the channel account's bucket, sleeping until it is due. Returns
        (bucket key or None, None), or (key, wait) without sleeping when the wait would be
        longer than `max_wait` (the token is given back)."""
        limit = rate_limit_for(channel["type"], self.settings)
        if limit is None:
            return None, None
        bucket_key = rate_bucket_key(channel)
        bucket = self.buckets.get(bucket_key)
        if bucket is None:
            bucket = self.buckets[bucket_key] = TokenBucket(limit.per_second, limit.burst)
        now = time.monotonic()
        wait = max(bucket.take(now), self.paused.get(bucket_key, 0.0) - now)
        if max_wait is not None and wait > max_wait:
            bucket.refund()
            return bucket_key, wait
        if wait > 0:
            eventlet.sleep(wait)
        return bucket_key, None

    def _publication(self, publication_id):
        publication = self.publications.get(publication_id)
        if publication is None:
            with self.publication_read:  # a claim starts a hundred sends of it at once: one read
                publication = self.publications.get(publication_id)
                if publication is None:
                    publication = self.store.get_publication(publication_id)
                    if publication is None:
                        return None
                    self._remember(publication)
        return publication

    def _remember(self, publication):
        """Keep a publication while it fans out (the one fan_out was given: its sends read nothing)."""
        self.publications[publication["_id"]] = publication
        self.publications.move_to_end(publication["_id"])
        while len(self.publications) > 32:
            self.publications.popitem(last=False)

    def _video(self, publication):
        video = next((m for m in publication.get("media") or [] if str(m.get("content_type", "")).startswith("video/")),
                     None)
        if video is None:
            raise DeliveryError(ErrorClass.PERMANENT, "Bài đăng không có video cho YouTube / "
                                                      "the post has no video for YouTube")
        try:
            media = self.rpc.call("posts", "get_media", video["media_id"])
        except Exception as exc:
            raise DeliveryError(ErrorClass.RETRY, f"Không lấy được video từ dịch vụ bài đăng / could not fetch "
                                                  f"the video from posts: {type(exc).__name__}") from None
        return {"data": base64.b64decode(media["data"]), "content_type": media.get("content_type") or video["content_type"]}

    def _tipster_address(self, channel):
        """The platform user id of a tipster, asked of tips at send time and never stored here."""
        tip_id = channel["id"].split(":", 1)[1]
        try:
            recipient = self.rpc.call("tips", "reply_recipient", tip_id)
        except Exception as exc:
            raise DeliveryError(ErrorClass.RETRY, f"Không hỏi được dịch vụ tin báo / tips did not answer: "
                                                  f"{type(exc).__name__}") from None
        user_id = recipient.get("zalo_user_id") or recipient.get("facebook_user_id")
        if not user_id:
            raise DeliveryError(ErrorClass.PERMANENT, "Không có địa chỉ để trả lời người báo tin / "
                                                      "no address to reply to the tipster")
        return dict(channel, external_id=user_id)

    # --- recorder ----------------------------------------------------------------------------------
    def _record_loop(self):
        size = self.settings["DELIVERY_RECORD_BATCH"]
        last_sweep = last_report = 0.0
        while self.running or not self.outcomes.empty() or self.pool.running():
            batch = []
            try:
                batch.append(self.outcomes.get(timeout=0.2))
                while len(batch) < size:
                    batch.append(self.outcomes.get_nowait())
            except Empty:
                pass
            if batch:
                self.recording = True
                try:
                    self._record(batch)
                finally:
                    self.recording = False
            if time.monotonic() - last_sweep > 1.0:
                last_sweep = time.monotonic()
                self._sweep()
            if self.touched and time.monotonic() - last_report >= self.settings["DELIVERY_PROGRESS_SECONDS"]:
                last_report = time.monotonic()
                self._report_progress()
        self._report_progress()  # stopping: the last word on what this process did

    def _record(self, batch):
        started = time.monotonic()
        while True:
            try:
                written = self.store.record_outcomes(batch, self.settings["RELAY_REMIND_SECONDS"],
                                                     max(5.0, self.settings["DELIVERY_LEASE_SECONDS"] / 4))
                break
            except Exception as exc:
                # Keep the batch: if this outlasts the leases, their new owners send again and
                # this write then finds the claims gone and skips them.
                logs.log(logger, logging.WARNING, "recording deliveries failed; retrying", error=type(exc).__name__)
                eventlet.sleep(1)
        self.stats["recorded"] += written
        finished = []
        for doc, result in batch:
            self.touch(doc["publication_id"], doc.get("post_id"))
            counter = COUNTED_AFTER_RECORD.get(result.get("status"))
            if counter is not None:
                counter.labels(doc["channel_type"]).inc()
            token = doc.get("claim_token")
            if token in self.batches:
                self.batches[token] -= 1
                if not self.batches[token]:
                    del self.batches[token]
                    finished.append(token)
        for batch_id in finished:
            try:
                self.store.finish_batch(batch_id, self.owner)
            except Exception as exc:  # left for a process that takes it over and finds nothing to send
                logs.log(logger, logging.WARNING, "finishing a delivery batch failed", error=type(exc).__name__)
        self.stats["record_seconds"] += time.monotonic() - started
        lost = len(batch) - written
        if lost:
            self.stats["lost_claims"] += lost
            logs.log(logger, logging.WARNING, "results discarded: those deliveries were taken over after a lost "
                                              "lease (they may have been sent twice)", count=lost)

    def _sweep(self):
        """Settle the deliveries a retraction caught in flight (also those a dead process left)."""
        try:
            for delivery in self.store.flagged_for_retraction():
                if self.store.settle_flag(delivery):
                    eventlet.spawn_n(self._retract_safely, delivery)  # landed after the retraction: undo it
                else:
                    self.touch(delivery["publication_id"], delivery.get("post_id"))  # cancelled: report it
        except Exception as exc:
            logs.log(logger, logging.WARNING, "settling retracted deliveries failed; retrying",
                     error=type(exc).__name__)

    def _report_progress(self):
        touched, self.touched = self.touched, {}
        for publication_id, post_id in touched.items():
            try:
                self.store.report_progress(publication_id, post_id)
            except Exception as exc:
                self.touched.setdefault(publication_id, post_id)  # next time
                logs.log(logger, logging.WARNING, "reporting progress failed; retrying", error=type(exc).__name__)

    # --- retraction ----------------------------------------------------------------------------------
    def retract_all(self, deliveries, notice_publication_id):
        pool = eventlet.GreenPool(50)
        results = list(pool.imap(lambda d: self._retract_safely(d, notice_publication_id), deliveries))
        return {outcome: results.count(outcome) for outcome in set(results)}

    def _retract_safely(self, delivery, notice_publication_id=None):
        try:
            outcome = self.retract(delivery, notice_publication_id)
            self.touch(delivery["publication_id"], delivery.get("post_id"))
            return outcome
        except PyMongoError:
            raise  # the handler runs again on the redelivered event
        except Exception:
            logger.exception("retraction failed", extra={"fields": {"delivery_id": delivery["_id"]}})
            return "error"

    def retract(self, delivery, notice_publication_id=None):
        """Undo one sent delivery: the platform's delete API, else a take-down task; a partner
        gets the retraction event; e-mail is only marked."""
        channel = delivery["channel"]
        remind = self.settings["RELAY_REMIND_SECONDS"]
        publication = self._publication(delivery["publication_id"]) or {"kind": "event"}
        # a take-down task shows what was sent and who takes it down
        take_down = {"message": domain.message_for(channel, publication),
                     "relay_officers": publication.get("relay_officers")}
        action = domain.retraction_for(channel["type"])
        if channel.get("delivery") == "manual_relay":
            action = "take_down_task"
        if action == "api":
            adapter = adapter_for_channel(channel)
            for attempt in range(RETRACT_TRIES):
                self._pace(channel)  # a delete counts against the account's rate like a post
                started = time.monotonic()
                try:
                    adapter.retract(channel, delivery["external_id"])
                    self.store.mark_retracted(delivery, None, int((time.monotonic() - started) * 1000))
                    return "retracted"
                except NoRetractApi:
                    break
                except DeliveryError as exc:
                    if exc.error_class == ErrorClass.RETRY and attempt + 1 < RETRACT_TRIES:
                        eventlet.sleep(min(10.0, exc.retry_after or 0.5 * 2 ** attempt))
                        continue
                    self.store.request_take_down(delivery, remind, note=f"Xoá qua API không được / API delete "
                                                                        f"failed: {exc.message}"[:1000], **take_down)
                    return "take_down_task"
            action = "take_down_task"
        if action == "take_down_task":
            self.store.request_take_down(delivery, remind, **take_down)
            return "take_down_task"
        if action == "notify_partner":
            notice_publication_id = notice_publication_id or (
                self.store.get_publication(delivery["publication_id"]) or {}).get("retraction_publication_id")
            notice = self.store.get_publication(notice_publication_id) if notice_publication_id else None
            if notice is not None:
                self.fan_out(notice, [channel])
            self.store.mark_retracted(delivery, "Đã gửi sự kiện gỡ bài cho đối tác / partner sent posts.retracted")
            return "partner_notified"
        self.store.mark_retracted(delivery, "Không có gì để gỡ / nothing to take down")
        return "marked"
