"""The ceiling for bench/intake.py: the gateway's gunicorn setup serving an endpoint that
does nothing but one publish with confirms to a durable queue (what any accepted tip
costs at least), so intake is measured against the limit of this machine and setup."""
import os
import threading

from flask import Flask, jsonify
from kombu import Connection, Exchange, Queue

app = Flask(__name__)
_local = threading.local()
QUEUE = Queue("bench.ceiling", Exchange("bench.ceiling", type="direct", durable=True), routing_key="tip",
              durable=True)


def producer():
    if getattr(_local, "producer", None) is None:
        conn = Connection(os.environ["AMQP_URI"], transport_options={"confirm_publish": True})
        _local.producer = conn.Producer()
        QUEUE(_local.producer.channel).declare()
    return _local.producer


@app.post("/api/v1/public/tips")
def accept():
    producer().publish({"text": "bench"}, exchange=QUEUE.exchange, routing_key="tip", delivery_mode=2,
                       serializer="json")
    return jsonify(accepted=True), 202
