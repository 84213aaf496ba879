"""Background jobs of the automations domain."""

from supportdesk.jobs import app

__all__ = ["app"]
