"""Configuration from the environment (the only place secrets come from), through the
definitions in contracts.settings: a service reads its settings once, when its container
starts (`container_settings`)."""
from urllib.parse import quote, urlsplit, urlunsplit

from contracts import settings as definitions


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
    settings = definitions.load("services", overrides=overrides)
    config = {
        "AMQP_URI": settings.AMQP_URI,
        "MONGODB_URI": settings.MONGODB_URI,
        "MONGODB_DB_PREFIX": settings.MONGODB_DB_PREFIX,
        "serializer": "json",
        "max_workers": settings.MAX_WORKERS,
        "OUTBOX_POLL_SECONDS": settings.OUTBOX_POLL_SECONDS,
        "LOG_LEVEL": settings.LOG_LEVEL,
    }
    config.update(overrides)
    return config


def load_settings(process, config=None):
    """The settings of `process`: keys of a nameko config (or a test's overrides) first, then
    the environment. Raises contracts.settings.SettingsError naming each bad variable."""
    return definitions.load(process, overrides=config)


def container_settings(container):
    """The settings of the service a nameko container runs, read once per container (its
    dependencies share them); the container's config keys override the environment."""
    settings = getattr(container, "binhyen_settings", None)
    if settings is None:
        process = container.service_name if container.service_name in definitions.PROCESSES else "services"
        settings = container.binhyen_settings = load_settings(process, container.config)
    return settings

