"""The HTTP API (Flask under gunicorn): auth, validation, OpenAPI, public endpoints."""
import warnings

# nameko imports eventlet, which prints a deprecation banner; the gateway never runs on it.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
