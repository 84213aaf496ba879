"""One field changed on many tickets at once (an agent leaving, a category deleted): one statement, and
each ticket's change in the audit log and its webhook, as a PATCH of that field would make them."""

import uuid

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from supportdesk.audit.service import record_same_change
from supportdesk.auth.actor import Actor
from supportdesk.tickets.assignment import lock_assignments
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.states import OPEN_STATUSES
from supportdesk.tickets.views import announce_changed


async def change_tickets(
    session: AsyncSession,
    actor: Actor,
    field: InstrumentedAttribute[uuid.UUID | None],
    old: uuid.UUID,
    new: uuid.UUID | None,
    *conditions: ColumnElement[bool],
) -> None:
    """Set `field` from `old` to `new` on the organization's tickets that also meet `conditions`, under
    the assignment lock: handing out waiting tickets locks them under it too, and waits for any ticket
    locked elsewhere, which must then not wait for a ticket it holds (a deadlock)."""
    await lock_assignments(session, actor.organization_id)
    changed = await session.scalars(
        update(Ticket)
        .where(Ticket.organization_id == actor.organization_id, field == old, *conditions)
        .values({field: new, Ticket.updated_at: func.now()})
        .returning(Ticket.id)
    )
    ticket_ids = list(changed)
    await record_same_change(
        session,
        actor,
        "ticket.updated",
        "ticket",
        ticket_ids,
        before={field.key: str(old)},
        after={field.key: None if new is None else str(new)},
    )
    await announce_changed(session, actor.organization_id, ticket_ids)


async def unassign_open_tickets(session: AsyncSession, actor: Actor, agent_id: uuid.UUID) -> None:
    """Put an agent's open tickets back in the queue (they are leaving, or no longer an agent)."""
    await change_tickets(
        session, actor, Ticket.assigned_agent_id, agent_id, None, Ticket.status.in_(OPEN_STATUSES)
    )
