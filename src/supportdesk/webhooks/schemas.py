import uuid
from enum import StrEnum

from pydantic import AnyHttpUrl, Field

from supportdesk.schemas import RequestModel, ResponseModel, Timestamp


class Event(StrEnum):
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    MESSAGE_CREATED = "message.created"
    SLA_BREACHED = "sla.breached"


class WebhookIn(RequestModel):
    url: AnyHttpUrl = Field(max_length=2048)
    events: list[Event] = Field(min_length=1, max_length=len(Event))


class WebhookOut(ResponseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    created_at: Timestamp


class WebhookCreated(WebhookOut):
    secret: str  # shown once, at creation


class DeliveryOut(ResponseModel):
    id: uuid.UUID
    event: str
    status_code: int | None
    attempts: int
    delivered_at: Timestamp | None
    created_at: Timestamp
    last_error: str | None
