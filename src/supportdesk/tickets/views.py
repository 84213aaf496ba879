"""How a ticket is shown: to the API (its clocks read now, and its breaches), and, without the clock's
readings, to the audit log and to webhooks."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import snapshot
from supportdesk.sla import clock as sla
from supportdesk.sla.models import SlaEvent
from supportdesk.sla.schemas import SlaBreachOut
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.schemas import SlaOut, TicketOut
from supportdesk.webhooks.events import emit_event, has_subscribers


async def breaches_of(
    session: AsyncSession, organization_id: uuid.UUID, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[SlaBreachOut]]:
    """The recorded breaches of some tickets (a page of them), in one query."""
    found: dict[uuid.UUID, list[SlaBreachOut]] = defaultdict(list)
    if not ticket_ids:
        return found
    rows = await session.scalars(
        select(SlaEvent)
        .where(SlaEvent.organization_id == organization_id, SlaEvent.ticket_id.in_(ticket_ids))
        .order_by(SlaEvent.occurred_at, SlaEvent.kind)
    )
    for event in rows:
        found[event.ticket_id].append(SlaBreachOut.model_validate(event))
    return found


def ticket_out(
    ticket: Ticket, now: datetime | None = None, breaches: list[SlaBreachOut] | None = None
) -> TicketOut:
    """The ticket as the API shows it, its clocks read at `now`. `breaches` come from `tickets_out`."""
    now = now or datetime.now(UTC)
    clock = SlaOut(
        response_due_at=ticket.response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        first_response_at=ticket.first_response_at,
        response_breached=sla.response_breached(ticket, now),
        resolution_breached=sla.resolution_breached(ticket, now),
        resolution_paused=ticket.resolution_paused_at is not None,
        response_remaining_seconds=sla.response_remaining_seconds(ticket, now),
        resolution_remaining_seconds=sla.resolution_remaining_seconds(ticket, now),
        breaches=breaches or [],
    )
    fields = {name: getattr(ticket, name) for name in TicketOut.model_fields if name != "sla"}
    return TicketOut(**fields, sla=clock)


async def tickets_out(
    session: AsyncSession, tickets: list[Ticket], now: datetime | None = None
) -> list[TicketOut]:
    """Tickets with their breach history: one query for the lot, however many there are."""
    if not tickets:
        return []
    now = now or datetime.now(UTC)
    breaches = await breaches_of(session, tickets[0].organization_id, [ticket.id for ticket in tickets])
    return [ticket_out(ticket, now, breaches.get(ticket.id)) for ticket in tickets]


# What the clock reads, rather than what was changed, stays out of audit entries and webhooks.
_CLOCK_READINGS = ("response_remaining_seconds", "resolution_remaining_seconds", "breaches")


def audited(ticket: Ticket) -> dict[str, Any]:
    fields = snapshot(ticket_out(ticket))
    fields["sla"] = {key: value for key, value in fields["sla"].items() if key not in _CLOCK_READINGS}
    return fields


async def announce_changed(
    session: AsyncSession, organization_id: uuid.UUID, ticket_ids: list[uuid.UUID]
) -> None:
    """The `ticket.updated` webhook of tickets changed by a statement of their own (the queue handing
    them out, an agent leaving, a category deleted), as a PATCH of each would send it."""
    if not ticket_ids or not await has_subscribers(session, organization_id, "ticket.updated"):
        return
    tickets = await session.scalars(
        select(Ticket).where(Ticket.id.in_(ticket_ids)).execution_options(populate_existing=True)
    )
    for ticket in tickets:
        await emit_event(session, organization_id, "ticket.updated", audited(ticket))
