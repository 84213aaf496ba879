import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import record, record_update, snapshot
from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.service import issue_token
from supportdesk.db import set_tenant
from supportdesk.errors import DomainError, NotFound
from supportdesk.organizations.models import Organization, UsageCounter
from supportdesk.organizations.plans import PLANS, PlanName
from supportdesk.organizations.schemas import OrganizationOut, OrganizationPatch, SignupIn, Usage
from supportdesk.tickets.assignment import assign_waiting_tickets
from supportdesk.users.models import User
from supportdesk.users.schemas import UserOut
from supportdesk.users.service import count_active_agents, ensure_agent_seat, insert_user, lock_as_admin


async def sign_up(session: AsyncSession, data: SignupIn) -> tuple[Organization, User, str]:
    """Create an organization, its first admin, and a token for that admin."""
    now = datetime.now(UTC)
    organization_id = uuid.uuid4()
    # The new organization is the tenant of this whole transaction.
    await set_tenant(session, organization_id)
    plan = PLANS[data.plan]
    organization = await session.scalar(
        insert(Organization)
        .values(
            id=organization_id,
            name=data.name,
            plan=data.plan,
            monthly_ticket_limit=plan.monthly_ticket_limit,
            agent_limit=plan.agent_limit,
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        .returning(Organization)
    )
    admin = await insert_user(
        session, organization_id, data.admin_email, data.admin_name, Role.ADMIN, data.admin_password
    )
    assert organization is not None and admin is not None
    actor = Actor(organization_id=organization_id, role=Role.ADMIN, user_id=admin.id)
    await record(
        session,
        actor,
        "organization.created",
        "organization",
        organization_id,
        after=snapshot(OrganizationOut.model_validate(organization)),
    )
    await record(
        session, actor, "user.created", "user", admin.id, after=snapshot(UserOut.model_validate(admin))
    )
    token = await issue_token(session, organization_id, user_id=admin.id)
    return organization, admin, token


async def enter_as_public(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Scope an anonymous request (the customer portal) to an organization that exists and is active."""
    await set_tenant(session, organization_id)
    found = (
        await session.execute(select(Organization.is_active).where(Organization.id == organization_id))
    ).first()
    if found is None:
        raise NotFound("organization")
    if found.is_active is False:  # NULL, which the seed allows, is active as it is for staff
        raise DomainError("organization_inactive", "this organization is inactive")


async def get_organization(session: AsyncSession, actor: Actor, *, lock: bool = False) -> Organization:
    statement = select(Organization).where(Organization.id == actor.organization_id)
    # FOR NO KEY UPDATE: settings change one at a time without blocking the KEY SHARE every row that
    # references the organization takes (a ticket or an audit entry being written meanwhile).
    organization = await session.scalar(statement.with_for_update(key_share=True) if lock else statement)
    if organization is None:
        raise NotFound("organization")
    return organization


async def usage(session: AsyncSession, actor: Actor) -> Usage:
    today = datetime.now(UTC).date()
    tickets = await session.scalar(
        select(UsageCounter.tickets_created).where(
            UsageCounter.organization_id == actor.organization_id,
            UsageCounter.month == date(today.year, today.month, 1),
        )
    )
    return Usage(
        tickets_this_month=tickets or 0,
        active_agents=await count_active_agents(session, actor.organization_id),
    )


def _ensure_reminder_comes_first(reminder_hours: int | None, resolve_days: int | None) -> None:
    """A pending ticket's reminder must come before it resolves itself, or it is never sent."""
    if reminder_hours is not None and resolve_days is not None and reminder_hours >= 24 * resolve_days:
        raise DomainError(
            "validation_error",
            f"pending_reminder_after_hours ({reminder_hours}) must come before"
            f" pending_auto_resolve_after_days ({resolve_days} days = {24 * resolve_days} hours)",
        )


async def update_organization(session: AsyncSession, actor: Actor, patch: OrganizationPatch) -> Organization:
    await lock_as_admin(session, actor)
    organization = await get_organization(session, actor)
    before = snapshot(OrganizationOut.model_validate(organization))
    values = patch.model_dump(exclude_unset=True)
    _ensure_reminder_comes_first(
        values.get("pending_reminder_after_hours", organization.pending_reminder_after_hours),
        values.get("pending_auto_resolve_after_days", organization.pending_auto_resolve_after_days),
    )
    if "plan" in values:
        plan = PLANS[PlanName(values["plan"])]
        # A downgrade never leaves the organization over its new plan: deactivate agents first.
        await ensure_agent_seat(session, actor.organization_id, new_agents=0, agent_limit=plan.agent_limit)
        values |= {"monthly_ticket_limit": plan.monthly_ticket_limit, "agent_limit": plan.agent_limit}
    organization = await session.scalar(
        update(Organization)
        .where(Organization.id == actor.organization_id)
        .values(**values, updated_at=func.now())
        .returning(Organization),
        execution_options={"populate_existing": True},
    )
    assert organization is not None
    after = snapshot(OrganizationOut.model_validate(organization))
    await record_update(
        session, actor, "organization.updated", "organization", organization.id, before, after
    )
    if "max_open_tickets_per_agent" in values:
        await assign_waiting_tickets(session, actor.organization_id, actor)
    return organization
