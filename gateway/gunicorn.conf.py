# gunicorn 27 has no eventlet worker: gthread workers, each with its own RPC proxy pool
# (created lazily after fork, see gateway/rpc.py). Never preload the app: the pool must
# not be shared across fork.
import os

from contracts.settings import load

settings = load("gateway")  # a bad setting stops the server before it forks, naming itself
bind = f"{settings.GATEWAY_HOST}:{settings.GATEWAY_PORT}"
worker_class = "gthread"
workers = settings.GATEWAY_WORKERS
threads = settings.GATEWAY_THREADS
timeout = 30
graceful_timeout = 10
preload_app = False
accesslog = None  # requests are logged as JSON by the app


# Each worker writes its metrics here; /metrics sums them (prometheus_client multiprocess).
metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", f"/tmp/binhyen-gateway-metrics-{os.getpid()}")
os.makedirs(metrics_dir, exist_ok=True)
for stale in os.listdir(metrics_dir):
    os.remove(os.path.join(metrics_dir, stale))


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
