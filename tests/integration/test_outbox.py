"""The outbox end to end: a state change and its event commit together, the relay
publishes with confirms, and the consumer in another service applies it exactly once,
even when the relay dies between publishing and marking the event sent."""
import json

import pytest
from kombu import Connection, Exchange, Queue

from contracts.events import InvalidEvent, make_event
from service_runtime.outbox import DEAD_LETTER_QUEUE
from service_runtime.storage import mongo_client
from services.groups.store import GroupsStore
from tests.support import answers, check_emitted_events, spawn_service, wait_for

pytestmark = pytest.mark.integration

ADMIN = {"id": "admin", "username": "admin", "roles": ["admin"], "unit_id": None}


def groups_db(mongo_client_, config):
    return mongo_client_[f"{config['MONGODB_DB_PREFIX']}groups"]


def tips_db(mongo_client_, config):
    return mongo_client_[f"{config['MONGODB_DB_PREFIX']}tips"]


def test_unit_created_reaches_tips_once(run_services, rpc, mongo_client, config):
    run_services("groups", "tips")
    unit = rpc.groups.create_unit(ADMIN, {"name": "Công an phường Ninh Khánh", "kind": "ward_police",
                                   "ward": "ninh-khanh"})
    assert unit["id"] == "cong-an-phuong-ninh-khanh"

    projection = wait_for(lambda: rpc.tips.get_unit_projection(unit["id"]), message="tips projection")
    assert projection == {"id": unit["id"], "name": "Công an phường Ninh Khánh", "version": 1}
    outbox = list(groups_db(mongo_client, config).outbox.find())
    assert [entry["envelope"]["type"] for entry in outbox] == ["groups.unit_created"]
    wait_for(lambda: groups_db(mongo_client, config).outbox.find_one({"sent_at": {"$ne": None}}),
             message="outbox entry marked sent")
    envelope = outbox[0]["envelope"]
    assert set(envelope) == {"id", "type", "version", "occurred_at", "producer", "correlation_id", "data"}
    assert envelope["producer"] == "groups" and envelope["correlation_id"]


def test_invalid_event_is_refused_before_anything_is_written(mongodb_uri, config):
    client = mongo_client(mongodb_uri)
    store = GroupsStore("groups", client, groups_db(client, config), config)

    def write(session):
        store.db.units.insert_one({"_id": "x", "name": "x"}, session=session)
        store.emit(session, "groups.unit_created", {"unit_id": "x"})  # name and kind missing

    with pytest.raises(InvalidEvent):
        store.atomic(write)
    assert store.db.units.count_documents({}) == 0
    assert store.db.outbox.count_documents({}) == 0


def test_failed_state_change_leaves_no_event(run_services, rpc, mongo_client, config):
    run_services("groups")
    rpc.groups.create_unit(ADMIN, {"name": "Đội Cảnh sát hình sự", "kind": "team"})
    from contracts.rpc import Conflict
    with pytest.raises(Conflict):
        rpc.groups.create_unit(ADMIN, {"name": "Đội Cảnh sát hình sự", "kind": "team"})
    assert groups_db(mongo_client, config).outbox.count_documents({}) == 1


def test_consumer_dead_letters_an_event_that_fails_its_schema(run_services, rpc, config):
    run_services("groups", "tips")  # groups' relay declares the dead-letter queue at start
    rpc.groups.create_unit(ADMIN, {"name": "Công an phường Vân Giang", "kind": "ward_police"})
    wait_for(lambda: rpc.tips.get_unit_projection("cong-an-phuong-van-giang"), message="projection")

    bad = make_event("groups.unit_created", {"unit_id": "ghost", "name": "Ghost", "kind": "team"},
                     producer="groups")
    del bad["data"]["name"]  # breaks the schema after it was built
    with Connection(config["AMQP_URI"]) as conn:
        conn.Producer().publish(bad, exchange=Exchange("groups.events", type="topic", durable=True),
                                routing_key="groups.unit_created", serializer="json")
        dead = conn.SimpleQueue(Queue(DEAD_LETTER_QUEUE, durable=True, no_declare=True))
        message = dead.get(timeout=15)
        message.ack()
        dead.close()
    assert message.payload["id"] == bad["id"]
    assert message.headers["x-consumer"] == "tips.on_unit_created"
    assert "name" in message.headers["x-reason"]
    assert rpc.tips.get_unit_projection("ghost") is None


def test_relay_killed_between_publish_and_mark_sent(run_services, rpc, mongo_client, config, tmp_path):
    """SIGKILL right after the broker confirmed the publish, before the outbox is marked:
    the restarted relay publishes again and the consumer's idempotency absorbs the repeat."""
    run_services("tips")
    log = tmp_path / "groups.log"
    crashing = spawn_service("groups", config, {"BINHYEN_FAILPOINT": "relay.after_publish"}, log)
    try:
        wait_for(lambda: answers(rpc.groups), timeout=30, message="groups up")
        rpc.groups.create_unit.call_async(ADMIN, {"name": "Công an xã Ninh Nhất", "kind": "ward_police"})
        assert crashing.wait(timeout=30) == -9, log.read_text()[-2000:]
    finally:
        crashing.kill()
    db = groups_db(mongo_client, config)
    entry = db.outbox.find_one()
    assert entry is not None and entry["sent_at"] is None  # published, never marked
    wait_for(lambda: rpc.tips.get_unit_projection("cong-an-xa-ninh-nhat"), message="first delivery")

    restarted = spawn_service("groups", config, log_path=log)
    try:
        wait_for(lambda: db.outbox.find_one({"sent_at": {"$ne": None}}), timeout=30,
                 message="restarted relay marks the event sent")
        key = f"on_unit_created:{entry['event_id']}"
        processed = wait_for(lambda: tips_db(mongo_client, config).processed_events.find_one(
            {"_id": key, "duplicates": 1}), message="the repeat reaches tips and is absorbed")
        assert processed["state"] == "done"
        assert rpc.tips.get_unit_projection("cong-an-xa-ninh-nhat")["version"] == 1
    finally:
        restarted.terminate()
        restarted.wait(timeout=20)


def test_an_emitted_event_the_catalog_does_not_describe_is_caught(mongo_client):
    """The suite checks every outbox it leaves behind against docs/asyncapi.json: an event
    with a field of the wrong type, or of a type the catalog lacks, is reported."""
    prefix = "catalogcheck_"
    good = make_event("groups.unit_created", {"unit_id": "p1", "name": "Công an phường 1", "kind": "ward_police",
                                              "parent_id": "catp", "ward": None}, producer="groups")
    bad = json.loads(json.dumps(good))
    bad["id"], bad["data"]["name"] = "4b9c9c27-1111-4222-8333-444455556666", 42
    unknown = dict(good, id="4b9c9c27-1111-4222-8333-444455556667", type="groups.unit_exploded")
    outbox = mongo_client[f"{prefix}groups"].outbox
    try:
        outbox.insert_one({"envelope": good})
        check_emitted_events(mongo_client, prefix)  # conforms: nothing to report
        outbox.insert_many([{"envelope": bad}, {"envelope": unknown}])
        with pytest.raises(AssertionError) as caught:
            check_emitted_events(mongo_client, prefix)
        assert "groups.unit_created v1: data/name" in str(caught.value)
        assert "groups.unit_exploded" in str(caught.value)
    finally:
        mongo_client.drop_database(f"{prefix}groups")
