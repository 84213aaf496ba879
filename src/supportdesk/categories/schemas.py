import uuid

from pydantic import Field

from supportdesk.schemas import (
    SHORT_TEXT_MAX,
    Name,
    PatchModel,
    RequestModel,
    ResponseModel,
    StrictBool,
    StrictInt,
    Timestamp,
)
from supportdesk.sla.business_hours import MAX_SLA_MINUTES


class CategoryIn(RequestModel):
    name: Name
    description: str | None = Field(default=None, max_length=SHORT_TEXT_MAX)
    is_active: StrictBool = True
    response_sla_minutes: StrictInt = Field(default=60, ge=1, le=MAX_SLA_MINUTES)
    resolution_sla_minutes: StrictInt = Field(default=480, ge=1, le=MAX_SLA_MINUTES)
    priority_level: StrictInt = Field(default=3, ge=1, le=5)
    uses_business_hours: StrictBool = False


class CategoryPatch(PatchModel):
    nullable = frozenset({"description"})
    name: Name | None = None
    description: str | None = Field(default=None, max_length=SHORT_TEXT_MAX)
    is_active: StrictBool | None = None
    response_sla_minutes: StrictInt | None = Field(default=None, ge=1, le=MAX_SLA_MINUTES)
    resolution_sla_minutes: StrictInt | None = Field(default=None, ge=1, le=MAX_SLA_MINUTES)
    priority_level: StrictInt | None = Field(default=None, ge=1, le=5)
    uses_business_hours: StrictBool | None = None


class CategoryOut(ResponseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    description: str | None
    is_active: bool | None
    response_sla_minutes: int | None
    resolution_sla_minutes: int | None
    priority_level: int | None
    uses_business_hours: bool
    created_at: Timestamp
    updated_at: Timestamp
