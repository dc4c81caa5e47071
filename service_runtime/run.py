"""Start one service: `python -m service_runtime.run groups`.

The same as `nameko run --config config/nameko.yaml services.groups.service:GroupsService`,
with the service name in every log line and eventlet's deprecation banner silenced.
"""
import os
import sys
import warnings
from pathlib import Path

SERVICES = {
    "groups": "services.groups.service:GroupsService",
    "posts": "services.posts.service:PostsService",
    "notify": "services.notify.service:NotifyService",
    "tips": "services.tips.service:TipsService",
}

CONFIG = Path(__file__).resolve().parent.parent / "config" / "nameko.yaml"


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    if len(argv) != 1 or argv[0] not in SERVICES:
        sys.exit(f"usage: python -m service_runtime.run {{{'|'.join(SERVICES)}}}")
    name = argv[0]
    from contracts.settings import SettingsError, load
    try:
        load(name)  # every setting checked before anything starts: one message naming each bad one
    except SettingsError as exc:
        sys.exit(str(exc))
    os.environ.setdefault("SERVICE_NAME", name)
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from nameko.cli.main import main as nameko_main
    sys.argv = ["nameko", "run", "--config", str(CONFIG), SERVICES[name]]
    nameko_main()


if __name__ == "__main__":
    main()
