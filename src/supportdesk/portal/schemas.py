import uuid

from pydantic import Field

from supportdesk.messages.schemas import MessageOut
from supportdesk.schemas import LONG_TEXT_MAX, NAME_MAX, Email, Name, RequestModel, ResponseModel, Timestamp


class PortalTicketIn(RequestModel):
    email: Email
    name: Name | None = None
    title: str = Field(min_length=1, max_length=NAME_MAX)
    description: str = Field(min_length=1, max_length=LONG_TEXT_MAX)


class PortalTicketOut(ResponseModel):
    id: uuid.UUID
    title: str
    status: str
    created_at: Timestamp
    updated_at: Timestamp
    resolved_at: Timestamp | None


class PortalMessageOut(ResponseModel):
    """What a customer sees of a message: no internal flags, no staff identities."""

    id: uuid.UUID
    content: str
    from_customer: bool
    is_auto_response: bool
    created_at: Timestamp

    @classmethod
    def of(cls, message: MessageOut) -> "PortalMessageOut":
        return cls(
            id=message.id,
            content=message.content,
            from_customer=message.customer_id is not None,
            is_auto_response=message.is_auto_response,
            created_at=message.created_at,
        )


class PortalTicketWithMessages(PortalTicketOut):
    messages: list[PortalMessageOut]


class PortalTicketCreated(ResponseModel):
    ticket: PortalTicketOut
    access_token: str
