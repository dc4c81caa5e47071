"""Event contracts: envelopes, schema validation and the consumer topology."""
import importlib
import uuid

import pytest

from contracts.events import REGISTRY, InvalidEvent, make_event, validate_event
from contracts.topology import CONSUMERS, consumer_queues, queue_name
from service_runtime.entrypoints import EventSubscriber
from service_runtime.run import SERVICES

UNIT = {"unit_id": "doi-cshs", "name": "Đội Cảnh sát hình sự", "kind": "team"}


def test_envelope_has_every_field_and_defaults_filled():
    event = make_event("groups.unit_created", UNIT, producer="groups", correlation_id="c1")
    assert set(event) == {"id", "type", "version", "occurred_at", "producer", "correlation_id", "data"}
    uuid.UUID(event["id"])
    assert event["occurred_at"].endswith("+00:00") and event["version"] == 1
    assert event["data"]["handles"] == [] and event["data"]["parent_id"] is None


@pytest.mark.parametrize("data", [
    {"unit_id": "x"},                                    # required fields missing
    dict(UNIT, name=5),                                  # wrong type
    dict(UNIT, secret_field="x"),                        # producers may not add unnamed fields
])
def test_publishing_invalid_data_raises_before_anything_is_sent(data):
    with pytest.raises(InvalidEvent):
        make_event("groups.unit_created", data, producer="groups")


def test_unknown_event_type_is_refused():
    with pytest.raises(InvalidEvent):
        make_event("groups.no_such_event", {}, producer="groups")


def test_consumers_accept_fields_added_later_but_not_broken_envelopes():
    event = make_event("groups.unit_created", UNIT, producer="groups")
    event["data"]["added_in_a_later_release"] = True
    assert validate_event(event)["data"]["unit_id"] == "doi-cshs"
    for broken in ({**event, "version": "one"}, {**event, "id": "not-a-uuid"},
                   {k: v for k, v in event.items() if k != "producer"}, "not even a dict"):
        with pytest.raises(InvalidEvent):
            validate_event(broken)


def test_every_subscriber_is_in_the_topology_and_every_topology_entry_has_a_subscriber():
    found = set()
    for dotted in SERVICES.values():
        module, cls_name = dotted.split(":")
        service_cls = getattr(importlib.import_module(module), cls_name)
        for attr in dir(service_cls):
            for entrypoint in getattr(getattr(service_cls, attr), "nameko_entrypoints", ()):
                if isinstance(entrypoint, EventSubscriber):
                    found.add((service_cls.name, attr, entrypoint.event_type))
    assert found == set(CONSUMERS)
    for _, _, event_type in CONSUMERS:
        assert any(t == event_type for t, _ in REGISTRY), event_type


def test_queue_names_match_nameko_service_pool_naming():
    assert queue_name("groups.unit_created", "tips", "on_unit_created") == \
        "evt-groups-groups.unit_created--tips.on_unit_created"
    assert ("evt-groups-groups.unit_created--tips.on_unit_created", "groups.events",
            "groups.unit_created") in consumer_queues("groups")


def test_every_tips_event_carries_the_ward_and_category_subscriptions_filter_on():
    from contracts.tips import EVENTS
    for (event_type, _), schema in EVENTS.items():
        assert {"ward", "category"} <= set(schema().fields), event_type
