import uuid
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, field_validator

from supportdesk.schemas import RequestModel, ResponseModel, Timestamp


class Event(StrEnum):
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    MESSAGE_CREATED = "message.created"
    SLA_BREACHED = "sla.breached"


class WebhookIn(RequestModel):
    url: AnyHttpUrl = Field(max_length=2048)
    events: list[Event] = Field(min_length=1, max_length=len(Event))

    @field_validator("url", mode="before")
    @classmethod
    def _has_host(cls, url: Any) -> Any:
        # As written: the URL type would read "http:///path" as a host named "path".
        if isinstance(url, str) and not urlsplit(url.strip()).hostname:
            raise ValueError("must be an http or https URL with a host")
        return url

    @field_validator("url")
    @classmethod
    def _has_port(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if url.port == 0:
            raise ValueError("port 0 is not a port a server listens on")
        return url


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
