"""The public endpoints' rate limits (gateway/limits.py): sending and reading a tip's status are
counted apart per client address, so a citizen who checks their tip a few times can still send.
No services here: a request the limiter let through ends in 503 (nothing behind it), a refused one
in 429 with Retry-After."""
import pytest

from contracts.settings import load
from gateway.app import create_app
from gateway.limits import READ, SEND, allowances
from gateway.rpc import ServiceUnavailable

SECRET = "rate-limit-test-" + "x" * 32
LIMITS = {"PUBLIC_TIPS_PER_MINUTE": "6", "PUBLIC_TIPS_BURST": "3", "PUBLIC_TIPS_READS_PER_MINUTE": "5"}


class NoServices:
    """Stands in for the RPC pool and the intake queue."""

    def call(self, *args, **kwargs):
        raise ServiceUnavailable("no services in this test", retry_after=1)

    publish = call


@pytest.fixture
def client(monkeypatch):
    for key, value in LIMITS.items():
        monkeypatch.setenv(key, value)
    app = create_app({"JWT_SECRET": SECRET, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
    app.extensions["rpc"] = app.extensions["public_tips_intake"] = NoServices()
    return app.test_client()


def read(client, ip="10.1.0.1"):
    return client.get("/api/v1/public/tips/NB-2345-6789-ABCD", headers={"X-Tip-Secret": "s" * 32},
                      environ_base={"REMOTE_ADDR": ip})


def send(client, ip="10.1.0.1"):
    return client.post("/api/v1/public/tips", json={"text": "Có trộm xe máy ở đầu ngõ"},
                       environ_base={"REMOTE_ADDR": ip})


def test_checking_a_tip_does_not_spend_the_right_to_send(client):
    reads = [read(client).status_code for _ in range(6)]
    assert reads[:5] == [503] * 5 and reads[5] == 429   # 5 reads a minute
    refused = read(client)
    assert refused.content_type == "application/problem+json" and int(refused.headers["Retry-After"]) >= 1
    assert "113" in refused.get_json()["detail"]
    # reading is used up; sending is not
    sends = [send(client).status_code for _ in range(4)]
    assert sends == [503, 503, 503, 429]
    # and information added to a tip is sending too: refused now, while another address may
    assert client.post("/api/v1/public/tips/NB-2345-6789-ABCD/messages", json={"text": "Thêm thông tin"},
                       headers={"X-Tip-Secret": "s" * 32}, environ_base={"REMOTE_ADDR": "10.1.0.1"}).status_code == 429
    assert send(client, ip="10.1.0.2").status_code == 503 and read(client, ip="10.1.0.2").status_code == 503


def test_sending_first_leaves_reading_open(client):
    assert [send(client, "10.2.0.1").status_code for _ in range(4)] == [503, 503, 503, 429]
    assert read(client, "10.2.0.1").status_code == 503


def test_zero_turns_an_allowance_off_and_a_burst_spreads_over_its_window():
    def settings(environ):
        return load("gateway", environ=dict(environ, BINHYEN_JWT_SECRET=SECRET))
    items = allowances(settings({"PUBLIC_TIPS_PER_MINUTE": "10", "PUBLIC_TIPS_BURST": "5",
                                 "PUBLIC_TIPS_READS_PER_MINUTE": "0"}))
    assert items[READ] is None
    assert (items[SEND].amount, items[SEND].get_expiry()) == (5, 30)  # 5 at once, 10 a minute on average
    assert allowances(settings({"PUBLIC_TIPS_PER_MINUTE": "0"}))[SEND] is None


def test_an_unknown_store_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URI", "redsi://127.0.0.1:6379/0")
    with pytest.raises(RuntimeError, match="RATE_LIMIT_STORAGE_URI"):
        create_app({"JWT_SECRET": SECRET, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
