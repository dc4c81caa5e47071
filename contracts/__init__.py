"""Schemas of everything that crosses a service boundary: events and RPC payloads."""

from contracts import messages  # noqa: E402,F401  (Vietnamese + English validation messages everywhere)
