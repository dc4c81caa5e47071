"""gunicorn entry point: `gunicorn -c gateway/gunicorn.conf.py gateway.wsgi:app`."""
from service_runtime import logs
from service_runtime.config import env

logs.configure("gateway", env("LOG_LEVEL", "INFO"))

from gateway.app import create_app  # noqa: E402

app = create_app()
