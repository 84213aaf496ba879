"""One field changed on many tickets at once (an agent leaving, a category deleted): one statement, and
each ticket's change in the audit log, as a PATCH of that field would record it."""

import uuid

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from supportdesk.audit.service import record_same_change
from supportdesk.auth.actor import Actor
from supportdesk.tickets.models import Ticket


async def change_tickets(
    session: AsyncSession,
    actor: Actor,
    field: InstrumentedAttribute[uuid.UUID | None],
    old: uuid.UUID,
    new: uuid.UUID | None,
    *conditions: ColumnElement[bool],
) -> None:
    """Set `field` from `old` to `new` on the organization's tickets that also meet `conditions`."""
    changed = await session.scalars(
        update(Ticket)
        .where(Ticket.organization_id == actor.organization_id, field == old, *conditions)
        .values({field: new, Ticket.updated_at: func.now()})
        .returning(Ticket.id)
    )
    await record_same_change(
        session,
        actor,
        "ticket.updated",
        "ticket",
        list(changed),
        before={field.key: str(old)},
        after={field.key: None if new is None else str(new)},
    )
