"""The event catalog: an AsyncAPI 2.6 document generated from `contracts/` (served by the
gateway at /api/v1/asyncapi.json, kept in docs/asyncapi.json by `python -m tools.asyncapi`).

One channel per event type (the routing key) on its producer's topic exchange
(`<producer>.events`, durable); one message per (type, version), whose payload is the
envelope (`contracts.events.EnvelopeSchema`) with `type`, `version` and `producer` pinned
and `data` the event's own marshmallow schema converted to JSON Schema (apispec's
converter, in its OpenAPI 3.1 dialect, which is JSON Schema: `null` is a type).

`validate_envelope(envelope)` checks an envelope against this catalog, so tests can prove
that what the services really emit is what the catalog promises to partner units.

An example of each event is generated from its schema. A string field with a pattern the
generator cannot guess can name its own: `fields.String(metadata={"example": "..."})`.
"""
import copy
import functools
import json
import threading
import tomllib
import uuid
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "asyncapi.json"

ASYNCAPI_VERSION = "2.6.0"
AMQP_BINDING_VERSION = "0.3.0"
EXAMPLE_OCCURRED_AT = "2024-06-01T01:30:00+00:00"
EXAMPLE_DATE_TIME = "2024-06-01T08:30:00+07:00"
EXAMPLE_CORRELATION_ID = "5b0c1d6e2f7a4b8c9d0e1f2a3b4c5d6e"

PRODUCER_DESCRIPTIONS = {
    "groups": "Units (the org tree), officers, the channel registry and inter-unit subscriptions.",
    "posts": "Drafts, moderation by the admin board, publication, retraction, wanted-person notices.",
    "notify": "Deliveries of posts and events to channels, retries, manual relay tasks for Zalo groups.",
    "tips": "Citizens' tips: intake, triage, routing to a unit, SLA escalation, replies. No event "
            "names or reaches the tipster.",
}

# What each event means, for the partner unit reading the catalog. An event missing here
# falls back to its schema's docstring.
DESCRIPTIONS = {
    "groups.unit_created":
        "A unit (city police, team, ward/commune police or partner unit) was added to the org tree. "
        "Tips keeps its routing directory from these.",
    "groups.channel_registered":
        "A channel (Facebook page, Zalo OA or ordinary Zalo group, YouTube channel, partner webhook, "
        "e-mail) was registered for a unit. `delivery` says whether notify posts to it by API or an "
        "officer relays by hand.",
    "groups.channel_deactivated":
        "A channel was deactivated: nothing more is delivered to it.",
    "groups.subscription_changed":
        "A unit subscribed (`created`) to, or unsubscribed (`deleted`) from, events matching "
        "`event_pattern` (e.g. `posts.published`, `tips.*`), delivered to its channel "
        "`target_channel_id`.",
    "posts.submitted":
        "An editor submitted a draft (or a new version of it) to the admin board for moderation.",
    "posts.approved":
        "The admin board approved a post; it is published now or at its scheduled time.",
    "posts.rejected":
        "The admin board rejected a post; `reason` says why.",
    "posts.published":
        "A post was published. Notify fans it out to every channel of `audience`; `channel_overrides` "
        "holds per-channel-type text, `wanted` the details of a wanted-person notice.",
    "posts.retracted":
        "A published post was retracted: notify takes it down where a channel allows it and opens "
        "take-down relay tasks where it does not.",
    "posts.wanted_resolved":
        "A wanted-person notice was resolved (`outcome`: surrendered, arrested or withdrawn); "
        "`follow_up_post_id` names the post announcing it, if any.",
    "notify.publication_progress":
        "Where one post's publication stands: its deliveries counted per channel type (sent, failed, "
        "pending, relay_open, cancelled, retracted), recounted at `as_of`, at most about once a second "
        "while they change. Keep the one with the latest `as_of`; `open` reaches 0 when every "
        "delivery has settled. (A single successful delivery has no event of its own.)",
    "notify.delivery_failed":
        "A delivery stopped without reaching the channel: `status` `failed` (permanent: content or "
        "permission) or `reauth_wait` (the channel's token must be renewed; it resumes then). "
        "`error_class` and `error` say why.",
    "notify.delivery_dead":
        "A delivery gave up after its retries (`attempts`); the channel's unit is alerted.",
    "notify.relay_task_created":
        "A channel no API can post to (an ordinary Zalo group) needs an officer: a relay task to post "
        "(`purpose` post) or take down (`take_down`) by hand, due at `due_at`.",
    "notify.relay_task_overdue":
        "A relay task was not confirmed in time; the officer's unit is told.",
    "tips.received":
        "A tip was received (web form, Zalo OA or Facebook page). Nothing of its text or of the "
        "tipster is in the event.",
    "tips.triaged":
        "A tip was triaged: category, urgency, ward, spam, and the SLA deadline to acknowledge it.",
    "tips.assigned":
        "A tip was routed to the unit that must act on it; `summary` is the start of its text, "
        "redacted (phone and ID-card numbers, plates).",
    "tips.escalated":
        "A tip was not acknowledged by `due_at` and went up to `to_unit_id` (`level` counts the "
        "escalations).",
    "tips.status_changed":
        "A tip moved from `from_status` to `to_status` (e.g. acknowledged, in progress, resolved, "
        "closed with `reason`).",
    "tips.reply_sent":
        "An officer replied to the tipster; notify delivers it on Zalo or Facebook, web tipsters read "
        "it at their status page. `text` is redacted.",
}

ENVELOPE_DESCRIPTIONS = {
    "id": "Unique per event (uuid4), the same on every redelivery: de-duplicate on it.",
    "type": "The event type, also the AMQP routing key.",
    "version": "The version of `data`'s schema; a breaking change gets a new version.",
    "occurred_at": "When the fact happened (UTC, ISO 8601).",
    "producer": "The service that emitted it; its exchange is `<producer>.events`.",
    "correlation_id": "The X-Request-ID of the HTTP request that caused it (null for timers).",
    "data": "The event's own fields.",
}

INFO_DESCRIPTION = """\
Events of Bình Yên, the platform the city police runs its social-network outreach on.

Each service publishes its events to its own RabbitMQ topic exchange, `<producer>.events`
(durable), with the event type as routing key (`posts.published`, `tips.assigned`, ...).
A partner unit binds a durable queue of its own to an exchange with the routing keys it
wants; wildcards work (`tips.*`, `posts.#`, `#`).

Every message is one JSON envelope `{id, type, version, occurred_at, producer,
correlation_id, data}` (content type `application/json`, persistent, AMQP `message_id` =
envelope `id`). Delivery is at least once: the same event may arrive twice (after a broker
or service restart), with the same `id`, so remember the ids you handled and skip repeats.
Order is not guaranteed across producers.

Versioning: adding an optional field to `data` is not breaking, so ignore fields you do
not know. Anything else (removing, renaming, retyping a field, changing its meaning) gets
a new `version` of the event, published beside the old one for a transition period; each
version is listed here as its own message with its own schema.
"""

_LOCK = threading.Lock()


# --- marshmallow -> JSON Schema ----------------------------------------------------------------

def _schema_name(schema):
    cls = schema if isinstance(schema, type) else type(schema)
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def _converter():
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec("Bình Yên events", "1", "3.1.0", plugins=[plugin])
    return spec, plugin.converter


def _project_version():
    try:
        with open(ROOT / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0"


def _message_name(event_type, version):
    return f"{event_type}.v{version}"


def _data_schema_name(event_type, version):
    return f"{event_type}.v{version}.data"


def _description(event_type, schema):
    text = DESCRIPTIONS.get(event_type) or (schema.__doc__ or "").strip()
    return " ".join(text.split()) or f"The {event_type} event."


def _envelope_schema(converter, event_type, version, producer):
    from contracts.events import EnvelopeSchema
    envelope = copy.deepcopy(converter.schema2jsonschema(EnvelopeSchema))
    props = envelope["properties"]
    props["type"] = {"type": "string", "enum": [event_type]}
    props["version"] = {"type": "integer", "enum": [version]}
    props["producer"] = {"type": "string", "enum": [producer]}
    props["data"] = {"allOf": [{"$ref": f"#/components/schemas/{_data_schema_name(event_type, version)}"}]}
    for name, text in ENVELOPE_DESCRIPTIONS.items():
        if name in props:
            props[name]["description"] = text
    envelope["title"] = f"{event_type} v{version}"
    return envelope


# --- examples ----------------------------------------------------------------------------------

def _resolve(schema, components):
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _types(schema):
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _example_string(name, schema):
    import re
    fmt = schema.get("format")
    if fmt == "date-time":
        return EXAMPLE_DATE_TIME
    if fmt == "date":
        return EXAMPLE_DATE_TIME[:10]
    if fmt == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"binhyen:{name}"))
    if fmt == "email":
        return "don-vi@example.org"
    if fmt in ("uri", "url"):
        return "https://example.org/"
    candidates = [f"{name}-1", "example", "a", "a.b", "tips.assigned", "1"]
    pattern = schema.get("pattern")
    value = next((c for c in candidates if not pattern or re.search(pattern, c)), candidates[0])
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    value = value.ljust(low, "x")
    return value[:high] if high is not None else value


def _example(name, schema, components, nulls):
    schema = _resolve(schema, components)
    for key in ("example", "const"):
        if key in schema:
            return copy.deepcopy(schema[key])
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None] or [None]
        return values[0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return _example(name, schema[key][0], components, nulls)
    types = [t for t in _types(schema) if t != "null"]
    kind = types[0] if types else "object"
    if kind == "string":
        return _example_string(name, schema)
    if kind == "integer":
        value = max(1, int(schema.get("minimum", 1)))
        return min(value, int(schema["maximum"])) if "maximum" in schema else value
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return False
    if kind == "array":
        items = schema.get("items")
        count = max(1, schema.get("minItems", 1)) if items else 0
        return [_example(name, items, components, nulls) for _ in range(count)]
    return _example_object(schema, components, nulls)


def _example_object(schema, components, nulls):
    schema = _resolve(schema, components)
    properties = schema.get("properties")
    if not properties:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra.get("type"):
            return {"key": _example("key", extra, components, nulls)}
        return {}
    required = set(schema.get("required", ()))
    value = {}
    for name, prop in properties.items():
        resolved = _resolve(prop, components)
        nullable = "null" in _types(resolved) or None in resolved.get("enum", ())
        if nulls and nullable:
            value[name] = None
        elif nulls and name not in required:
            continue
        else:
            value[name] = _example(name, prop, components, nulls)
    return value


def _example_envelope(event_type, version, producer, components, nulls=False):
    return {
        # deterministic, shaped like the uuid4 the services use
        "id": str(uuid.UUID(bytes=uuid.uuid5(uuid.NAMESPACE_URL, f"binhyen:{event_type}:v{version}").bytes,
                            version=4)),
        "type": event_type,
        "version": version,
        "occurred_at": EXAMPLE_OCCURRED_AT,
        "producer": producer,
        "correlation_id": None if nulls else EXAMPLE_CORRELATION_ID,
        "data": _example_object({"$ref": f"#/components/schemas/{_data_schema_name(event_type, version)}"},
                                components, nulls),
    }


# --- the document -----------------------------------------------------------------------------

def build_document(registry=None):
    """The AsyncAPI document (a dict) for every (event type, version) in the registry."""
    from contracts.events import REGISTRY, exchange_name, producer_of
    registry = REGISTRY if registry is None else registry
    spec, converter = _converter()

    schemas, messages, channels = {}, {}, {}
    for (event_type, version) in sorted(registry):
        data_schema = registry[(event_type, version)]
        producer = producer_of(event_type)
        data = copy.deepcopy(converter.schema2jsonschema(data_schema))
        data["title"] = f"{event_type} v{version} data"
        schemas[_data_schema_name(event_type, version)] = data
        schemas[_message_name(event_type, version)] = _envelope_schema(converter, event_type, version, producer)

    # Schemas nested in event schemas were registered by the converter as components.
    nested = spec.to_dict().get("components", {}).get("schemas", {})
    schemas.update(copy.deepcopy(nested))

    for (event_type, version) in sorted(registry):
        data_schema = registry[(event_type, version)]
        producer = producer_of(event_type)
        name = _message_name(event_type, version)
        description = _description(event_type, data_schema)
        messages[name] = {
            "name": event_type,
            "title": f"{event_type} (version {version})",
            "summary": description.split(". ")[0].rstrip(".") + ".",
            "description": description,
            "contentType": "application/json",
            "messageId": name,
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "headers": {
                "type": "object",
                "properties": {"nameko.correlation_id": {
                    "type": ["string", "null"], "description": "the envelope's correlation_id"}},
            },
            "correlationId": {"description": "the HTTP request (X-Request-ID) behind the event",
                              "location": "$message.payload#/correlation_id"},
            "tags": [{"name": producer}],
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": event_type,
                                  "bindingVersion": AMQP_BINDING_VERSION}},
            "examples": [
                {"name": "full", "summary": "every field set",
                 "payload": _example_envelope(event_type, version, producer, schemas)},
                {"name": "minimal", "summary": "optional fields left out or null",
                 "payload": _example_envelope(event_type, version, producer, schemas, nulls=True)},
            ],
        }
        channel = channels.setdefault(event_type, {
            "description": f"Routing key `{event_type}` on the topic exchange `{exchange_name(producer)}`.",
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange_name(producer), "type": "topic", "durable": True,
                             "autoDelete": False, "vhost": "/"},
                "bindingVersion": AMQP_BINDING_VERSION,
            }},
            "subscribe": {
                "operationId": f"on_{event_type.replace('.', '_')}",
                "summary": f"Receive {event_type} from {producer}.",
                "description": description,
                "tags": [{"name": producer}],
                "bindings": {"amqp": {"cc": [event_type], "deliveryMode": 2, "mandatory": False,
                                      "bindingVersion": AMQP_BINDING_VERSION}},
                "message": {"oneOf": []},
            },
        })
        channel["subscribe"]["message"]["oneOf"].append({"$ref": f"#/components/messages/{name}"})

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:binhyen:events",
        "info": {
            "title": "Bình Yên events",
            "version": _project_version(),
            "description": INFO_DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {
                "url": "{host}:{port}",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "The deployment's RabbitMQ (in docker-compose: service `rabbitmq`). "
                               "Police IT gives each partner unit a user and a vhost permission.",
                "variables": {"host": {"default": "rabbitmq"}, "port": {"default": "5672"}},
            },
        },
        "channels": channels,
        "components": {"schemas": schemas, "messages": messages},
        "tags": [{"name": producer, "description": text} for producer, text in PRODUCER_DESCRIPTIONS.items()],
    }


def render(document):
    """The document as the text kept in docs/asyncapi.json: sorted keys, so reproducible."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@functools.lru_cache(maxsize=1)
def _cached_text():
    return render(build_document())


def document_text():
    """The rendered document, generated once per process (the gateway serves this)."""
    with _LOCK:
        return _cached_text()


@functools.lru_cache(maxsize=1)
def _cached_document():
    return json.loads(document_text())


# --- checking envelopes against the catalog ----------------------------------------------------

class CatalogViolation(AssertionError):
    """An envelope the catalog does not describe, or that does not match its schema."""


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _validator(document, name):
    from jsonschema import Draft7Validator, FormatChecker
    from referencing import Registry
    from referencing.jsonschema import DRAFT7
    base = "urn:binhyen:asyncapi"
    registry = Registry().with_resource(base, DRAFT7.create_resource(document))
    return Draft7Validator({"$ref": f"{base}#/components/schemas/{name}"}, registry=registry,
                           format_checker=FormatChecker())  # every known format, uuid included


@functools.lru_cache(maxsize=256)
def _cached_validator(name):
    return _validator(_cached_document(), name)


def envelope_errors(envelope, document=None):
    """Every way `envelope` departs from the catalog, as readable strings ([] when it conforms).

    Datetimes and UUIDs are taken as they would travel (ISO 8601 text, uuid text).
    `document` defaults to the catalog generated from contracts/ (equal to docs/asyncapi.json
    while tests/unit/test_asyncapi.py passes).
    """
    envelope = json.loads(json.dumps(envelope, default=_jsonable))
    if not isinstance(envelope, dict):
        return ["the envelope is not a JSON object"]
    name = _message_name(envelope.get("type"), envelope.get("version"))
    messages = (document or _cached_document())["components"]["messages"]
    if name not in messages:
        return [f"no event {envelope.get('type')!r} version {envelope.get('version')!r} in the catalog"]
    validator = _validator(document, name) if document is not None else _cached_validator(name)
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(envelope)'}: {error.message}"
            for error in sorted(validator.iter_errors(envelope), key=lambda e: list(map(str, e.absolute_path)))]


def validate_envelope(envelope, document=None):
    """Raise CatalogViolation unless `envelope` is an event the catalog lists and matches its schema."""
    errors = envelope_errors(envelope, document)
    if errors:
        kind = envelope.get("type") if isinstance(envelope, dict) else None
        raise CatalogViolation(f"event {kind!r} does not match the catalog: " + "; ".join(errors))


def example_envelope(event_type, version=1, minimal=False, document=None):
    """The catalog's example envelope of an event ("full", or "minimal" with optional fields null/absent)."""
    message = (document or _cached_document())["components"]["messages"][_message_name(event_type, version)]
    wanted = "minimal" if minimal else "full"
    return copy.deepcopy(next(e["payload"] for e in message["examples"] if e["name"] == wanted))
