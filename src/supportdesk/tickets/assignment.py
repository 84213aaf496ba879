"""Who gets a ticket: the one place the assignment rule lives.

A ticket goes to the active agent with the fewest open tickets, ties going to the one assigned
longest ago (never assigned first), and, when the organization caps open tickets per agent, only to
an agent under the cap. Without such an agent the ticket waits unassigned; waiting tickets are
handed out, most urgent first, whenever an agent becomes available. Each ticket the queue moves gets its
`ticket.updated` audit entry, by whoever caused it (the admin deactivating an agent, the system), and
its `ticket.updated` webhook.

Concurrency: every change that moves an agent's load (an assignment, a status change between open
and resolved, a deactivation) first takes its organization's row in KEY SHARE mode, then its
transaction advisory lock (`lock_assignments`), so two decisions never read the same counts. After
that lock, ticket rows are locked before user rows, the order the `tickets_agent_load` trigger
(migrations/versions/0002) that keeps `current_ticket_count` takes them in. One order everywhere:
no deadlocks.
"""

import uuid

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import record
from supportdesk.auth.actor import Actor, Role
from supportdesk.organizations.models import Organization
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.views import announce_changed
from supportdesk.users.models import User


async def lock_assignments(session: AsyncSession, organization_id: uuid.UUID) -> None:
    # The organization row first, in KEY SHARE mode (what inserting a ticket or an audit row takes
    # anyway), then the lock: the organization's row is always taken before this lock. Settings changes
    # and agent seat checks hold the row FOR NO KEY UPDATE, which KEY SHARE does not wait for (FOR
    # UPDATE would: one such change waiting for this lock, and one holding it and inserting a row that
    # references the organization, deadlocked).
    # One round trip: the subquery's row lock is taken before the outer select calls the lock function.
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(CAST(:org AS text), 0))"
            " FROM (SELECT 1 FROM organizations WHERE id = :org FOR KEY SHARE) AS organization"
        ),
        {"org": organization_id},
    )


async def assign_next_agent(session: AsyncSession, organization_id: uuid.UUID) -> uuid.UUID | None:
    """Choose the agent for one more ticket and stamp their `last_assigned_at`; None if nobody can
    take it. The caller inserts or updates the ticket in the same transaction."""
    await lock_assignments(session, organization_id)
    # Choose and stamp in one statement. clock_timestamp(), not now(): now() is when the transaction
    # began, which may be before a transaction that got this lock earlier stamped its agent, and
    # would break the tie-break order.
    return await session.scalar(
        update(User)
        .where(
            User.id == _least_loaded_agent(organization_id).scalar_subquery(),
            User.organization_id == organization_id,
        )
        .values(last_assigned_at=func.clock_timestamp())
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )


def _least_loaded_agent(organization_id: uuid.UUID):
    """The active agent with the fewest open tickets under the organization's cap (the one assigned
    longest ago first), as a query: none when every agent is at the cap."""
    cap = (
        select(Organization.max_open_tickets_per_agent)
        .where(Organization.id == organization_id)
        .scalar_subquery()
    )
    return (
        select(User.id)
        .where(
            User.organization_id == organization_id,
            User.role == Role.AGENT,
            User.status == "active",
            func.coalesce(User.current_ticket_count, 0) < func.coalesce(cap, 2**31 - 1),
        )
        .order_by(
            func.coalesce(User.current_ticket_count, 0),
            User.last_assigned_at.asc().nulls_first(),
            User.id,
        )
        .limit(1)
    )


# The roles a ticket may be assigned to, while active (an admin only by hand: the queue gives agents).
HOLDERS = (Role.AGENT, Role.ADMIN)


async def can_hold_tickets(session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether a ticket may be (or stay) assigned to this user: an active agent or admin."""
    role = await session.scalar(
        select(User.role).where(
            User.id == user_id, User.organization_id == organization_id, User.status == "active"
        )
    )
    return role in HOLDERS


async def refresh_loaded_users(session: AsyncSession) -> None:
    """Assignment changes user rows behind the ORM's back (`last_assigned_at`, and the trigger's
    `current_ticket_count`): reload the users this session holds so callers never answer stale counts."""
    for user in [row for row in session.identity_map.values() if isinstance(row, User)]:
        await session.refresh(user)


async def assign_waiting_tickets(
    session: AsyncSession, organization_id: uuid.UUID, actor: Actor | None
) -> int:
    """Hand waiting tickets to available agents, most urgent first; returns how many moved. `actor`:
    who caused it, for the audit log (None: the system)."""
    await lock_assignments(session, organization_id)
    assigned: list[uuid.UUID] = []
    # No waiting ticket is locked while no agent can take one (a backlog behind busy agents: most load
    # moves), so such a change waits for no edit of the ticket that is due first.
    while await session.scalar(select(_least_loaded_agent(organization_id).exists())):
        ticket_id = await _most_urgent_waiting_ticket(session, organization_id)
        agent_id = await assign_next_agent(session, organization_id) if ticket_id else None
        if agent_id is None:
            break
        await session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values(assigned_agent_id=agent_id, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        await record(
            session,
            actor,
            "ticket.updated",
            "ticket",
            ticket_id,
            organization_id=organization_id,
            before={"assigned_agent_id": None},
            after={"assigned_agent_id": str(agent_id)},
        )
        assigned.append(ticket_id)
    if assigned:
        await refresh_loaded_users(session)
        await announce_changed(session, organization_id, assigned)
    return len(assigned)


async def _most_urgent_waiting_ticket(session: AsyncSession, organization_id: uuid.UUID) -> uuid.UUID | None:
    """The open ticket without an agent that is due first, locked. Not SKIP LOCKED: a waiting ticket
    locked by an edit that does not move load (priority, a reply) would be skipped and left waiting
    beside a free agent. Such edits take no further lock that the caller holds, so waiting is safe."""
    return await session.scalar(waiting_queue(organization_id).limit(1).with_for_update())


# The predicate of idx_tickets_waiting_due (migration 0021), written out: a partial index serves a query
# whose predicate implies its own, which bound parameters in a prepared statement's plan do not show.
WAITING = text("tickets.assigned_agent_id IS NULL AND tickets.status NOT IN ('resolved', 'closed')")


def waiting_queue(organization_id: uuid.UUID):
    """The organization's open tickets without an agent, the one due first first."""
    return (
        select(Ticket.id)
        .where(Ticket.organization_id == organization_id, WAITING)
        .order_by(Ticket.response_due_at.asc().nulls_last(), Ticket.priority, Ticket.created_at, Ticket.id)
    )
