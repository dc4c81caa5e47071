"""The runtime every Bình Yên service is built on.

Storage (MongoDB with index creation at start-up), the transactional outbox and its
relay, idempotent event subscribers with dead-lettering, JSON logs with correlation
ids, and configuration from the environment. Services import from here; nothing here
knows about any one service's domain.
"""
