"""RPC from the gateway to the services: a small pool of proxies per gunicorn worker.

A `ClusterRpcProxy` owns an AMQP connection and an exclusive reply queue; making one per
request is slow and leaks queues, and one proxy may not be used by two threads at once.
So each worker process keeps a few, created lazily after fork (the pool notices a new
pid), lends one to a request thread at a time, and throws away any that broke.
"""
import logging
import os
import queue
import socket
import threading
from contextlib import contextmanager

import amqp.exceptions
import kombu.exceptions
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

import contracts.rpc  # noqa: F401  (registers the domain errors so they cross RPC as themselves)
from service_runtime import logs

logger = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """The broker or a service did not answer in time: the caller gets 503 + Retry-After."""

    def __init__(self, what, retry_after=5):
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


# Failures that mean "the broker connection is gone": the proxy is discarded.
BROKEN = (OSError, socket.timeout, amqp.exceptions.AMQPError, kombu.exceptions.OperationalError,
          kombu.exceptions.ConnectionError, RuntimeError)


class RpcPool:
    def __init__(self, amqp_uri, size=8, timeout=10.0):
        self.config = {"AMQP_URI": amqp_uri, "serializer": "json"}
        self.size = size
        self.timeout = timeout
        self._pid = None
        self._lock = threading.Lock()
        self._idle = None
        self._created = 0

    def _ensure_process(self):
        if self._pid != os.getpid():  # first use in this (forked) worker
            with self._lock:
                if self._pid != os.getpid():
                    self._idle = queue.LifoQueue()
                    self._created = 0
                    self._pid = os.getpid()

    def _take(self):
        self._ensure_process()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._created < self.size:
                self._created += 1
                make_new = True
            else:
                make_new = False
        if not make_new:
            try:
                return self._idle.get(timeout=self.timeout)
            except queue.Empty:
                raise ServiceUnavailable("rpc pool exhausted")
        try:
            holder = ClusterRpcProxy(self.config, timeout=self.timeout)
            return holder, holder.start()
        except BROKEN as exc:
            with self._lock:
                self._created -= 1
            raise ServiceUnavailable(f"broker: {type(exc).__name__}")

    def _discard(self, entry):
        with self._lock:
            self._created -= 1
        try:
            entry[0].stop()
        except Exception:
            pass

    @contextmanager
    def proxy(self):
        """Lend a started cluster proxy; the request's correlation id rides along."""
        entry = self._take()
        holder, proxy = entry
        holder._worker_ctx.data["correlation_id"] = logs.current_correlation_id()
        try:
            yield proxy
        except RpcTimeout:
            # The late reply would be read by the next borrower: do not reuse this one.
            self._discard(entry)
            raise ServiceUnavailable("timeout")
        except UnknownService as exc:
            self._idle.put(entry)
            raise ServiceUnavailable(f"service {exc} not running")
        except BROKEN as exc:
            self._discard(entry)
            raise ServiceUnavailable(f"broker: {type(exc).__name__}")
        except BaseException:
            self._idle.put(entry)
            raise
        else:
            self._idle.put(entry)

    def call(self, service, method, *args, **kwargs):
        with self.proxy() as rpc:
            return getattr(getattr(rpc, service), method)(*args, **kwargs)

    def call_many(self, calls, timeout=3.0):
        """Run several calls concurrently; returns {key: result or exception}.

        Each call that does not answer within `timeout` gets ServiceUnavailable as its
        result (the proxy is then discarded: a late reply must not reach the next user).
        """
        entry = self._take()
        holder, proxy = entry
        holder._worker_ctx.data["correlation_id"] = logs.current_correlation_id()
        consumer = holder._reply_listener.queue_consumer
        consumer.timeout, usual_timeout = timeout, consumer.timeout
        results, poisoned = {}, False
        try:
            pending = {}
            for key, (service, method, args) in calls.items():
                try:
                    pending[key] = getattr(getattr(proxy, service), method).call_async(*args)
                except UnknownService:
                    results[key] = ServiceUnavailable(f"service {service} not running")
            for key, reply in pending.items():
                try:
                    results[key] = reply.result()
                except RpcTimeout:
                    poisoned = True
                    results[key] = ServiceUnavailable("timeout")
                except BROKEN as exc:
                    raise ServiceUnavailable(f"broker: {type(exc).__name__}")
                except Exception as exc:
                    results[key] = exc
        except BaseException:
            poisoned = True
            raise
        finally:
            consumer.timeout = usual_timeout
            if poisoned:
                self._discard(entry)
            else:
                self._idle.put(entry)
        return results


def call(service, method, *args, **kwargs):
    """Call a service from a request handler, through this worker's pool."""
    from flask import current_app
    return current_app.extensions["rpc"].call(service, method, *args, **kwargs)
