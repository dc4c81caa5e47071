# Eventlet must patch sockets, threads and time before anything imports them:
# nameko's containers run on eventlet, and without the patch integration tests hang.
# The browser tests (tests/e2e) are the exception: Playwright's driver does not survive the
# patch, and they need no nameko in this process (the system runs as OS processes). They run
# as a separate pass: BINHYEN_BROWSER_TESTS=1 pytest tests/e2e (`make test` runs both).
import os
import warnings

BROWSER_PASS = os.environ.get("BINHYEN_BROWSER_TESTS") == "1"

if BROWSER_PASS:
    collect_ignore = ["tests/unit", "tests/integration"]
else:
    collect_ignore = ["tests/e2e"]
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

    import eventlet  # noqa: E402

    eventlet.monkey_patch()
