# gunicorn 27 has no eventlet worker: gthread workers, each with its own RPC proxy pool
# (created lazily after fork, see gateway/rpc.py). Never preload the app: the pool must
# not be shared across fork.
import os

bind = f"{os.environ.get('GATEWAY_HOST', '127.0.0.1')}:{os.environ.get('GATEWAY_PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
timeout = 30
graceful_timeout = 10
preload_app = False
accesslog = None  # requests are logged as JSON by the app
