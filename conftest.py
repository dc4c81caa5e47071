# Eventlet must patch sockets, threads and time before anything imports them:
# nameko's containers run on eventlet, and without the patch integration tests hang.
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()
