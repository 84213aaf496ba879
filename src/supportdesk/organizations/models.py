import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, Select, String, select
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.db import Base


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    plan: Mapped[str] = mapped_column(String(20))
    monthly_ticket_limit: Mapped[int]
    agent_limit: Mapped[int]
    is_active: Mapped[bool | None]
    auto_response_threshold: Mapped[float]
    max_open_tickets_per_agent: Mapped[int | None]
    auto_close_after_days: Mapped[int | None]
    pending_reminder_after_hours: Mapped[int | None]
    pending_auto_resolve_after_days: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UsageCounter(Base):
    __tablename__ = "usage_counters"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    tickets_created: Mapped[int] = mapped_column(Integer)


def locking(organization_id: uuid.UUID, column: Any = Organization.id) -> Select[Any]:
    """Reads `column` of the organization's row FOR NO KEY UPDATE: serializes the changes counted against
    its limits (the team, webhooks) without blocking inserts that merely reference it (tickets, counters)."""
    return select(column).where(Organization.id == organization_id).with_for_update(key_share=True)
