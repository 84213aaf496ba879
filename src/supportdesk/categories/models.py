import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.db import Base


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    is_active: Mapped[bool]
    response_sla_minutes: Mapped[int]
    resolution_sla_minutes: Mapped[int]
    priority_level: Mapped[int]
    # The SLA clocks of its tickets count in the organization's business hours, not around the clock.
    uses_business_hours: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
