"""Events: the envelope every event travels in, and the registry of event types.

Events are a public contract. Partner units bind their own queues to a producer's
exchange (`{producer}.events`, topic, routing key = event type), so a breaking change
to an event's data gets a new `version` and a new schema entry, never an edit in place.
"""
import uuid
from datetime import datetime, timezone

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate


class InvalidEvent(ValueError):
    """An event whose envelope or data does not match its registered schema."""

    def __init__(self, event_type, errors):
        super().__init__(f"invalid event {event_type!r}: {errors}")
        self.event_type = event_type
        self.errors = errors


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+\.[a-z_]+$"))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True, allow_none=True)
    data = fields.Dict(required=True)


# --- the registry ---------------------------------------------------------------------
# Each producer's contract module (contracts/<producer>.py) lists its events in EVENTS:
# {(event type, version): data schema}. Consumers must tolerate fields added later
# (unknown = EXCLUDE on their side); producers may not send fields the schema does not name.
PRODUCERS = ("groups", "posts", "notify", "tips")


def _collect():
    import importlib
    registry = {}
    for producer in PRODUCERS:
        try:
            module = importlib.import_module(f"contracts.{producer}")
        except ModuleNotFoundError as exc:
            if exc.name != f"contracts.{producer}":
                raise
            continue
        registry.update(getattr(module, "EVENTS", {}))
    return registry


REGISTRY = _collect()

# The latest version each producer emits.
CURRENT_VERSION = {}
for _type, _version in REGISTRY:
    CURRENT_VERSION[_type] = max(_version, CURRENT_VERSION.get(_type, 0))


def schema_for(event_type, version):
    try:
        return REGISTRY[(event_type, version)]
    except KeyError:
        raise InvalidEvent(event_type, {"type": [f"unknown event type/version {event_type} v{version}"]})


def make_event(event_type, data, producer, correlation_id=None, version=None):
    """Build a validated envelope. Raises InvalidEvent before anything is stored or sent."""
    version = version or CURRENT_VERSION.get(event_type)
    if version is None:
        raise InvalidEvent(event_type, {"type": ["unknown event type"]})
    schema = schema_for(event_type, version)(unknown=RAISE)
    try:
        clean = schema.dump(schema.load(data))
    except ValidationError as exc:
        raise InvalidEvent(event_type, exc.messages)
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "producer": producer,
        "correlation_id": correlation_id,
        "data": clean,
    }


def validate_event(envelope):
    """Validate a received envelope and its data; returns the envelope with loaded data.

    Raises InvalidEvent for anything a consumer must not act on.
    """
    if not isinstance(envelope, dict):
        raise InvalidEvent(None, {"_schema": ["envelope is not an object"]})
    try:
        EnvelopeSchema().load(envelope)
    except ValidationError as exc:
        raise InvalidEvent(envelope.get("type"), exc.messages)
    schema = schema_for(envelope["type"], envelope["version"])(unknown=EXCLUDE)
    try:
        data = schema.load(envelope["data"])
    except ValidationError as exc:
        raise InvalidEvent(envelope["type"], exc.messages)
    return dict(envelope, data=data)


def exchange_name(producer):
    """The topic exchange a producer's events go to (nameko's naming)."""
    return f"{producer}.events"


def producer_of(event_type):
    return event_type.split(".", 1)[0]
