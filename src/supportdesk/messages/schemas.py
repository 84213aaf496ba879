import uuid

from pydantic import Field

from supportdesk.schemas import LONG_TEXT_MAX, RequestModel, ResponseModel, StrictBool, Timestamp


class MessageIn(RequestModel):
    content: str = Field(min_length=1, max_length=LONG_TEXT_MAX)
    is_internal: StrictBool = False


class CustomerMessageIn(RequestModel):
    content: str = Field(min_length=1, max_length=LONG_TEXT_MAX)


class MessageOut(ResponseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    sender_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    content: str
    is_internal: bool
    is_auto_response: bool
    created_at: Timestamp
