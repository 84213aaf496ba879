"""Background jobs of the webhooks domain."""

from supportdesk.jobs import app

__all__ = ["app"]
