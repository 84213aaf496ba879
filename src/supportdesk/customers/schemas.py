import uuid

from supportdesk.schemas import ResponseModel, Timestamp


class CustomerOut(ResponseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    name: str | None
    created_at: Timestamp
    updated_at: Timestamp
