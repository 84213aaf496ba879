import uuid
from enum import StrEnum

from supportdesk.auth.actor import Role
from supportdesk.schemas import (
    Email,
    Name,
    Password,
    PatchModel,
    RequestModel,
    ResponseModel,
    Timestamp,
)


class UserStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class UserIn(RequestModel):
    email: Email
    name: Name
    role: Role
    password: Password


class UserPatch(PatchModel):
    name: Name | None = None
    role: Role | None = None
    status: UserStatus | None = None


class UserOut(ResponseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    name: str
    role: str
    status: str
    last_assigned_at: Timestamp | None
    current_ticket_count: int
    created_at: Timestamp
    updated_at: Timestamp
