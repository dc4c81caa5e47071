"""gunicorn entry point: `gunicorn -c gateway/gunicorn.conf.py gateway.wsgi:app`."""
from contracts.settings import load
from service_runtime import logs

logs.configure("gateway", load("gateway").LOG_LEVEL)  # a bad setting stops here, naming itself

from gateway.app import create_app  # noqa: E402

app = create_app()
