"""The event catalog (docs/asyncapi.json): current, complete, and its schemas mean what the
marshmallow contracts mean (pure code, no broker)."""
import copy
import json
import warnings

import pytest

from contracts.events import REGISTRY, InvalidEvent, exchange_name, make_event, producer_of, validate_event
from contracts import catalog as asyncapi
from tools.asyncapi import main as asyncapi_main

ENTRIES = sorted(REGISTRY)
IDS = [f"{t}.v{v}" for t, v in ENTRIES]


@pytest.fixture(scope="module")
def document():
    return asyncapi.build_document()


def test_docs_asyncapi_json_is_current():
    generated = asyncapi.render(asyncapi.build_document())
    assert asyncapi.DOC_PATH.exists(), "docs/asyncapi.json is missing: python -m tools.asyncapi > docs/asyncapi.json"
    assert asyncapi.DOC_PATH.read_text(encoding="utf-8") == generated, (
        "docs/asyncapi.json is stale: regenerate it with `python -m tools.asyncapi > docs/asyncapi.json`")


def test_generation_is_deterministic():
    assert asyncapi.render(asyncapi.build_document()) == asyncapi.render(asyncapi.build_document())


def test_check_mode_tells_stale_from_current(tmp_path, capsys):
    current = tmp_path / "asyncapi.json"
    current.write_text(asyncapi.render(asyncapi.build_document()), encoding="utf-8")
    assert asyncapi_main(["--check", str(current)]) == 0
    stale = tmp_path / "stale.json"
    stale.write_text(current.read_text(encoding="utf-8").replace('"version": 1', '"version": 7', 1),
                     encoding="utf-8")
    assert asyncapi_main(["--check", str(stale)]) == 1
    assert asyncapi_main(["--check", str(tmp_path / "missing.json")]) == 1
    assert "regenerate" in capsys.readouterr().err


def test_document_shape(document):
    assert document["asyncapi"].startswith("2.6")
    assert document["defaultContentType"] == "application/json"
    assert document["servers"]["rabbitmq"]["protocol"] == "amqp"
    # Every $ref points at something the document holds.
    text = json.dumps(document)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        node = document
        for key in ref.lstrip("#/").split("/"):
            assert key in node, f"dangling $ref {ref}"
            node = node[key]


@pytest.mark.parametrize("event_type,version", ENTRIES, ids=IDS)
def test_every_registry_entry_is_listed_with_its_exchange_and_routing_key(document, event_type, version):
    name = f"{event_type}.v{version}"
    producer = producer_of(event_type)
    message = document["components"]["messages"][name]
    assert message["name"] == event_type
    assert message["description"].strip()
    assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
    assert message["bindings"]["amqp"]["messageType"] == event_type

    channel = document["channels"][event_type]           # the channel is the routing key
    amqp = channel["bindings"]["amqp"]
    assert amqp["is"] == "routingKey"
    assert amqp["exchange"] == {"name": exchange_name(producer), "type": "topic", "durable": True,
                                "autoDelete": False, "vhost": "/"}
    operation = channel["subscribe"]
    assert operation["bindings"]["amqp"]["cc"] == [event_type]
    assert {"$ref": f"#/components/messages/{name}"} in operation["message"]["oneOf"]

    envelope = document["components"]["schemas"][name]
    assert envelope["properties"]["type"]["enum"] == [event_type]
    assert envelope["properties"]["version"]["enum"] == [version]
    assert envelope["properties"]["producer"]["enum"] == [producer]


def test_nothing_listed_that_the_registry_does_not_have(document):
    listed = {(m["name"], int(key.rsplit(".v", 1)[1])) for key, m in document["components"]["messages"].items()}
    assert listed == set(REGISTRY)
    assert set(document["channels"]) == {t for t, _ in REGISTRY}


@pytest.mark.parametrize("event_type,version", ENTRIES, ids=IDS)
@pytest.mark.parametrize("minimal", [False, True], ids=["full", "minimal"])
def test_a_valid_envelope_validates_against_the_catalog(document, event_type, version, minimal):
    envelope = asyncapi.example_envelope(event_type, version, minimal=minimal, document=document)
    # The example is valid by the marshmallow contract, as the producer and consumers check it...
    validate_event(envelope)
    emitted = make_event(event_type, envelope["data"], producer_of(event_type), version=version)
    # ...and by the catalog's JSON Schema, both as written and as make_event builds it.
    assert asyncapi.envelope_errors(envelope, document) == []
    asyncapi.validate_envelope(emitted, document)


def _invalid_variants(envelope, data_schema):
    required = data_schema.get("required", [])
    properties = data_schema.get("properties", {})
    variants = {}
    if required:
        missing = copy.deepcopy(envelope)
        del missing["data"][required[0]]
        variants["missing required data field"] = missing
    extra = copy.deepcopy(envelope)
    extra["data"]["not_in_the_contract"] = "x"
    variants["undeclared data field"] = extra
    for name, prop in properties.items():
        if name in envelope["data"] and "string" in asyncapi._types(prop):
            wrong = copy.deepcopy(envelope)
            wrong["data"][name] = {"not": "a string"}
            variants[f"{name} not a string"] = wrong
            break
    for key, value in (("version", envelope["version"] + 100), ("id", "not-a-uuid"),
                       ("occurred_at", "yesterday"), ("producer", "someone-else")):
        bad = copy.deepcopy(envelope)
        bad[key] = value
        variants[f"bad {key}"] = bad
    unknown = copy.deepcopy(envelope)
    unknown["extra"] = True
    variants["undeclared envelope key"] = unknown
    no_data = copy.deepcopy(envelope)
    del no_data["data"]
    variants["no data"] = no_data
    return variants


@pytest.mark.parametrize("event_type,version", ENTRIES, ids=IDS)
def test_an_invalid_envelope_does_not(document, event_type, version):
    envelope = asyncapi.example_envelope(event_type, version, document=document)
    data_schema = document["components"]["schemas"][f"{event_type}.v{version}.data"]
    for what, bad in _invalid_variants(envelope, data_schema).items():
        assert asyncapi.envelope_errors(bad, document), f"{event_type} v{version}: {what} passed the catalog"
        with pytest.raises(asyncapi.CatalogViolation):
            asyncapi.validate_envelope(bad, document)


def test_the_catalog_and_the_contracts_agree_on_what_is_invalid(document):
    # Where marshmallow refuses data (enum, required, type), the JSON Schema refuses it too.
    envelope = asyncapi.example_envelope("tips.triaged", 1, document=document)
    envelope["data"]["urgency"] = "whenever"
    with pytest.raises(InvalidEvent):
        validate_event(envelope)
    assert any("urgency" in e for e in asyncapi.envelope_errors(envelope, document))


def test_validate_envelope_accepts_python_values_and_uses_the_generated_catalog():
    import uuid
    from datetime import datetime, timezone
    envelope = asyncapi.example_envelope("posts.published", 1)
    envelope["id"] = uuid.uuid4()
    envelope["occurred_at"] = datetime.now(timezone.utc)
    asyncapi.validate_envelope(envelope)          # default document: generated from contracts/
    with pytest.raises(asyncapi.CatalogViolation, match="no event"):
        asyncapi.validate_envelope(dict(envelope, type="posts.unheard_of"))


def test_gateway_serves_the_catalog():
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from gateway.app import create_app
    client = create_app({"JWT_SECRET": "catalog-test-" + "x" * 32}).test_client()
    response = client.get("/api/v1/asyncapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data(as_text=True) == asyncapi.render(asyncapi.build_document())
    again = client.get("/api/v1/asyncapi.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert "/api/v1/asyncapi.json" in client.get("/api/v1/openapi.json").get_json()["paths"]
