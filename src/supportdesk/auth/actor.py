import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    ANALYST = "analyst"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: a staff user of one organization, or a customer of it (the portal)."""

    organization_id: uuid.UUID
    role: str  # a Role, or "customer"
    user_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None

    @property
    def is_customer(self) -> bool:
        return self.customer_id is not None
