"""Times: timezone-aware UTC in storage and on the wire (ISO 8601), Vietnam's time only on screens."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)


def as_utc(value):
    """Aware UTC datetime from a datetime or ISO string; naive means UTC (MongoDB)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(value):
    """ISO 8601 in UTC, or None."""
    return as_utc(value).isoformat() if value is not None else None
