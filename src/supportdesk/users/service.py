"""Users and the plan's agent seats.

Only active users with the role `agent` take a seat: they are the ones tickets are assigned to.
Admins and analysts never do, so a full team can still add them (and `usage.active_agents` counts
the same thing). An organization always keeps at least one active admin.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import record, record_update, snapshot
from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.passwords import hash_password
from supportdesk.auth.service import revoke_all
from supportdesk.db import organization_row
from supportdesk.errors import DomainError
from supportdesk.organizations.models import Organization, locking
from supportdesk.pagination import paginate
from supportdesk.tickets.assignment import (
    HOLDERS,
    assign_waiting_tickets,
    lock_assignments,
)
from supportdesk.tickets.bulk import unassign_open_tickets
from supportdesk.tickets.references import lock_referenced_by_holder
from supportdesk.users.models import User
from supportdesk.users.schemas import UserIn, UserOut, UserPatch, UserStatus


async def get_user(session: AsyncSession, actor: Actor, user_id: uuid.UUID, *, lock: bool = False) -> User:
    return await organization_row(session, User, user_id, actor.organization_id, "user", lock=lock)


async def list_users(
    session: AsyncSession,
    actor: Actor,
    *,
    role: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> list[User]:
    statement = select(User).where(User.organization_id == actor.organization_id)
    if role:
        statement = statement.where(User.role == role)
    if status:
        statement = statement.where(User.status == status)
    return list((await session.scalars(paginate(statement, User.created_at, User.id, cursor, limit))).all())


async def count_active_agents(session: AsyncSession, organization_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        User.organization_id == organization_id,
        User.role == Role.AGENT,
        User.status == UserStatus.ACTIVE,
    )
    return (await session.scalar(statement)) or 0


async def ensure_an_admin_remains(
    session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could manage the organization."""
    await session.execute(locking(organization_id))
    other_admins = await session.scalar(
        select(func.count()).where(
            User.organization_id == organization_id,
            User.id != user_id,
            User.role == Role.ADMIN,
            User.status == UserStatus.ACTIVE,
        )
    )
    if not other_admins:
        raise DomainError("conflict", "an organization keeps at least one active admin")


async def ensure_agent_seat(
    session: AsyncSession,
    organization_id: uuid.UUID,
    *,
    new_agents: int = 1,
    agent_limit: int | None = None,
) -> None:
    """Refuse a change that would leave more active agents than the plan allows: `new_agents` more
    under the current plan, or the agents there are under a plan of `agent_limit`. Locks the
    organization row, so two admins adding agents at once are counted one after the other."""
    current_limit = await session.scalar(locking(organization_id, Organization.agent_limit))
    limit = current_limit if agent_limit is None else agent_limit
    if limit is not None and await count_active_agents(session, organization_id) + new_agents > limit:
        raise DomainError("agent_limit_reached", f"the plan allows {limit} active agents")


async def insert_user(
    session: AsyncSession,
    organization_id: uuid.UUID,
    email: str,
    name: str,
    role: str,
    password: str,
) -> User:
    """Add an active user with an argon2 password hash; 409 email_taken if the email is anyone's."""
    now = datetime.now(UTC)
    try:
        # A savepoint: the unique violation must not abort the caller's transaction.
        async with session.begin_nested():
            user = await session.scalar(
                insert(User)
                .values(
                    id=uuid.uuid4(),
                    organization_id=organization_id,
                    email=email.lower(),
                    name=name,
                    role=role,
                    status=UserStatus.ACTIVE,
                    current_ticket_count=0,
                    password_hash=await hash_password(password),
                    created_at=now,
                    updated_at=now,
                )
                .returning(User)
            )
    except IntegrityError as error:
        raise DomainError("email_taken", "a user with this email already exists") from error
    assert user is not None
    return user


async def lock_as_admin(session: AsyncSession, actor: Actor) -> None:
    """The organization's row, locked for a change only an admin makes (its team, its webhooks, its plan
    and settings: one at a time, as an agent seat is counted), by an admin still: the actor's role and
    status were read before this lock, and a change that held it meanwhile (their own deactivation or
    demotion) is seen here and refused as their token now would be."""
    await session.execute(locking(actor.organization_id))
    caller = (await session.execute(select(User.role, User.status).where(User.id == actor.user_id))).one()
    if caller.status != UserStatus.ACTIVE:
        raise DomainError("not_authenticated", "missing or invalid bearer token")
    if caller.role != Role.ADMIN:
        raise DomainError("forbidden", f"the {caller.role} role may not do this")


async def create_user(session: AsyncSession, actor: Actor, data: UserIn) -> User:
    await lock_as_admin(session, actor)
    if data.role == Role.AGENT:
        await ensure_agent_seat(session, actor.organization_id)
    user = await insert_user(session, actor.organization_id, data.email, data.name, data.role, data.password)
    await record(
        session,
        actor,
        "user.created",
        "user",
        user.id,
        after=snapshot(UserOut.model_validate(user)),
    )
    if user.role == Role.AGENT:
        await assign_waiting_tickets(session, actor.organization_id, actor)
    return user


async def update_user(session: AsyncSession, actor: Actor, user_id: uuid.UUID, patch: UserPatch) -> User:
    # Each change of the team reads the user as the one before left it. No lock on the user's row:
    # tickets are always locked before their agent (see tickets/assignment.py).
    await lock_as_admin(session, actor)
    user = await get_user(session, actor, user_id)
    before = snapshot(UserOut.model_validate(user))
    was_working_agent = user.role == Role.AGENT and user.status == UserStatus.ACTIVE
    role, status = patch.role or user.role, patch.status or user.status
    is_working_agent = role == Role.AGENT and status == UserStatus.ACTIVE
    was_active_admin = user.role == Role.ADMIN and user.status == UserStatus.ACTIVE
    if was_active_admin and (role, status) != (Role.ADMIN, UserStatus.ACTIVE):
        await ensure_an_admin_remains(session, actor.organization_id, user.id)
    if is_working_agent and not was_working_agent:
        await ensure_agent_seat(session, actor.organization_id)
    could_hold = user.role in HOLDERS and user.status == UserStatus.ACTIVE
    stops_holding = could_hold and not (role in HOLDERS and status == UserStatus.ACTIVE)
    # The queue changes when an agent comes or goes, and when anyone (an admin too) hands tickets back.
    moves_queue = is_working_agent != was_working_agent or stops_holding
    if stops_holding:  # before the assignment lock, as a deletion takes them (tickets/references.py)
        await lock_referenced_by_holder(session, actor.organization_id, user.id)
    if moves_queue:
        # Before the user's row is written: a ticket change holding this lock updates the same row (its
        # agent's count, by trigger), and waited for this transaction while it waited for the lock.
        await lock_assignments(session, actor.organization_id)
    if stops_holding:
        await unassign_open_tickets(session, actor, user.id)
    deactivated = user.status == UserStatus.ACTIVE and status == UserStatus.INACTIVE
    values = patch.model_dump(exclude_unset=True)
    user = await session.scalar(
        update(User).where(User.id == user.id).values(**values, updated_at=func.now()).returning(User),
        execution_options={"populate_existing": True},
    )
    assert user is not None
    if deactivated:  # after the row's update, which waited for any login writing a token (auth.service)
        await revoke_all(session, actor.organization_id, user.id)
    after = snapshot(UserOut.model_validate(user))
    await record_update(session, actor, "user.updated", "user", user.id, before, after)
    if moves_queue:
        await assign_waiting_tickets(session, actor.organization_id, actor)
    return user
