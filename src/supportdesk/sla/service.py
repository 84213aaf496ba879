"""SLA rules that need the database: an organization's business hours, which calendar a ticket's
clocks count in, its breach history, and the breach scan."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import record, record_update, snapshot
from supportdesk.auth.actor import Actor
from supportdesk.messages.store import add_message
from supportdesk.sla.business_hours import ALWAYS_OPEN, Calendar, calendar_from
from supportdesk.sla.clock import readings
from supportdesk.sla.models import BusinessHours, SlaEvent
from supportdesk.sla.schemas import BusinessHoursIn, BusinessHoursOut
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.views import announce_changed
from supportdesk.webhooks.events import emit_event

# Unset business hours mean open around the clock.
DEFAULT_WEEKLY_HOURS = {str(day): [("00:00", "24:00")] for day in range(1, 8)}


def _out(row: BusinessHours | None) -> BusinessHoursOut:
    if row is None:
        return BusinessHoursOut(
            timezone="UTC", weekly_hours=DEFAULT_WEEKLY_HOURS, holidays=[], updated_at=None
        )
    return BusinessHoursOut.model_validate(row)


async def get_business_hours(session: AsyncSession, actor: Actor) -> BusinessHoursOut:
    return _out(await session.get(BusinessHours, actor.organization_id))


async def set_business_hours(session: AsyncSession, actor: Actor, data: BusinessHoursIn) -> BusinessHoursOut:
    current = await session.scalar(
        select(BusinessHours).where(BusinessHours.organization_id == actor.organization_id).with_for_update()
    )
    before = snapshot(_out(current))
    values = {**data.as_stored(), "updated_at": datetime.now(UTC)}
    row = await session.scalar(
        pg_insert(BusinessHours)
        .values(organization_id=actor.organization_id, **values)
        .on_conflict_do_update(index_elements=[BusinessHours.organization_id], set_=values)
        .returning(BusinessHours),
        execution_options={"populate_existing": True},
    )
    after = _out(row)
    await record_update(
        session,
        actor,
        "business_hours.updated",
        "business_hours",
        actor.organization_id,
        before,
        snapshot(after),
    )
    return after


async def organization_calendar(
    session: AsyncSession, organization_id: uuid.UUID, *, lock: bool = False
) -> Calendar:
    """The organization's business hours (around the clock until it sets some); with `lock`, held until
    the transaction ends, as a change of them holds them."""
    row = await session.get(BusinessHours, organization_id, with_for_update=lock)
    if row is None:
        return ALWAYS_OPEN
    return calendar_from(row.timezone, row.weekly_hours, row.holidays)


async def clock_calendar(session: AsyncSession, organization_id: uuid.UUID, category: Any | None) -> Calendar:
    """The calendar a ticket's clocks count in: business hours if its category follows them."""
    if category is not None and category.uses_business_hours:
        return await organization_calendar(session, organization_id)
    return ALWAYS_OPEN


# --- The breach scan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    name: str
    kind: str
    due_column: str
    flag_column: str
    # Exactly the predicate of its partial index (migration 0004), so the scan reads only tickets
    # whose clock still runs, never resolved history.
    running: str
    note: str


CLOCKS = (
    Clock(
        "response",
        "response_breached",
        "response_due_at",
        "response_breached",
        "first_response_at IS NULL AND NOT response_breached AND status NOT IN ('resolved', 'closed')",
        "SLA breached: the first response was due by {due} and has not been given.",
    ),
    Clock(
        "resolution",
        "resolution_breached",
        "resolution_due_at",
        "resolution_breached",
        "resolution_paused_at IS NULL AND NOT resolution_breached AND status NOT IN ('resolved', 'closed')",
        "SLA breached: resolution was due by {due} and the ticket is not resolved.",
    ),
)
NEXT_CRITICALITY = {"low": "medium", "medium": "high", "high": "critical", "critical": "critical"}
BATCH_SIZE = 200

Sessions = AsyncSession | Callable[[], AbstractAsyncContextManager[AsyncSession]]


@asynccontextmanager
async def _batch_transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    if isinstance(sessions, AsyncSession):
        yield sessions  # the caller's transaction (a system one) holds every batch
    else:
        async with sessions() as session:
            yield session


async def scan_breaches(sessions: Sessions, now: datetime, *, batch_size: int = BATCH_SIZE) -> int:
    """Record every clock whose deadline has come by `now` (due_at <= now) and is not met, paused or
    already breached; returns how many breaches were recorded. `sessions` is a system session, or
    a factory of them (system_session) to commit each batch on its own."""
    recorded = 0
    for clock in CLOCKS:
        while True:
            async with _batch_transaction(sessions) as session:
                locked, new = await _scan_batch(session, clock, now, batch_size)
            recorded += new
            if locked < batch_size:
                break
    return recorded


async def _scan_batch(session: AsyncSession, clock: Clock, now: datetime, batch_size: int) -> tuple[int, int]:
    # SKIP LOCKED: two workers scanning at once take different tickets, and a ticket an agent is
    # changing right now is left for the next minute's scan rather than waited for.
    rows = (
        await session.execute(
            text(
                f"SELECT id, organization_id, {clock.due_column} AS due_at, criticality FROM tickets"
                f" WHERE {clock.running} AND {clock.due_column} <= :now"
                f" ORDER BY {clock.due_column} LIMIT :batch FOR UPDATE SKIP LOCKED"
            ),
            {"now": now, "batch": batch_size},
        )
    ).all()
    breached = [row for row in rows if await _record_breach(session, clock, row, now)]
    for organization_id in {row.organization_id for row in breached}:
        ticket_ids = [row.id for row in breached if row.organization_id == organization_id]
        await announce_changed(session, organization_id, ticket_ids)  # criticality raised, flag set
    return len(rows), len(breached)


def clock_stopped(name: str, ticket: Ticket) -> bool:
    """Whether a ticket's clock ("response" or "resolution") stopped: met, resolved or closed, or
    breached already. Nothing moves its deadline or breaches it any more."""
    clock = next(clock for clock in CLOCKS if clock.name == name)
    if ticket.status in ("resolved", "closed") or getattr(ticket, clock.flag_column):
        return True
    return name == "response" and ticket.first_response_at is not None


def _clock_reading(clock: Clock, ticket: Ticket, now: datetime) -> datetime | None:
    """The moment `clock` reads for one ticket in hand (`clock.running` in Python, and more): `now` while
    it runs, the pause's start while the resolution clock is paused; None once it stopped."""
    if clock_stopped(clock.name, ticket):
        return None
    return readings(ticket, now)[clock.name]


async def record_due_breaches(session: AsyncSession, ticket: Ticket, now: datetime) -> int:
    """Record the breaches a ticket's clocks show that are not recorded yet: the ones that have come but
    the scan has not reached (it runs every minute), before a change stops the clock (a reply, a pause,
    a resolve) or moves its deadline (a category change); and the one a category change brings before a
    paused clock's reading. The history never misses a breach the clock shows. The caller holds the
    ticket's row lock. Returns how many were new."""
    recorded, criticality = 0, ticket.criticality
    for clock in CLOCKS:
        due_at, reading = getattr(ticket, clock.due_column), _clock_reading(clock, ticket, now)
        if due_at is None or reading is None or due_at > reading:
            continue
        row = SimpleNamespace(
            id=ticket.id, organization_id=ticket.organization_id, due_at=due_at, criticality=criticality
        )
        if await _record_breach(session, clock, row, now):
            recorded += 1
            criticality = NEXT_CRITICALITY.get(criticality or "low", "critical")
    return recorded


async def _record_breach(session: AsyncSession, clock: Clock, ticket: Any, now: datetime) -> int:
    """Record one breach once: the event, the flag, one step of criticality, an internal note, the
    audit entry and the webhook. Returns 1 if it was new."""
    event_id = await session.scalar(
        pg_insert(SlaEvent)
        .values(
            id=uuid.uuid4(),
            organization_id=ticket.organization_id,
            ticket_id=ticket.id,
            kind=clock.kind,
            due_at=ticket.due_at,
            occurred_at=now,
        )
        .on_conflict_do_nothing(index_elements=[SlaEvent.ticket_id, SlaEvent.kind])
        .returning(SlaEvent.id)
    )
    if event_id is None:
        # Recorded before (the flag was lost somehow): set the flag, escalate nothing twice.
        await session.execute(update(Ticket).where(Ticket.id == ticket.id).values({clock.flag_column: True}))
        return 0
    await _escalate(session, clock, ticket, now)
    return 1


async def _escalate(session: AsyncSession, clock: Clock, ticket: Any, now: datetime) -> None:
    """A new breach's consequences: the flag, one step of criticality, an internal note, the audit entry
    and the webhook."""
    criticality = NEXT_CRITICALITY.get(ticket.criticality or "low", "critical")
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values({clock.flag_column: True, "criticality": criticality, "updated_at": now})
    )
    note = clock.note.format(due=ticket.due_at.astimezone(UTC).isoformat())
    await add_message(session, ticket.organization_id, ticket.id, note, now=now, is_internal=True)
    await record(
        session,
        None,
        "ticket.sla_breached",
        "ticket",
        ticket.id,
        organization_id=ticket.organization_id,
        before={clock.flag_column: False, "criticality": ticket.criticality},
        after={clock.flag_column: True, "criticality": criticality},
    )
    await emit_event(
        session,
        ticket.organization_id,
        "sla.breached",
        {
            "ticket_id": ticket.id,
            "kind": clock.kind,
            "due_at": ticket.due_at,
            "occurred_at": now,
            "criticality": criticality,
        },
    )
