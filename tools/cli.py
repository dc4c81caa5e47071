"""`binhyen`: the operator's command line.

  binhyen health SERVICE    ask a service's health() over RPC; exit 0 when it is ok
                            (the container healthcheck in docker-compose)
"""
import argparse
import json
import sys
import warnings


def health(args):
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from nameko.standalone.rpc import ClusterRpcProxy
    from service_runtime.config import service_config
    try:
        with ClusterRpcProxy(service_config(), timeout=args.timeout) as rpc:
            report = getattr(rpc, args.service).health()
    except Exception as exc:
        print(json.dumps({"service": args.service, "status": "down", "error": type(exc).__name__}))
        return 1
    print(json.dumps(report, ensure_ascii=False))
    return 0 if report["status"] == "ok" else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="binhyen", description="Bình Yên operator tools")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("health", help="a service's health report (exit 1 unless ok)")
    check.add_argument("service", choices=["groups", "posts", "notify", "tips"])
    check.add_argument("--timeout", type=float, default=5.0)
    check.set_defaults(run=health)
    args = parser.parse_args(argv)
    sys.exit(args.run(args))


if __name__ == "__main__":
    main()
