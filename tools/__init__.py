"""Operator and developer tools: the local stack (`make run`) and the `binhyen` CLI."""
