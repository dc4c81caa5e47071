"""Schemas of everything that crosses a service boundary: events and RPC payloads."""
