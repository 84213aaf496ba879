"""Changes to a ticket that are not a PATCH of it: a reply meets its response clock or moves its status,
an automation moves it, triage files it, a category's deletion or new calendar recounts its clocks. Each
is a write of the locked ticket, audited (actor None: the system) and sent to webhooks as a PATCH is."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import changed, record
from supportdesk.auth.actor import Actor
from supportdesk.errors import DomainError
from supportdesk.sla import clock as sla
from supportdesk.sla.business_hours import Calendar
from supportdesk.sla.service import record_due_breaches
from supportdesk.tickets.assignment import assign_waiting_tickets, lock_assignments
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.states import OPEN_STATUSES, Criticality, Status
from supportdesk.tickets.transitions import (
    active_category,
    category_change,
    moved_clock,
    reopening_aware_status_change,
    status_change,
)
from supportdesk.tickets.views import audited
from supportdesk.webhooks.events import emit_event


async def recount_clocks(
    session: AsyncSession,
    actor: Actor,
    category_id: uuid.UUID,
    old_calendar: Calendar,
    new_calendar: Calendar,
    now: datetime,
    values: dict[str, Any] | None = None,
) -> None:
    """The open tickets of `category_id` change calendar: the category is deleted (`values` files them
    under none, counted around the clock) or starts or stops following business hours. Each running clock
    keeps the time it had left in the old calendar, counted in the new one (their deadlines alone would
    count the closed hours before them as time left, or breach in closed hours); breaches already due are
    recorded first, as a PATCH records them. One write per ticket, audited and sent to webhooks as a PATCH
    of it would be, under the assignment lock (`tickets.bulk` says why); a second write of the same row
    would make PostgreSQL check its references again, and wait on a document being deleted."""
    await lock_assignments(session, actor.organization_id)
    tickets = await session.scalars(
        select(Ticket)
        .where(
            Ticket.organization_id == actor.organization_id,
            Ticket.category_id == category_id,
            Ticket.status.in_(OPEN_STATUSES),
        )
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for ticket in tickets.all():
        await _record_breaches_and_reload(session, ticket, now)
        changes = dict(values or {})
        for name, reading in sla.readings(ticket, now).items():
            changes |= moved_clock(ticket, name, reading, timedelta(0), old_calendar, new_calendar)
        changes = {name: value for name, value in changes.items() if getattr(ticket, name) != value}
        if changes:  # none when both clocks stopped (or stay where they were) and the category stays
            await _save_announced(session, actor, ticket, changes, now)


async def apply_triage(
    session: AsyncSession,
    ticket: Ticket,
    *,
    category_id: uuid.UUID | None,
    set_priority: bool,
    criticality: str | None,
    now: datetime,
    details: dict[str, Any],
) -> None:
    """Triage's decision on a locked ticket, as the system: a category by the rule a PATCH follows
    (its SLA deadlines move as `category_change` moves them) with the category's priority when
    `set_priority`, and a `criticality` (never lower than the ticket's). Audited as "ticket.triaged"
    with `details`; webhooks hear "ticket.updated" when a field changed."""
    new_category = category_id is not None and category_id != ticket.category_id
    if ticket.status == Status.CLOSED:  # its urgency is settled (SETTLED_WHEN_CLOSED); its category is not
        set_priority, criticality = False, None
    if new_category:  # as a PATCH does
        await _record_breaches_and_reload(session, ticket, now)
    before = audited(ticket)
    values: dict[str, Any] = {}
    system = Actor(organization_id=ticket.organization_id, role="system")
    if new_category:
        category = await active_category(session, system, category_id)
        values |= await category_change(session, system, ticket, category_id, now)
        if set_priority:
            values["priority"] = category.priority_level
    levels = list(Criticality)  # low to critical
    if criticality is not None and levels.index(criticality) > levels.index(ticket.criticality or "low"):
        values["criticality"] = criticality
    if values:
        await _save(session, ticket, values, now)
    current = audited(ticket)
    before, after = changed(before, current)
    await record(
        session,
        None,
        "ticket.triaged",
        "ticket",
        ticket.id,
        organization_id=ticket.organization_id,
        before=before,
        after={**after, "triage": details},
    )
    if after:
        await emit_event(session, ticket.organization_id, "ticket.updated", current)
    if new_category:
        await _record_breaches_and_reload(session, ticket, now)


# A breach found by a change is recorded this long before it, so its note comes first in the ticket's
# messages (oldest first, by time) rather than after the reply written at the same moment, half the time.
_JUST_BEFORE = timedelta(microseconds=1)


async def _record_breaches_and_reload(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Record the breaches due on a locked ticket and reload it with them: before a change stops or moves
    its clocks (the scan never reads a stopped clock), or after a stricter category brought them."""
    if await record_due_breaches(session, ticket, now - _JUST_BEFORE):
        await session.refresh(ticket)


async def _save(session: AsyncSession, ticket: Ticket, values: dict[str, Any], now: datetime) -> None:
    """Write `values` to a locked ticket and reload it, so it shows what the database now holds."""
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(ticket)


async def _save_announced(
    session: AsyncSession, actor: Actor | None, ticket: Ticket, values: dict[str, Any], now: datetime
) -> None:
    """`_save`, outside a PATCH: audited as `ticket.updated` (actor None: the system) and sent to webhooks."""
    before = audited(ticket)
    await _save(session, ticket, values, now)
    current = audited(ticket)
    before, after = changed(before, current)
    await record(
        session,
        actor,
        "ticket.updated",
        "ticket",
        ticket.id,
        organization_id=ticket.organization_id,
        before=before,
        after=after,
    )
    await emit_event(session, ticket.organization_id, "ticket.updated", current)


async def record_staff_reply(
    session: AsyncSession, actor: Actor, ticket: Ticket, *, is_internal: bool, now: datetime
) -> None:
    """A public reply by a human agent meets the response clock, once, while it runs: after the ticket
    was resolved or closed (which stopped it) a reply is no first response. It opens a `new` ticket: the
    team is on it. Audited and sent to webhooks as the change of the ticket fields it sets."""
    if is_internal or ticket.status not in OPEN_STATUSES:
        return
    values: dict[str, Any] = {}
    if ticket.first_response_at is None:
        await _record_breaches_and_reload(session, ticket, now)
        values["first_response_at"] = now
    if ticket.status == Status.NEW:  # both open: neither a clock nor the agent's load moves
        values |= status_change(ticket, Status.OPEN, now)
    if values:
        await _save_announced(session, actor, ticket, values, now)


async def move_ticket(
    session: AsyncSession, actor: Actor | None, ticket: Ticket, new_status: str, now: datetime
) -> None:
    """Move one locked ticket to `new_status` outside a PATCH (a customer's reply, an automation):
    the state machine and clocks, the queue, the audit log (actor None: the system) and webhooks.
    A move between open and resolved changes agent load: the caller holds `lock_assignments`."""
    await _record_breaches_and_reload(session, ticket, now)
    values = await reopening_aware_status_change(session, ticket, new_status, now)
    await _save_announced(session, actor, ticket, values, now)
    if "assigned_agent_id" in values:
        await assign_waiting_tickets(session, ticket.organization_id, actor)


async def record_customer_reply(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
    """A customer's reply puts a ticket waiting on them (or one resolved) back in the team's hands."""
    if ticket.status == Status.CLOSED:
        raise DomainError("ticket_closed", "this ticket is closed; open a new one")
    if ticket.status in (Status.PENDING, Status.RESOLVED):
        await move_ticket(session, actor, ticket, Status.OPEN, now)
    else:
        await session.execute(update(Ticket).where(Ticket.id == ticket.id).values(updated_at=now))
