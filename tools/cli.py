"""`binhyen`: the operator's command line. It talks to the services over RPC, so it runs
wherever the broker is reachable (`docker compose exec groups binhyen ...`).

  binhyen health SERVICE            a service's health() (exit 0 only when ok; the container healthcheck)
  binhyen seed [--scale province]   load the Ninh Bình demo data (idempotent)
  binhyen create-admin USERNAME     create an admin; the password is read from BINHYEN_NEW_PASSWORD or asked
  binhyen outbox                    each service's unpublished events and the age of the oldest
  binhyen replay-dead [--post ID]   send dead deliveries again (all, or one post's)
  binhyen retriage TIP_ID           run triage again on a tip and show the new suggestion
  binhyen triage export-labels [--since DATE] [--until DATE] [--out FILE]
                                    officers' corrections as labelled tips (JSONL, the data files' format),
                                    for python -m services.tips.train --extra FILE
  binhyen triage report [--days N | --since DATE] [--until DATE]
                                    corrections per field and (from -> to) pair: where triage is wrong
"""
import argparse
import getpass
import json
import os
import sys
import warnings

SERVICES = ("groups", "posts", "notify", "tips")


def operator():
    """Who is acting, for the services' audit: the operating-system user at this console."""
    return {"id": f"cli:{getpass.getuser()}", "username": getpass.getuser(), "roles": ["admin"], "unit_id": None}


def cluster(timeout):
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import contracts.rpc  # noqa: F401  (domain errors arrive as themselves)
    from nameko.standalone.rpc import ClusterRpcProxy
    from service_runtime.config import service_config
    return ClusterRpcProxy(service_config(), timeout=timeout)


def show(value):
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def health(args):
    try:
        with cluster(args.timeout) as rpc:
            report = getattr(rpc, args.service).health()
    except Exception as exc:
        show({"service": args.service, "status": "down", "error": type(exc).__name__})
        return 1
    show(report)
    return 0 if report["status"] == "ok" else 1


def seed(args):
    from tools.seed import seed as load
    show(load(args.scale))
    return 0


def create_admin(args):
    password = os.environ.get("BINHYEN_NEW_PASSWORD") or getpass.getpass("Mật khẩu / password: ")
    with cluster(args.timeout) as rpc:
        show(rpc.groups.create_officer(operator(), {"username": args.username, "password": password,
                                                    "full_name": args.full_name, "roles": ["admin"],
                                                    "unit_id": None}))
    return 0


def outbox(args):
    worst = 0
    with cluster(args.timeout) as rpc:
        for name in SERVICES:
            try:
                report = getattr(rpc, name).health()["outbox"]
            except Exception as exc:
                report = {"error": type(exc).__name__}
                worst = 1
            print(f"{name:8} pending={report.get('pending')} oldest_age_s={report.get('oldest_age_seconds')}"
                  + (f" error={report['error']}" if "error" in report else ""))
    return worst


def replay_dead(args):
    query = {"status": "dead", "limit": 500}
    if args.post:
        query["post_id"] = args.post
    replayed = 0
    with cluster(args.timeout) as rpc:
        while True:
            page = rpc.notify.list_deliveries(query)
            for delivery in page["items"]:
                rpc.notify.retry_delivery(operator(), delivery["id"])
                replayed += 1
            if not page.get("next_cursor"):
                break
            query["cursor"] = page["next_cursor"]
    print(f"{replayed} dead deliveries queued again")
    return 0


def retriage(args):
    with cluster(args.timeout) as rpc:
        tip = rpc.tips.retriage(operator(), args.tip_id)
    show({"tip_id": tip["id"], "current": {k: tip.get(k) for k in ("category", "urgency", "ward")},
          "suggestion": tip.get("retriage")})
    return 0


def _period(args):
    from datetime import datetime, timedelta, timezone
    query = {}
    if getattr(args, "days", None):
        query["since"] = (datetime.now(timezone.utc) - timedelta(days=args.days)).isoformat()
    for key in ("since", "until"):
        value = getattr(args, key, None)
        if value:
            query[key] = value if "T" in value else f"{value}T00:00:00+07:00"  # a date: local midnight
    return query


def export_labels(args):
    with cluster(args.timeout) as rpc:
        labels = rpc.tips.triage_corrections(operator(), _period(args))["labels"]
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    try:
        for row in labels:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if args.out:
            out.close()
    print(f"{len(labels)} labelled tips" + (f" written to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def triage_report(args):
    period = _period(args)
    with cluster(args.timeout) as rpc:
        report = rpc.tips.triage_corrections(operator(), period)
    print(f"triage corrections {period.get('since', 'from the start')} .. {period.get('until', 'now')}: "
          f"{len(report['corrections'])} corrections of {len(report['labels'])} tips")
    print(f"{'field':<9} {'triage said':<20} {'officer set':<20} {'n':>4}")
    for field, before, after, n in report["pairs"]:
        print(f"{field:<9} {str(before):<20} {str(after):<20} {n:>4}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="binhyen", description="Bình Yên operator tools")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a service")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("health", help="a service's health report (exit 1 unless ok)")
    check.add_argument("service", choices=SERVICES)
    check.set_defaults(run=health, timeout=5.0)
    demo = commands.add_parser("seed", help="load the Ninh Bình demo data")
    demo.add_argument("--scale", choices=["city", "province"], default="city")
    demo.set_defaults(run=seed)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("username")
    admin.add_argument("--full-name", default="Quản trị hệ thống")
    admin.set_defaults(run=create_admin)
    commands.add_parser("outbox", help="unpublished events per service").set_defaults(run=outbox)
    dead = commands.add_parser("replay-dead", help="send dead deliveries again")
    dead.add_argument("--post", help="only this post's deliveries")
    dead.set_defaults(run=replay_dead)
    again = commands.add_parser("retriage", help="run triage again on a tip")
    again.add_argument("tip_id")
    again.set_defaults(run=retriage)
    learn = commands.add_parser("triage", help="officers' triage corrections").add_subparsers(
        dest="triage_command", required=True)
    export = learn.add_parser("export-labels", help="corrections as labelled tips (JSONL)")
    export.add_argument("--since", help="ISO date or date-time (a date: midnight Asia/Ho_Chi_Minh)")
    export.add_argument("--until")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.set_defaults(run=export_labels)
    report = learn.add_parser("report", help="corrections per category/urgency/ward pair over a period")
    report.add_argument("--days", type=int, default=None, help="the last N days (default: all)")
    report.add_argument("--since")
    report.add_argument("--until")
    report.set_defaults(run=triage_report)
    args = parser.parse_args(argv)
    sys.exit(args.run(args))


if __name__ == "__main__":
    main()
