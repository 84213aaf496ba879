import uuid

from pydantic import Field

from supportdesk.organizations.plans import PlanName
from supportdesk.schemas import (
    Email,
    Name,
    Password,
    PatchModel,
    RequestModel,
    ResponseModel,
    StrictFloat,
    StrictInt,
    Timestamp,
)
from supportdesk.users.schemas import UserOut


class SignupIn(RequestModel):
    name: Name
    admin_email: Email
    admin_name: Name
    admin_password: Password
    plan: PlanName = PlanName.FREE


class OrganizationPatch(PatchModel):
    # null clears a setting: no cap, no auto-close, no reminder, no auto-resolve
    nullable = frozenset(
        {
            "max_open_tickets_per_agent",
            "auto_close_after_days",
            "pending_reminder_after_hours",
            "pending_auto_resolve_after_days",
        }
    )
    name: Name | None = None
    plan: PlanName | None = None
    auto_response_threshold: StrictFloat | None = Field(default=None, ge=0, le=1)
    max_open_tickets_per_agent: StrictInt | None = Field(default=None, ge=1, le=100_000)
    auto_close_after_days: StrictInt | None = Field(default=None, ge=1, le=3650)
    # A pending ticket without a reply gets a reminder after this many hours (at most a year)…
    pending_reminder_after_hours: StrictInt | None = Field(default=None, ge=1, le=8760)
    # …and resolves itself after this many days.
    pending_auto_resolve_after_days: StrictInt | None = Field(default=None, ge=1, le=3650)


class Usage(ResponseModel):
    tickets_this_month: int
    active_agents: int


class OrganizationOut(ResponseModel):
    id: uuid.UUID
    name: str
    plan: str
    monthly_ticket_limit: int
    agent_limit: int
    is_active: bool | None
    auto_response_threshold: float
    max_open_tickets_per_agent: int | None
    auto_close_after_days: int | None
    pending_reminder_after_hours: int | None
    pending_auto_resolve_after_days: int | None
    created_at: Timestamp
    updated_at: Timestamp


class OrganizationWithUsage(OrganizationOut):
    usage: Usage


class SignupOut(ResponseModel):
    organization: OrganizationOut
    user: UserOut
    access_token: str
