"""Configuration from the environment (the only place secrets come from)."""
import os
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_MONGODB_URI = "mongodb://127.0.0.1:27017/?directConnection=true"


def env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def broker_urls(amqp_uri):
    """The brokers AMQP_URI names: one URL, or a cluster's nodes separated by `;`
    (`amqp://u:p@rabbit-1:5672/;amqp://u:p@rabbit-2:5672/;...`), which kombu, hence nameko,
    takes as a failover list: connect to the first that answers, move on when it goes away."""
    return [url.strip() for url in amqp_uri.split(";") if url.strip()]


def with_vhost(amqp_uri, vhost):
    """AMQP_URI with every broker URL pointing at `vhost`."""
    return ";".join(urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))
                    for parts in map(urlsplit, broker_urls(amqp_uri)))


def service_config(**overrides):
    """The nameko config dict for a service container, read from the environment.

    `nameko run --config config/nameko.yaml` builds the same keys from the same
    variables; tests call this with overrides (their own vhost and database prefix).
    """
    config = {
        "AMQP_URI": env("AMQP_URI", DEFAULT_AMQP_URI),
        "MONGODB_URI": env("MONGODB_URI", DEFAULT_MONGODB_URI),
        "MONGODB_DB_PREFIX": env("MONGODB_DB_PREFIX", "binhyen_"),
        "serializer": "json",
        "max_workers": int(env("MAX_WORKERS", "20")),
        "OUTBOX_POLL_SECONDS": float(env("OUTBOX_POLL_SECONDS", "0.5")),
        "LOG_LEVEL": env("LOG_LEVEL", "INFO"),
    }
    config.update(overrides)
    return config


def secret(name, default=None):
    """A secret from the environment or from the file named by NAME_FILE (docker secrets)."""
    path = env(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    return env(name, default)
