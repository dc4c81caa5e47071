"""Named crash points for fault tests (like MongoDB's failpoints).

`BINHYEN_FAILPOINT=relay.after_publish` makes the process SIGKILL itself the first time
it passes that point, so a test can prove recovery from a crash at an exact moment.
Unset in every real deployment; reading one environment variable is all it costs.
"""
import os
import signal

_ARMED = os.environ.get("BINHYEN_FAILPOINT", "")


def hit(name):
    if _ARMED and _ARMED == name:
        os.kill(os.getpid(), signal.SIGKILL)
