"""`make run`: the whole system on one machine, on embedded defaults.

Uses the RabbitMQ at AMQP_URI (starting a local rabbitmq-server if one is installed and
none answers), a SecantusDB server with its data under .data/ unless MONGODB_URI is set,
then starts the four services and the gateway, waits for /readyz, prints where to go and
how to log in, and stops everything on Ctrl-C. Safe to run again: secrets and data are
kept in .data/ and every start-up step is idempotent.
"""
import base64
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bench.stack import port_open
from service_runtime.config import broker_urls
from services.tips.vault import generate_key

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
LOCAL_ENV = DATA / "local.env"
BIN = Path(sys.executable).parent
LOCAL_MONGO_PORT = 27117
SERVICES = ("groups", "posts", "notify", "tips")
COLOURS = ("36", "33", "35", "32", "34", "31")
# Who to sign in as to try each job (services/groups/domain.py makes them).
DEMO_OFFICERS = (
    ("kiemduyet1", "Ban kiểm duyệt / admin board: approves, schedules, publishes, retracts"),
    ("kiemduyet2", "Ban kiểm duyệt / admin board: the second approval of a wanted notice"),
    ("bientap", "biên tập viên / editor: writes posts"),
    ("tiepnhan", "tiếp nhận tin báo / triage officer: the tip inbox"),
    ("canbo.ninh-khanh", "công an phường Ninh Khánh / ward operator: Zalo relay tasks, the ward's tips and channels"),
    ("thanhtra", "thanh tra / auditor: reads everything"),
)


def say(msg):
    print(f"\033[1m[make run]\033[0m {msg}", flush=True)


def local_env():
    """Secrets for this machine's stack, made once and kept (mode 600) in .data/local.env."""
    DATA.mkdir(exist_ok=True)
    values = {}
    if LOCAL_ENV.exists():
        for line in LOCAL_ENV.read_text().splitlines():
            key, _, value = line.partition("=")
            if key and not key.startswith("#"):
                values[key] = value
    wanted = {
        "BINHYEN_JWT_SECRET": lambda: secrets.token_urlsafe(48),
        "BINHYEN_ADMIN_USERNAME": lambda: "admin",
        "BINHYEN_ADMIN_PASSWORD": lambda: secrets.token_urlsafe(12),
        "BINHYEN_DEMO_PASSWORD": lambda: secrets.token_urlsafe(9),
        # The demo channels' credentials_ref names: tokens the sandbox accepts (never real ones).
        "FACEBOOK_PAGE_TOKEN": lambda: "sandbox-" + secrets.token_urlsafe(24),
        "ZALO_OA_TOKEN": lambda: "sandbox-" + secrets.token_urlsafe(24),
        "YOUTUBE_TOKEN": lambda: "sandbox-" + secrets.token_urlsafe(24),
        "PARTNER_WEBHOOK_SECRET": lambda: "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        # The Zalo OA and Facebook page webhooks: the sandbox signs citizens' messages with these
        # as the platforms would, so chat intake works locally.
        "ZALO_APP_ID": lambda: str(10**17 + secrets.randbelow(9 * 10**17)),  # Zalo app ids are digits
        "ZALO_OA_SECRET_KEY": lambda: "sandbox-" + secrets.token_urlsafe(24),
        "FACEBOOK_APP_SECRET": lambda: "sandbox-" + secrets.token_hex(16),
        "FACEBOOK_VERIFY_TOKEN": lambda: "sandbox-" + secrets.token_urlsafe(16),
        "TIPS_VAULT_KEY": generate_key,
    }
    changed = False
    for key, make in wanted.items():
        if key not in values:
            values[key] = make()
            changed = True
    if changed:
        LOCAL_ENV.write_text("# made by `make run` for this machine only; never commit\n" +
                             "".join(f"{k}={v}\n" for k, v in values.items()))
        LOCAL_ENV.chmod(0o600)
    return values


def ensure_rabbitmq(amqp_uri):
    brokers = [urlsplit(url) for url in broker_urls(amqp_uri)]
    if any(port_open(parts.port or 5672, parts.hostname or "127.0.0.1") for parts in brokers):
        return
    host, port = brokers[0].hostname or "127.0.0.1", brokers[0].port or 5672
    server = shutil.which("rabbitmq-server") or ("/usr/sbin/rabbitmq-server"
                                                 if Path("/usr/sbin/rabbitmq-server").exists() else None)
    if server is None or host not in ("127.0.0.1", "localhost"):
        sys.exit(f"No RabbitMQ answers at {host}:{port}. Install one (Debian: `apt-get install "
                 "rabbitmq-server`; or `docker run -p 5672:5672 rabbitmq:3.13-management`) "
                 "or set AMQP_URI to a running broker.")
    say("starting the local rabbitmq-server")
    subprocess.run([server, "-detached"], check=False)
    subprocess.run(["rabbitmqctl", "await_startup"], check=True, timeout=120)


def ensure_mongodb(env):
    """MONGODB_URI if given; otherwise a SecantusDB server with its data in .data/mongo."""
    if env.get("MONGODB_URI"):
        return env["MONGODB_URI"], None
    uri = f"mongodb://127.0.0.1:{LOCAL_MONGO_PORT}/?directConnection=true"
    if port_open(LOCAL_MONGO_PORT):
        say(f"reusing the MongoDB-wire server already on port {LOCAL_MONGO_PORT}")
        return uri, None
    say("starting SecantusDB (data in .data/mongo)")
    log = open(DATA / "secantusdb.log", "ab")
    proc = subprocess.Popen([str(BIN / "secantusd-py"), "--host", "127.0.0.1", "--port",
                             str(LOCAL_MONGO_PORT), "--storage-path", str(DATA / "mongo"),
                             "--log-level", "WARNING"], stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while not port_open(LOCAL_MONGO_PORT):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit("SecantusDB did not start: see .data/secantusdb.log")
        time.sleep(0.3)
    return uri, proc


def pipe_output(name, colour, stream):
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        print(f"\033[{colour}m{name:>8} |\033[0m {line}", flush=True)


def main():
    env = dict(os.environ)
    env.update({k: v for k, v in local_env().items() if k not in os.environ})
    env.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    env.setdefault("GATEWAY_PORT", "8000")
    # Every channel adapter talks to the local sandbox unless told otherwise.
    env.setdefault("SANDBOX_PORT", "8900")
    sandbox_url = f"http://127.0.0.1:{env['SANDBOX_PORT']}"
    for name in ("SANDBOX_URL", "FACEBOOK_GRAPH_URL", "ZALO_OPENAPI_URL", "YOUTUBE_API_URL"):
        env.setdefault(name, sandbox_url)
    env.setdefault("SMTP_URL", "smtp://127.0.0.1:2525")
    env["PYTHONPATH"] = str(ROOT)
    port = int(env["GATEWAY_PORT"])
    url = f"http://127.0.0.1:{port}"
    if port_open(port):
        sys.exit(f"Port {port} is taken (another `make run`?). Stop it or set GATEWAY_PORT.")

    ensure_rabbitmq(env["AMQP_URI"])
    env["MONGODB_URI"], mongo_proc = ensure_mongodb(env)

    commands = {name: [sys.executable, "-m", "service_runtime.run", name] for name in SERVICES}
    commands["gateway"] = [str(BIN / "gunicorn"), "-c", str(ROOT / "gateway" / "gunicorn.conf.py"),
                           "gateway.wsgi:app"]
    # The sandbox also plays citizens writing on Zalo and Messenger: it posts to the gateway.
    commands["sandbox"] = [sys.executable, "-m", "sandbox.server", "--port", env["SANDBOX_PORT"],
                           "--smtp-port", "2525", "--gateway-url", url]
    procs = {}
    metrics_ports = {name: 9101 + i for i, name in enumerate(SERVICES)}  # gateway: its own /metrics
    for (name, command), colour in zip(commands.items(), COLOURS):
        proc_env = dict(env, METRICS_PORT=str(metrics_ports[name])) if name in metrics_ports else env
        proc = subprocess.Popen(command, env=proc_env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        procs[name] = proc
        threading.Thread(target=pipe_output, args=(name, colour, proc.stdout), daemon=True).start()

    def stop(*_):
        say("stopping")
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if mongo_proc is not None:
            mongo_proc.terminate()
            mongo_proc.wait(timeout=15)
        say("stopped")
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
                if response.status == 200:
                    break
        except Exception:
            pass
        dead = [name for name, proc in procs.items() if proc.poll() is not None]
        if dead or time.monotonic() > deadline:
            say(f"not ready ({'exited: ' + ', '.join(dead) if dead else 'timed out'}); see the log above")
            stop()
        time.sleep(1)

    os.environ.update({k: env[k] for k in ("AMQP_URI", "MONGODB_URI", "BINHYEN_DEMO_PASSWORD", "SANDBOX_URL")})
    from tools.seed import seed
    loaded = seed(env.get("DEMO_SCALE", "city"))
    say(f"demo data: {loaded}")
    say("ready ✔")
    say(f"  staff console:  {url}/console/   (Vietnamese; English in the header)")
    say(f"  citizens:       {url}/   (news, send a tip: {url}/gui-tin-bao, follow it up: {url}/tra-cuu)")
    say(f"  administrator:  {env['BINHYEN_ADMIN_USERNAME']} / {env['BINHYEN_ADMIN_PASSWORD']}   (kept in .data/local.env)")
    say(f"  demo officers, password {env['BINHYEN_DEMO_PASSWORD']}:")
    for username, job in DEMO_OFFICERS:
        say(f"    {username:<18} {job}")
    say(f"  sandbox:        {sandbox_url}/_sandbox/   (what every fanpage, Zalo group and partner received; "
        "write there as a citizen on Zalo or Messenger and see the police's replies)")
    say(f"  API:            {url}/api/v1/openapi.json   (readiness: {url}/readyz)")
    say("Ctrl-C stops everything.")
    while True:
        for name, proc in procs.items():
            if proc.poll() is not None:
                say(f"{name} exited with {proc.returncode}")
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
