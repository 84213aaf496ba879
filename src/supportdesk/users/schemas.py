import uuid
from enum import StrEnum

from pydantic import Field

from supportdesk.auth.actor import Role
from supportdesk.schemas import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    Email,
    Name,
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
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class UserPatch(RequestModel):
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
