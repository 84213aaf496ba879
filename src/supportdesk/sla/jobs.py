"""Background jobs of the sla domain."""

from supportdesk.jobs import app

__all__ = ["app"]
