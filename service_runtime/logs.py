"""Structured JSON logs that carry the correlation id of the request being served.

The id lives in a thread-local: under eventlet (services) a greenthread-local, under
gunicorn's gthread workers (gateway) a real thread-local, so each request or worker
sees only its own.
"""
import json
import logging
import sys
import threading
import uuid
from datetime import datetime, timezone

_local = threading.local()


def current_correlation_id():
    return getattr(_local, "correlation_id", None)


def set_correlation_id(value):
    _local.correlation_id = value


def new_correlation_id():
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def __init__(self, service):
        super().__init__()
        self.service = service

    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
            "correlation_id": current_correlation_id(),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(service, level="INFO"):
    """Send every log line to stderr as one JSON object (idempotent)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root.handlers = [handler]
    root.setLevel(level)
    # kombu/amqp are chatty at INFO during reconnects; their warnings still show.
    for noisy in ("kombu", "amqp", "nameko.messaging"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def log(logger, level, msg, **fields):
    """Log with extra structured fields (never pass secrets or tipster identity here)."""
    logger.log(level, msg, extra={"fields": fields})
