"""RabbitMQ nodes of the installed server on this machine: one private node (the test suite's
reliability run), or a cluster of three, to try the system against a broker that loses a node.

    .venv/bin/python -m tools.cluster start     # three nodes, clustered; prints the AMQP_URI to use
    .venv/bin/python -m tools.cluster status    # each node: running or not, and the cluster's view
    .venv/bin/python -m tools.cluster stop-node 2 / start-node 2    # lose a node, bring it back
    .venv/bin/python -m tools.cluster stop      # stops the nodes and removes their data
    (make cluster / make cluster-stop)

Each node has its own name (`<prefix>-<n>@localhost`), AMQP port (its rabbitmq.conf), Erlang
distribution port (RABBITMQ_DIST_PORT) and data directory (RABBITMQ_MNESIA_BASE, logs, pid
file), and runs as the `rabbitmq` user (so this needs root or that user), which gives them one
Erlang cookie: the user's own. The second and third nodes join the first
(`rabbitmqctl join_cluster`) before anything declares a queue, so every quorum queue has a
member on each node. Run the system on it with the URI `start` prints (every node, `;`
between them: clients connect to the first that answers and move on when it goes away) and
RABBITMQ_QUEUE_TYPE=quorum, which is what keeps messages when a node is lost.
"""
import argparse
import json
import os
import pwd
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.stack import port_open

CTL_TIMEOUT = 120


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def free_port():
    # Below Linux's ephemeral range, where the CLI tools' own Erlang nodes listen.
    for _ in range(200):
        port = random.randint(20000, 32000)
        if not port_open(port) and not port_open(port + 1):
            return port
    raise RuntimeError("no free port for a RabbitMQ node")


def ctl(command, *args, timeout=CTL_TIMEOUT, check=True):
    return subprocess.run([*command, "-q", *args], check=check, capture_output=True, text=True, timeout=timeout)


def server_path():
    return shutil.which("rabbitmq-server") or ("/usr/sbin/rabbitmq-server"
                                               if Path("/usr/sbin/rabbitmq-server").exists() else None)


def unavailable():
    """Why a node of our own cannot be started here (None: it can)."""
    if server_path() is None:
        return "rabbitmq-server is not installed"
    try:
        user = pwd.getpwnam("rabbitmq")
    except KeyError:
        return "no rabbitmq user"
    if os.geteuid() not in (0, user.pw_uid):
        return "needs root or the rabbitmq user (rabbitmq-server runs as rabbitmq)"
    return None


def give_to_rabbitmq(*paths):
    """The server drops to the rabbitmq user, which must own its directories."""
    if os.geteuid() == 0:
        user = pwd.getpwnam("rabbitmq")
        for path in paths:
            for each in ([path] if isinstance(path, Path) else path):
                os.chown(each, user.pw_uid, user.pw_gid)


def reap_stale(pattern):
    """Stop nodes whose name matches `pattern` (group 1: the name, group 2: the pid of the run
    that started them) when that run's process is gone."""
    epmd = shutil.which("epmd")
    if epmd is None:
        return
    names = subprocess.run([epmd, "-names"], capture_output=True, text=True, timeout=30).stdout
    for match in re.finditer(rf"^name ({pattern}) at port", names, re.M):
        if not pid_alive(int(match.group(2))):
            ctl(["rabbitmqctl", "-n", f"{match.group(1)}@localhost"], "stop", check=False, timeout=60)


class Node:
    """One RabbitMQ node: its name, ports and directory. `start()` boots it (again, on the same
    data, after `stop()`); `close()` stops it for good."""

    def __init__(self, name, directory, amqp_port=None, dist_port=None):
        self.name = name if "@" in name else f"{name}@localhost"
        self.dir = Path(directory)
        self.amqp_port = amqp_port or free_port()
        self.dist_port = dist_port or free_port()
        self.command = ["rabbitmqctl", "-n", self.name]
        self.proc = None

    def uri(self, vhost=""):
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/{vhost}"

    def running(self):
        return port_open(self.amqp_port)

    def start(self, timeout=90):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        give_to_rabbitmq(self.dir, self.dir.rglob("*"))
        env = dict(os.environ, RABBITMQ_NODENAME=self.name, RABBITMQ_DIST_PORT=str(self.dist_port), RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
                   RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
                   RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"), RABBITMQ_LOG_BASE=str(self.dir / "log"),
                   RABBITMQ_PID_FILE=str(self.dir / "pid"),
                   RABBITMQ_PLUGINS_EXPAND_DIR=str(self.dir / "plugins-expand"),
                   ERL_CRASH_DUMP=str(self.dir / "erl_crash.dump"))
        with open(self.dir / "server.log", "ab") as out:
            self.proc = subprocess.Popen([server_path()], env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.running():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ node {self.name} did not start: see {self.dir}/server.log and "
                                   f"{self.dir}/log")
            time.sleep(0.2)
        ctl(self.command, "await_startup", "--timeout", "60", timeout=90)

    def stop(self):
        """Stop the node (the Erlang VM too), keeping its data."""
        ctl(self.command, "stop", timeout=60, check=False)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        pid_file = self.dir / "pid"
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text().strip())
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None

    def close(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    """`size` nodes named <prefix>-1 .. <prefix>-<size>, clustered, their data under `directory`."""

    def __init__(self, prefix, size=3, directory=None, base_port=None):
        self.prefix = prefix
        self.dir = Path(directory or tempfile.mkdtemp(prefix=f"{prefix}-"))
        self.nodes = [Node(f"{prefix}-{n}", self.dir / f"node{n}",
                           base_port + n - 1 if base_port else None,
                           base_port + 20000 + n - 1 if base_port else None) for n in range(1, size + 1)]

    def uri(self, vhost=""):
        """Every node, `;` between them (kombu's failover list)."""
        return ";".join(node.uri(vhost) for node in self.nodes)

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        give_to_rabbitmq(self.dir)
        first, *others = self.nodes
        first.start()
        for node in others:
            node.start()
            ctl(node.command, "stop_app")
            ctl(node.command, "join_cluster", first.name)
            ctl(node.command, "start_app")
            ctl(node.command, "await_startup", "--timeout", "60", timeout=90)
        running = self.running_nodes()
        if len(running) != len(self.nodes):
            raise RuntimeError(f"the cluster has {len(running)} running nodes, not {len(self.nodes)}: {running}")

    def live(self):
        """A node that answers (for rabbitmqctl commands about the whole cluster)."""
        for node in self.nodes:
            if node.running():
                return node
        raise RuntimeError("no node of the cluster is running")

    def running_nodes(self):
        status = json.loads(ctl(self.live().command, "cluster_status", "--formatter", "json").stdout)
        return sorted(status.get("running_nodes", []))

    def await_member(self, node, timeout=120):
        """Wait until `node` runs as a member of the cluster again."""
        deadline = time.monotonic() + timeout
        while node.name not in self.running_nodes():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.name} did not rejoin the cluster within {timeout} s")
            time.sleep(1)

    def leaders(self, vhost):
        """How many quorum queues of `vhost` each node leads."""
        rows = json.loads(ctl(self.live().command, "list_queues", "-p", vhost, "name", "type", "leader",
                              "--formatter", "json").stdout)
        return Counter(row["leader"] for row in rows if row.get("type") == "quorum" and row.get("leader"))

    def node(self, name):
        return next(node for node in self.nodes if node.name == name or node.name.split("@")[0] == name)

    def close(self, keep=False):
        for node in reversed(self.nodes):
            node.close(keep=True)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- the command line (make cluster): a cluster that outlives this process ------------------------

PREFIX = "binhyen-cluster"
STATE_DIR = Path(tempfile.gettempdir()) / PREFIX
BASE_PORT = 5681


def _cluster():
    return Cluster(PREFIX, directory=STATE_DIR, base_port=BASE_PORT)


def main(argv=None):
    parser = argparse.ArgumentParser(description="A local three-node RabbitMQ cluster")
    parser.add_argument("action", choices=["start", "status", "stop", "stop-node", "start-node"])
    parser.add_argument("node", nargs="?", type=int, help="1, 2 or 3 (stop-node, start-node)")
    args = parser.parse_args(argv)
    cluster = _cluster()
    if args.action == "start":
        reason = unavailable()
        if reason:
            sys.exit(f"cannot start RabbitMQ nodes here: {reason}")
        if any(node.running() for node in cluster.nodes):
            sys.exit(f"already running (ports {BASE_PORT}-{BASE_PORT + 2}): `python -m tools.cluster stop` first")
        cluster.start()
        print(f"three nodes clustered: {', '.join(n.name for n in cluster.nodes)} (data in {cluster.dir})")
        print(f"export AMQP_URI='{cluster.uri()}'")
        print("export RABBITMQ_QUEUE_TYPE=quorum")
        return 0
    if args.action == "status":
        for node in cluster.nodes:
            print(f"{node.name}  amqp {node.amqp_port}  {'running' if node.running() else 'stopped'}")
        try:
            print("running in the cluster:", ", ".join(cluster.running_nodes()))
        except (RuntimeError, subprocess.SubprocessError) as exc:
            print(f"cluster status unavailable: {exc}")
        return 0
    if args.action == "stop":
        cluster.close()
        print("stopped; data removed")
        return 0
    if args.node not in range(1, len(cluster.nodes) + 1):
        parser.error("name the node: 1, 2 or 3")
    node = cluster.nodes[args.node - 1]
    if args.action == "stop-node":
        node.stop()
        print(f"{node.name} stopped")
    else:
        node.start()
        print(f"{node.name} running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
