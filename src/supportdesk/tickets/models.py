import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.db import Base


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id"))
    assigned_agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str]
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int]
    criticality: Mapped[str] = mapped_column(String(20))
    resolved_at: Mapped[datetime | None]
    response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolution_paused_at: Mapped[datetime | None]
    # The SLA minutes the deadlines were computed with (None: a ticket from before they were kept).
    response_sla_minutes: Mapped[int | None]
    resolution_sla_minutes: Mapped[int | None]
    # While resolved or closed: the working seconds each clock still running then had left, to start
    # again with if the ticket reopens (None: it had stopped, or was resolved before these were kept).
    response_left_seconds: Mapped[int | None] = mapped_column(BigInteger)
    resolution_left_seconds: Mapped[int | None] = mapped_column(BigInteger)
    # A person chose the priority or the criticality (opening the ticket, or since): triage leaves it.
    priority_chosen: Mapped[bool]
    criticality_chosen: Mapped[bool]
    response_breached: Mapped[bool]
    resolution_breached: Mapped[bool]
    # When the reminder of the current wait on the customer was sent (automations).
    pending_reminder_sent_at: Mapped[datetime | None]
    # A person said no category fits (a PATCH of category_id to null): out of scope, for triage to learn.
    no_category_fits: Mapped[bool]
    # The document a person said answers the ticket, or none does (a PATCH of answer_document_id to
    # null): examples the answer model learns from.
    answer_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    no_document_answers: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
