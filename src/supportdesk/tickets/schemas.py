import uuid

from pydantic import Field

from supportdesk.schemas import (
    LONG_TEXT_MAX,
    NAME_MAX,
    Email,
    Name,
    PatchModel,
    QueryModel,
    RequestModel,
    ResponseModel,
    StrictInt,
    Timestamp,
)
from supportdesk.sla.schemas import SlaBreachOut
from supportdesk.tickets.states import Criticality, Status


class CustomerIn(RequestModel):
    email: Email
    name: Name | None = None


class TicketIn(RequestModel):
    title: str = Field(min_length=1, max_length=NAME_MAX)
    description: str = Field(min_length=1, max_length=LONG_TEXT_MAX)
    customer: CustomerIn
    category_id: uuid.UUID | None = None
    priority: StrictInt | None = Field(default=None, ge=1, le=5)
    criticality: Criticality | None = None


class TicketPatch(PatchModel):
    nullable = frozenset({"category_id", "assigned_agent_id", "answer_document_id"})
    status: Status | None = None
    priority: StrictInt | None = Field(default=None, ge=1, le=5)
    criticality: Criticality | None = None
    category_id: uuid.UUID | None = None
    assigned_agent_id: uuid.UUID | None = None
    # The document that answers the ticket (null: none does), for the auto-responder to learn from.
    answer_document_id: uuid.UUID | None = None


class SlaOut(ResponseModel):
    response_due_at: Timestamp | None
    resolution_due_at: Timestamp | None
    first_response_at: Timestamp | None
    response_breached: bool
    resolution_breached: bool
    resolution_paused: bool
    # Seconds to the deadline when the answer was made: negative once overdue, null once met (or
    # closed). A paused resolution clock shows what was left when it stopped.
    response_remaining_seconds: int | None
    resolution_remaining_seconds: int | None
    # The recorded breaches (the SLA event history), oldest first.
    breaches: list[SlaBreachOut]


class TicketOut(ResponseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    category_id: uuid.UUID | None
    assigned_agent_id: uuid.UUID | None
    customer_id: uuid.UUID
    title: str
    description: str
    status: str
    priority: int
    criticality: str | None
    # A person set category_id to null: no category fits (triage learns the ticket as out of scope).
    no_category_fits: bool
    # A person said which document answers the ticket, or (null, no_document_answers) that none does:
    # the answer model learns from such tickets how customers ask what the knowledge base answers.
    answer_document_id: uuid.UUID | None
    no_document_answers: bool
    resolved_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    sla: SlaOut


class TicketFilters(QueryModel):
    """Query-string filters of GET /tickets."""

    status: Status | None = None
    priority: int | None = Field(default=None, ge=1, le=5)
    category_id: uuid.UUID | None = None
    assigned_agent_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    no_category_fits: bool | None = None  # the tickets people said fit no category: a category to add?
    answer_document_id: uuid.UUID | None = None  # the tickets people said a document answers
    no_document_answers: bool | None = None  # and those it does not: a document to write?
    q: str | None = Field(default=None, min_length=1, max_length=200)
