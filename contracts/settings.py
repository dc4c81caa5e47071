"""Every setting the processes read from the environment, defined once, and the loader.

Each process (the gateway, each service, the seed and sandbox tools) calls `load(process)`
once at start-up: every setting it uses is read, parsed and checked, and one SettingsError
names each bad variable and what it expects. What comes back is a read-only mapping (also
readable as attributes) handed to whatever needs it, so no request and no pure rule reads
the environment. README.md's configuration table is written from these definitions
(`python -m tools.settings_table`); a unit test keeps the two equal.

A secret may also come from the file named by NAME_FILE (docker secrets); its value never
appears in an error message or a repr.
"""
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent

SERVICES = ("groups", "posts", "notify", "tips")
PROCESSES = ("gateway", *SERVICES, "seed", "sandbox")


class SettingsError(ValueError):
    """The environment (or a caller's overrides) has values a process cannot start with."""

    def __init__(self, process, problems):
        self.process = process
        self.problems = list(problems)
        super().__init__(f"Cấu hình không hợp lệ / invalid settings for {process}:\n  " + "\n  ".join(self.problems))


@dataclass(frozen=True)
class Kind:
    """How a raw value becomes a typed one; `expects` is what the error says when it cannot."""
    expects: str
    convert: Callable[[str], object]

    def __call__(self, raw):
        return self.convert(raw.strip())


def _number(text, whole=False, minimum=None, above=None):
    value = int(text) if whole else float(text)
    if not math.isfinite(value) or (minimum is not None and value < minimum) or (above is not None and value <= above):
        raise ValueError(text)
    return value


def _choice(*allowed, upper=False):
    def convert(text):
        value = text.upper() if upper else text.lower()
        if value not in allowed:
            raise ValueError(text)
        return value
    return Kind(f"one of {', '.join(allowed)}", convert)


def _url(*schemes, several=False):
    """A URL with one of `schemes`; `several`: a list separated by `;` (a cluster's nodes)."""
    pattern = re.compile(rf"^({'|'.join(map(re.escape, schemes))})://\S+$")

    def convert(text):
        parts = [part.strip() for part in text.split(";") if part.strip()] if several else [text]
        if not parts or not all(pattern.match(part) for part in parts):
            raise ValueError(text)
        return text
    return Kind(f"a {' or '.join(s + '://' for s in schemes)} URL" + (", or several separated by `;`" if several else ""),
                convert)


def _port(text):
    value = int(text)
    if not 1 <= value <= 65535:
        raise ValueError(text)
    return value


def _existing_file(text):
    path = Path(text)
    path = path if path.is_absolute() else ROOT / path  # relative: inside the repository
    if not path.is_file():
        raise ValueError(text)
    return str(path)


def _min_length(n):
    def convert(text):
        if len(text) < n:
            raise ValueError("too short")
        return text
    return convert


TEXT = Kind("text", str)
SECONDS = Kind("a number of seconds above 0", lambda t: _number(t, above=0))
WHOLE_SECONDS = Kind("a whole number of seconds above 0", lambda t: _number(t, whole=True, above=0))
COUNT = Kind("a whole number, 0 or more", lambda t: _number(t, whole=True, minimum=0))
POSITIVE = Kind("a whole number above 0", lambda t: _number(t, whole=True, above=0))
RATE = Kind("a number, 0 or more", lambda t: _number(t, minimum=0))
PORT = Kind("a port number (1–65535)", _port)
HTTP_URL = _url("http", "https")
FILE = Kind("the path of an existing file (relative: inside the repository)", _existing_file)
JWT_KEY = Kind("32 or more characters", _min_length(32))


@dataclass(frozen=True)
class Setting:
    name: str
    default: object = None      # the value when unset (already parsed); None: unset
    kind: Kind = TEXT
    secret: bool = False        # also NAME_FILE; never shown
    required: bool = False      # a process using it does not start without it
    note: str = ""              # README's default cell, after the value (alone when no default)

    def shown_default(self):
        if self.default is None:
            return self.note or "—"
        value = self.default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.startswith(str(ROOT)):
            value = os.path.relpath(value, ROOT)
        return f"`{value}`" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Row:
    """One line of README's configuration table: a few related settings, who uses them, what they mean."""
    settings: tuple
    used_by: tuple
    meaning: str
    variables: str = ""         # the first cell when it is not simply the names (a family)

    def applies_to(self, process):
        return (process in self.used_by or "all" in self.used_by
                or ("services" in self.used_by and process in SERVICES))

    def cells(self):
        names = self.variables or " / ".join(f"`{s.name}`" for s in self.settings)
        shown = [s.shown_default() for s in self.settings]
        default = shown[0] if len(set(shown)) == 1 else " / ".join(shown)
        return [names, default, ", ".join(self.used_by), self.meaning]


def _row(used_by, meaning, *settings, variables=""):
    return Row(tuple(settings), tuple(u.strip() for u in used_by.split(",")), meaning, variables)


S = Setting
ROWS = (
    _row("all", "RabbitMQ; a cluster: every node's URL, `;` between them (clients take the first that answers "
         "and move on when it goes away)", S("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/", _url("amqp", "amqps", several=True),
                                               secret=True)),
    _row("all", "`quorum`: every durable queue the system declares is a quorum queue (replicated in a cluster; see "
         "Operations). The same value for every process, and a broker's existing queues keep their type: switch on "
         "an empty broker or vhost", S("RABBITMQ_QUEUE_TYPE", "classic", _choice("classic", "quorum"))),
    _row("all", "quorum only: a message handed out this many more times without being settled (its consumer died "
         "with it each time) goes to `binhyen.dead-letter`. The same value for every process",
         S("RABBITMQ_DELIVERY_LIMIT", 20, POSITIVE)),
    _row("services", "MongoDB (production: MongoDB 7 replica set)",
         S("MONGODB_URI", "mongodb://127.0.0.1:27017/?directConnection=true", _url("mongodb", "mongodb+srv"),
           secret=True, note="`make run`: a local SecantusDB")),
    _row("services", "database name prefix (`binhyen_groups`, …)", S("MONGODB_DB_PREFIX", "binhyen_")),
    _row("gateway", "HS256 signing key for staff tokens, 32+ characters (or `BINHYEN_JWT_SECRET_FILE`)",
         S("BINHYEN_JWT_SECRET", kind=JWT_KEY, secret=True, required=True, note="generated by `make run`")),
    _row("groups", "first admin, created at start-up if missing (`..._PASSWORD_FILE` also read)",
         S("BINHYEN_ADMIN_USERNAME", note="generated by `make run`"),
         S("BINHYEN_ADMIN_PASSWORD", secret=True, note="generated by `make run`")),
    _row("gateway", "staff token lifetime (API tokens and console sessions)",
         S("TOKEN_TTL_SECONDS", 8 * 3600, WHOLE_SECONDS)),
    _row("gateway", "a console session unused this long signs the officer out",
         S("CONSOLE_IDLE_SECONDS", 1800, WHOLE_SECONDS)),
    _row("gateway", "listen address", S("GATEWAY_HOST", "127.0.0.1"), S("GATEWAY_PORT", 8000, PORT)),
    _row("gateway", "gunicorn processes and threads per process",
         S("GATEWAY_WORKERS", 2, POSITIVE), S("GATEWAY_THREADS", 8, POSITIVE)),
    _row("gateway", "RPC proxies per worker; how long a call may take before 503",
         S("RPC_POOL_SIZE", 8, POSITIVE), S("RPC_TIMEOUT_SECONDS", 10.0, SECONDS)),
    _row("gateway", "larger request bodies get 413", S("MAX_BODY_BYTES", 1024 * 1024, POSITIVE)),
    _row("gateway", "how long a public tip waits for RabbitMQ to confirm it is queued before the citizen gets 503",
         S("INTAKE_CONFIRM_SECONDS", 5.0, SECONDS)),
    _row("services", "relay polling interval (a commit also wakes it)", S("OUTBOX_POLL_SECONDS", 0.5, SECONDS)),
    _row("services", "concurrent nameko workers per service process", S("MAX_WORKERS", 20, POSITIVE)),
    _row("services", "work-queue messages (public tips) handled at once per process (at most MAX_WORKERS), so a "
         "backlog never takes every worker from RPC and events", S("WORK_QUEUE_CONCURRENCY", 8, POSITIVE)),
    _row("all", "JSON log level", S("LOG_LEVEL", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL",
                                                                  upper=True))),
    _row("services", "serve Prometheus `/metrics` on this port (the gateway serves `/metrics` itself)",
         S("METRICS_PORT", kind=PORT, note="unset (off); `make run`: 9101–9104")),
    _row("groups", "wards, group kinds and categories, loaded once when the database has none",
         S("REFERENCE_DATA_FILE", str(ROOT / "data" / "ninh-binh.json"), FILE)),
    _row("seed", "password of the demo officers",
         S("BINHYEN_DEMO_PASSWORD", secret=True, note="generated by `make run`")),
    _row("gateway", "upload body limit for `POST /api/v1/media`",
         S("MEDIA_MAX_BYTES", 50 * 1024 * 1024 + 64 * 1024, POSITIVE, note="50 MB + 64 KB")),
    _row("tips", "256-bit key (base64url) sealing tipsters' identities (or `TIPS_VAULT_KEY_FILE`); make one with "
         "`python -c 'from services.tips.vault import generate_key; print(generate_key())'`. Unset: only anonymous "
         "tips are accepted (tips with an identity get 503)",
         S("TIPS_VAULT_KEY", secret=True, note="generated by `make run`")),
    _row("tips", "retired vault keys, comma-separated, still used to open older identities",
         S("TIPS_VAULT_OLD_KEYS", secret=True)),
    _row("gateway, sandbox", "Zalo OA webhook: `X-ZEvent-Signature: mac=sha256(app id + raw body + timestamp + OA "
         "secret key)`; either unset → the webhook is off (404, `/readyz` integrations: `not configured`)",
         S("ZALO_APP_ID", secret=True, note="generated by make run (sandbox values); otherwise —"),
         S("ZALO_OA_SECRET_KEY", secret=True, note="generated by make run (sandbox values); otherwise —")),
    _row("gateway, sandbox", "Facebook page webhook: key of `X-Hub-Signature-256` (HMAC-SHA256 of the raw body); "
         "token for the `hub.challenge` verification; either unset → off (404, `not configured`)",
         S("FACEBOOK_APP_SECRET", secret=True, note="generated by make run (sandbox values); otherwise —"),
         S("FACEBOOK_VERIFY_TOKEN", secret=True, note="generated by make run (sandbox values); otherwise —")),
    _row("tips", "time to acknowledge a tip per urgency; each further window unacknowledged escalates one unit up",
         S("SLA_EMERGENCY_SECONDS", 300, WHOLE_SECONDS), S("SLA_HIGH_SECONDS", 3600, WHOLE_SECONDS),
         S("SLA_NORMAL_SECONDS", 86400, WHOLE_SECONDS), S("SLA_LOW_SECONDS", 259200, WHOLE_SECONDS)),
    _row("tips", "how often the SLA timer looks for breached tips", S("SLA_CHECK_SECONDS", 5.0, SECONDS)),
    _row("gateway", "sending per client IP (a tip or information added to one, API and `/gui-tin-bao`, `/tra-cuu`): "
         "at most BURST within BURST/PER_MINUTE minutes (a moving window); `0` turns it off",
         S("PUBLIC_TIPS_PER_MINUTE", 10.0, RATE), S("PUBLIC_TIPS_BURST", 5, COUNT)),
    _row("gateway", "reading a tip's status per client IP, counted apart from sending (checking a tip never costs "
         "the right to send); `0` turns it off", S("PUBLIC_TIPS_READS_PER_MINUTE", 30, COUNT)),
    _row("gateway", "where those counts live: unset, each gunicorn worker counts alone (N workers allow up to N×, a "
         "restart forgets); `redis://host:6379/0` shares them between workers and gateways. Optional: nothing else "
         "uses Redis; a store that stops answering (0.5 s) lets requests through, with a warning logged",
         S("RATE_LIMIT_STORAGE_URI", secret=True, note="— (each worker's memory)")),
    _row("gateway", "reverse proxies in front that append `X-Forwarded-For`; the client IP is the Nth entry from the "
         "right", S("PUBLIC_TIPS_TRUSTED_PROXIES", 0, COUNT)),
    _row("make run, seed", "the sandbox channel server (SMTP sink on 2525); demo webhooks point at "
         "`<url>/webhooks/<unit>`", S("SANDBOX_PORT", 8900, PORT), S("SANDBOX_URL", "http://127.0.0.1:8900", HTTP_URL)),
    _row("sandbox", "where the sandbox posts the Zalo and Messenger messages of the citizens it plays",
         S("SANDBOX_GATEWAY_URL", kind=HTTP_URL, note="the gateway under make run (`--gateway-url`)")),
    _row("notify", "Graph API for fanpages and Messenger replies",
         S("FACEBOOK_GRAPH_URL", "https://graph.facebook.com", HTTP_URL, note="sandbox under make run"),
         S("FACEBOOK_GRAPH_VERSION", "v19.0")),
    _row("notify", "Zalo OA API", S("ZALO_OPENAPI_URL", "https://openapi.zalo.me", HTTP_URL,
                                    note="sandbox under make run")),
    _row("notify", "YouTube Data API", S("YOUTUBE_API_URL", "https://www.googleapis.com", HTTP_URL,
                                         note="sandbox under make run")),
    _row("notify", "e-mail channels (`smtp[s]://[user:pass@]host:port`)",
         S("SMTP_URL", "smtp://127.0.0.1:25", _url("smtp", "smtps"), secret=True,
           note="`smtp://127.0.0.1:2525` under make run"),
         S("EMAIL_FROM", "binhyen@localhost")),
    _row("notify", "the demo channels' `credentials_ref`s (a channel's token is read when it is sent to, so a new "
         "token needs no restart)",
         *(S(name, secret=True, note="generated by make run (sandbox-only values)")
           for name in ("FACEBOOK_PAGE_TOKEN", "ZALO_OA_TOKEN", "YOUTUBE_TOKEN", "PARTNER_WEBHOOK_SECRET"))),
    _row("notify", "per-request timeout; connections kept per platform",
         S("HTTP_TIMEOUT_SECONDS", 10.0, SECONDS),
         S("WEBHOOK_TIMEOUT_SECONDS", kind=SECONDS, note="`HTTP_TIMEOUT_SECONDS`"),
         S("HTTP_POOL_SIZE", 64, POSITIVE)),
    _row("notify", "sends in flight per process; deliveries claimed per query; outcomes per bulk write",
         S("DELIVERY_CONCURRENCY", 200, POSITIVE), S("DELIVERY_CLAIM_BATCH", 100, POSITIVE),
         S("DELIVERY_RECORD_BATCH", 100, POSITIVE)),
    _row("notify", "first attempts of a fan-out per batch, taken by one process with one write (`0`: each "
         "delivery claimed alone); only those due within this many seconds go in batches",
         S("DELIVERY_BATCH_SIZE", 50, COUNT), S("DELIVERY_BATCH_WITHIN_SECONDS", 5.0, SECONDS)),
    _row("notify", "a claim not settled by then is taken over; idle polling interval",
         S("DELIVERY_LEASE_SECONDS", 60.0, SECONDS), S("DELIVERY_POLL_SECONDS", 0.5, SECONDS)),
    _row("notify", "sends before `dead`; full-jitter back-off",
         S("DELIVERY_MAX_ATTEMPTS", 6, POSITIVE), S("DELIVERY_BACKOFF_BASE_SECONDS", 2.0, SECONDS),
         S("DELIVERY_BACKOFF_CAP_SECONDS", 300.0, SECONDS)),
    _row("notify", "a send waiting longer for its rate-limit token goes back to the queue",
         S("DELIVERY_MAX_PACE_WAIT_SECONDS", 5.0, SECONDS)),
    _row("notify", "at most one progress event per post this often",
         S("DELIVERY_PROGRESS_SECONDS", 1.0, SECONDS)),
    _row("notify", "token bucket per channel account",
         S("RATE_<TYPE>", kind=RATE, note="facebook_page 3/5, zalo_oa_group 10/10, youtube_channel 0.2/1, "
                                          "webhook 50/100, email 10/20"),
         variables="`RATE_<TYPE>` / `RATE_<TYPE>_BURST`"),
    _row("notify", "manual relay: reminder after this, `overdue` + unit alert after twice this",
         S("RELAY_REMIND_SECONDS", 3600.0, SECONDS)),
    _row("notify", "tokens used to reply to tipsters",
         S("TIPS_REPLY_ZALO_CREDENTIALS_REF", "ZALO_OA_TOKEN"),
         S("TIPS_REPLY_FACEBOOK_CREDENTIALS_REF", "FACEBOOK_PAGE_TOKEN")),
    _row("tips", "initial procedures FAQ, loaded when the FAQ is empty",
         S("TIPS_FAQ_FILE", str(ROOT / "data" / "procedures-faq.json"), FILE)),
)
del S

DEFINED = {setting.name: setting for row in ROWS for setting in row.settings}
# RATE_<TYPE> (per second) and RATE_<TYPE>_BURST, one pair per channel type: a family of names.
RATE_FAMILY = re.compile(r"^RATE_[A-Z][A-Z0-9_]*$")


def is_rate_variable(name):
    return bool(RATE_FAMILY.match(name)) and name not in DEFINED


class Settings(Mapping):
    """The settings of one process, read once: `settings["RPC_TIMEOUT_SECONDS"]` or
    `settings.RPC_TIMEOUT_SECONDS`; a setting that is unset and has no default is None."""

    def __init__(self, process, values, secret_names=()):
        object.__setattr__(self, "_process", process)
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_secrets", frozenset(secret_names))

    def __getitem__(self, name):
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getattr__(self, name):
        if name.startswith("_"):  # copy and pickle look for these before __init__ ran
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{name} is not a setting of {self._process}") from None

    def __setattr__(self, name, value):
        raise AttributeError("settings are read once, at start-up")

    def __repr__(self):
        shown = {name: ("***" if name in self._secrets and value is not None else value)
                 for name, value in self._values.items()}
        return f"Settings({self._process!r}, {shown!r})"

    __str__ = __repr__


def read_secret(name, environ=None):
    """The value of NAME, or of the file NAME_FILE names (which wins); None when neither is set.
    For names chosen at run time (a channel's credentials_ref); settings use `load`."""
    environ = os.environ if environ is None else environ
    path = environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    return environ.get(name) or None


def definitions_for(process):
    """The settings `process` uses ("services": those every service shares)."""
    if process not in (*PROCESSES, "services"):
        raise ValueError(f"unknown process {process!r}: one of {', '.join(PROCESSES)}, services")
    return [setting for row in ROWS if row.applies_to(process) for setting in row.settings]


def load(process, *, environ=None, overrides=None):
    """The settings of `process`: `overrides` (a nameko container's config, a Flask app's
    config) first, then the environment, then the defaults. Raises SettingsError naming
    every variable whose value cannot be used."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    values, secrets, problems = {}, set(), []
    for setting in definitions_for(process):
        if setting.name == "RATE_<TYPE>":
            names = sorted({n for n in (*environ, *overrides) if is_rate_variable(n)})
            for name in names:
                kind = POSITIVE if name.endswith("_BURST") else RATE
                raw = overrides.get(name)
                raw = environ.get(name) if raw in (None, "") else raw
                if raw in (None, ""):
                    continue
                try:
                    values[name] = kind(str(raw))
                except (ValueError, TypeError):
                    problems.append(f"{name}={str(raw)!r}: expected {kind.expects}")
            continue
        name, source, raw = setting.name, setting.name, overrides.get(setting.name)
        if setting.secret:
            secrets.add(name)
        if raw in (None, "") and setting.secret and environ.get(f"{name}_FILE"):
            source = f"{name}_FILE"
            try:
                raw = read_secret(name, environ)
            except OSError as exc:
                problems.append(f"{source}={environ[source]!r}: cannot read the file ({type(exc).__name__})")
                continue
        if raw in (None, ""):
            raw = environ.get(name)
        if raw in (None, ""):
            if setting.required:
                problems.append(f"{name} is not set: expected {setting.kind.expects}"
                                + (f" (or {name}_FILE)" if setting.secret else ""))
            values[name] = setting.default
            continue
        try:
            values[name] = setting.kind(str(raw))
        except (ValueError, TypeError):
            shown = "" if setting.secret else f"={str(raw)!r}"  # a secret's value is never repeated
            problems.append(f"{source}{shown}: expected {setting.kind.expects}")
    if problems:
        raise SettingsError(process, problems)
    return Settings(process, values, secrets)


# --- README.md's configuration table -------------------------------------------------------------

TABLE_START = "<!-- settings table: python -m tools.settings_table writes it from contracts/settings.py -->"
TABLE_END = "<!-- end of settings table -->"


def markdown_table():
    lines = ["| variable | default | used by | meaning |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in ROWS]
    return "\n".join(lines)


def with_table(readme_text):
    """README text with the table between the markers replaced by the one the definitions make."""
    before, start, rest = readme_text.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not start or not end:
        raise ValueError("README.md has no settings table markers")
    return f"{before}{TABLE_START}\n{markdown_table()}\n{TABLE_END}{after}"
