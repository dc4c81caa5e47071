"""Audience resolution over 10,000 channels: how long a preview takes.

    .venv/bin/python bench/audience.py [--channels 10000] [--repeat 50]

Prints p50/p99 of (1) the pure resolution over the in-memory directory and (2) the whole
`groups.resolve_audience` RPC a moderator's preview goes through (broker round trip,
directory version check in MongoDB, resolution, first 200 channels serialised). Uses the
RabbitMQ at AMQP_URI and a throw-away SecantusDB (or MONGODB_URI), in a database prefix
of its own that it drops afterwards.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymongo  # noqa: E402

from services.groups import domain  # noqa: E402

SPECS = {
    "boarding houses in Ninh Khánh": {"kinds": ["boarding_house"], "wards": ["ninh-khanh"]},
    "every Zalo group": {"channel_types": ["zalo_oa_group", "zalo_group_manual"]},
    "the whole city police subtree": {"units": ["catp"]},
}


def synthetic_directory(reference, n):
    demo = domain.demo_directory(reference, "province")
    units = [dict(u, active=True) for u in demo["units"]]
    wards = [u for u in units if u["kind"] == "ward_police"]
    channels = []
    for i in range(n):
        unit = wards[i % len(wards)]
        channels.append({"id": f"zalo-oa-group-{i:08d}", "name": f"Nhóm {i}", "type": "zalo_oa_group" if i % 5 else
                         "zalo_group_manual", "unit_id": unit["id"], "kind": domain.ZALO_KINDS[i % 9],
                         "ward": unit["ward"], "status": "active", "external_id": f"zg{i}"})
    return units, channels


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--channels", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    measure(args.channels, args.repeat, verbose=True)


def measure(n_channels=10000, repeat=50, verbose=False):
    """{audience label: (pure p50, pure p99, rpc p50, rpc p99, count)} in milliseconds."""
    import json
    args = argparse.Namespace(channels=n_channels, repeat=repeat)
    results = {}
    reference = json.loads((Path(__file__).resolve().parent.parent / "data" / "ninh-binh.json").read_text())
    units, channels = synthetic_directory(reference, args.channels)

    if verbose:
        print(f"audience resolution over {len(channels)} channels ({args.repeat} runs each)")
        print(f"{'audience':34} {'pure p50 ms':>12} {'pure p99 ms':>12} {'RPC p50 ms':>11} {'RPC p99 ms':>11} "
              f"{'count':>7}")

    storage, server = None, None
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        storage = tempfile.mkdtemp(prefix="bench-secantus-")
        port = 27000 + os.getpid() % 1000
        server = subprocess.Popen([str(Path(sys.executable).parent / "secantusd-py"), "--host", "127.0.0.1",
                                   "--port", str(port), "--storage-path", storage, "--log-level", "WARNING"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=30000)
    client.admin.command("ping")
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    db = client[f"{prefix}groups"]
    db.units.insert_many([{"_id": u["id"], **{k: v for k, v in u.items() if k != "id"}} for u in units])
    db.channels.insert_many([{"_id": c["id"], **{k: v for k, v in c.items() if k != "id"}, "delivery": "api"}
                             for c in channels])

    from nameko.runners import ServiceRunner
    from nameko.standalone.rpc import ClusterRpcProxy
    from service_runtime.config import service_config
    from services.groups.service import GroupsService
    config = service_config(MONGODB_URI=uri, MONGODB_DB_PREFIX=prefix)
    runner = ServiceRunner(config)
    runner.add_service(GroupsService)
    runner.start()
    try:
        with ClusterRpcProxy(config, timeout=30) as rpc:
            rpc.groups.resolve_audience({"units": ["catp"]}, 0)  # warm the directory cache
            for label, spec in SPECS.items():
                pure = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    result = domain.resolve_audience(dict(spec, include_descendants=True), channels, units)
                    pure.append((time.perf_counter() - started) * 1000)
                remote = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    rpc.groups.resolve_audience(spec)
                    remote.append((time.perf_counter() - started) * 1000)
                p50, p99 = percentiles(pure)
                r50, r99 = percentiles(remote)
                results[label] = (p50, p99, r50, r99, result["count"])
                if verbose:
                    print(f"{label:34} {p50:12.1f} {p99:12.1f} {r50:11.1f} {r99:11.1f} {result['count']:7d}")
    finally:
        runner.kill()
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
        if server:
            server.terminate()
            server.wait(timeout=15)
            shutil.rmtree(storage, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
