"""The project's own stand-in for Facebook, Zalo, YouTube, partner webhooks and SMTP (see sandbox.server)."""
