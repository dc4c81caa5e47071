"""Load the Ninh Bình demo data through the groups service: `python -m tools.seed [--scale province]`.

Units, partner units, one demo officer per role (password from BINHYEN_DEMO_PASSWORD)
and the channel set matching the published figures. Loading twice changes nothing.
"""
import argparse
import json
import warnings

from contracts.settings import load
from service_runtime.config import service_config


def seed(scale="city", timeout=120):
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from nameko.standalone.rpc import ClusterRpcProxy
    settings = load("seed")
    with ClusterRpcProxy(service_config(), timeout=timeout) as rpc:
        return rpc.groups.load_demo_data(scale, settings.BINHYEN_DEMO_PASSWORD, settings.SANDBOX_URL)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["city", "province"], default="city")
    args = parser.parse_args(argv)
    print(json.dumps(seed(args.scale), ensure_ascii=False))


if __name__ == "__main__":
    main()
