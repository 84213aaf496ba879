"""`supportdesk demo`: see `loader` for how, `texts` for what."""

from supportdesk.demo.loader import load_demo
from supportdesk.demo.texts import DEMO_ADMIN_EMAIL, DEMO_PASSWORD

__all__ = ["DEMO_ADMIN_EMAIL", "DEMO_PASSWORD", "load_demo"]
