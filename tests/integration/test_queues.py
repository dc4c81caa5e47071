"""Queue types on the real RabbitMQ: with RABBITMQ_QUEUE_TYPE=quorum every durable queue the
system declares (event consumer queues, RPC request queues, the tips intake queue, the
dead-letter queue) is a quorum queue, declared alike by everyone who declares it; a message
that kills its consumer every time ends in the dead-letter queue after the delivery limit; a
message that must wait ("not now") is not counted against that limit."""
import json
import subprocess
import time
from urllib.parse import unquote, urlsplit

import pytest
from kombu import Connection, Queue

from contracts.events import producer_of
from contracts.tips import INTAKE_QUEUE
from contracts.topology import CONSUMERS, consumer_queues
from gateway.intake import IntakePublisher
from service_runtime.queues import DEAD_LETTER_QUEUE, queue_arguments
from services.tips.vault import generate_key
from tests.integration.test_tips_api import intake_message, messages_in
from tests.support import environment, spawn_service, wait_for

pytestmark = pytest.mark.integration

QUORUM = {"RABBITMQ_QUEUE_TYPE": "quorum", "RABBITMQ_DELIVERY_LIMIT": "2"}


def queues(config):
    """{name: {type, durable, arguments}} of every queue in the test's vhost."""
    vhost = unquote(urlsplit(config["AMQP_URI"]).path[1:])
    listing = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "durable",
                              "arguments", "--formatter", "json"], check=True, capture_output=True, text=True,
                             timeout=60).stdout
    return {row["name"]: dict(row, arguments={name: value for name, _type, value in row["arguments"]})
            for row in json.loads(listing)}


def dead_lettered(config, timeout=20):
    """The messages in the dead-letter queue (taken off it)."""
    found = []
    with Connection(config["AMQP_URI"]) as conn:
        dead = conn.SimpleQueue(Queue(DEAD_LETTER_QUEUE, durable=True, no_declare=True))
        try:
            message = dead.get(timeout=timeout)
            while message is not None:
                message.ack()
                found.append(message)
                try:
                    message = dead.get(timeout=1)
                except dead.Empty:
                    message = None
        except dead.Empty:
            pass
        finally:
            dead.close()
    return found


def test_every_durable_queue_is_a_quorum_queue_when_asked(run_services, rpc, config):
    from gateway.app import create_app
    from tests.conftest import JWT_SECRET
    with environment(QUORUM):
        run_services("groups", "posts", "notify", "tips")
        gateway = create_app({"AMQP_URI": config["AMQP_URI"], "JWT_SECRET": JWT_SECRET}).test_client()
        # the gateway declares the intake queue too, with the same arguments (else: 406, and 503 here)
        response = gateway.post("/api/v1/public/tips", json={"text": "Có người lạ trèo tường nhà trọ phường Nam Bình"})
        assert response.status_code == 202, response.get_data(as_text=True)
        assert rpc.groups.health()["status"] == "ok"      # RPC through a quorum request queue
        expected = {queue for producer in {producer_of(event_type) for _s, _m, event_type in CONSUMERS}
                    for queue, _exchange, _key in consumer_queues(producer)}
        expected |= {f"rpc-{name}" for name in ("groups", "posts", "notify", "tips")}
        expected |= {INTAKE_QUEUE.name, DEAD_LETTER_QUEUE}
        found = wait_for(lambda: (lambda q: q if expected <= set(q) else None)(queues(config)), timeout=30,
                         message="every queue declared")
        for name in expected:
            assert found[name]["type"] == "quorum" and found[name]["durable"], (name, found[name])
            assert found[name]["arguments"] == queue_arguments(name), name
        limited = {name for name in expected if "x-delivery-limit" in found[name]["arguments"]}
        assert limited == expected - {DEAD_LETTER_QUEUE}
        assert found[INTAKE_QUEUE.name]["arguments"]["x-delivery-limit"] == 2
        assert found[INTAKE_QUEUE.name]["arguments"]["x-dead-letter-exchange"] == DEAD_LETTER_QUEUE
        # the rest are the processes' own RPC reply queues, which cannot be quorum and need not be
        others = set(found) - expected
        assert others and all(name.startswith("rpc.reply-") and found[name]["type"] == "classic"
                              for name in others), others
        wait_for(lambda: messages_in(config, INTAKE_QUEUE.name) == 0, message="the tip stored")


def test_by_default_queues_are_classic_without_arguments(run_services, config):
    run_services("groups")
    found = wait_for(lambda: (lambda q: q if {"rpc-groups", DEAD_LETTER_QUEUE} <= set(q) else None)(queues(config)),
                     timeout=30, message="queues declared")
    for name in ("rpc-groups", DEAD_LETTER_QUEUE, *(q for q, _e, _k in consumer_queues("groups"))):
        assert found[name]["type"] == "classic" and found[name]["arguments"] == {}, name


def test_a_message_that_kills_its_consumer_every_time_is_dead_lettered_after_the_delivery_limit(
        run_services, config, tmp_path):
    with environment(QUORUM):
        run_services("groups")
        message = intake_message("Có trộm đột nhập cửa hàng ở phường Ninh Khánh")
        IntakePublisher(config["AMQP_URI"]).publish(message, message["intake_id"])
        # tips dies (SIGKILL) in the middle of storing it, each time it is handed the message
        for attempt in range(3):   # the first delivery and RABBITMQ_DELIVERY_LIMIT (2) more
            crashing = spawn_service("tips", config, dict(QUORUM, BINHYEN_FAILPOINT="work_queue.received"),
                                     tmp_path / "tips.log")
            assert crashing.wait(timeout=120) == -9, f"tips did not crash on delivery {attempt + 1}"
        wait_for(lambda: messages_in(config, INTAKE_QUEUE.name) == 0, message="the message off its queue")
        dead = dead_lettered(config)
        assert [m.payload["intake_id"] for m in dead] == [message["intake_id"]]
        assert dead[0].payload == message                                  # all of it, for an operator
        assert dead[0].headers["x-first-death-reason"] == "delivery_limit"
        assert dead[0].headers["x-first-death-queue"] == INTAKE_QUEUE.name


def test_a_tip_waiting_for_the_vault_key_is_not_counted_against_the_delivery_limit(
        run_services, rpc, config, monkeypatch):
    monkeypatch.delenv("TIPS_VAULT_KEY", raising=False)
    with environment(QUORUM):
        run_services("groups")
        waiting = run_services("tips")           # no vault key: a tip with a contact must wait
        message = intake_message("Có người bán ma tuý ở phường Tân Thành", payload={
            "text": "Có người bán ma tuý ở phường Tân Thành", "contact": {"phone": "0912 345 678"}})
        IntakePublisher(config["AMQP_URI"]).publish(message, message["intake_id"])
        time.sleep(4)   # put back every half second: far more often than the limit of 2 redeliveries
        waiting.kill()
        assert dead_lettered(config, timeout=1) == []   # still waiting on its queue
        monkeypatch.setenv("TIPS_VAULT_KEY", generate_key())
        run_services("tips")
        wait_for(lambda: messages_in(config, INTAKE_QUEUE.name) == 0, timeout=30, message="the tip stored")
        stored = rpc.tips.public_status(message["tip_code"], "s" * 32)
        assert stored["tip_code"] == message["tip_code"]


def test_a_broker_list_whose_first_node_is_down_is_served_by_the_next(run_services, rpc, config):
    """AMQP_URI names a cluster's nodes, `;` between them: the services, their RPC calls, the
    outbox relay and the gateway's intake all go to the first node that answers."""
    from gateway.app import create_app
    from tests.conftest import JWT_SECRET, free_port
    vhost = unquote(urlsplit(config["AMQP_URI"]).path[1:])
    listed = f"amqp://guest:guest@127.0.0.1:{free_port()}/{vhost};{config['AMQP_URI']}"   # nothing on the first
    config["AMQP_URI"] = listed
    run_services("groups", "tips")
    assert rpc.groups.health()["status"] == "ok"
    client = create_app({"AMQP_URI": listed, "JWT_SECRET": JWT_SECRET}).test_client()
    checks = client.get("/readyz").get_json()["checks"]   # (posts and notify are not running here)
    assert checks["broker"]["ok"] and checks["groups"]["ok"] and checks["tips"]["ok"], checks
    response = client.post("/api/v1/public/tips", json={"text": "Có người lạ trèo tường nhà trọ phường Ninh Phong"})
    assert response.status_code == 202, response.get_data(as_text=True)
    wait_for(lambda: messages_in(config, INTAKE_QUEUE.name) == 0, message="the tip stored through the second URL")
    receipt = response.get_json()
    assert rpc.tips.public_status(receipt["tip_code"], receipt["secret"])["tip_code"] == receipt["tip_code"]
