"""How a ticket's status and category change, whoever changes them (a PATCH, a reply, an automation,
triage, the demo): the state machine and its clocks, and a category's SLA and calendar. Each function
returns the fields to write; the callers write them."""

import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.categories.models import Category
from supportdesk.errors import DomainError
from supportdesk.sla import clock as sla
from supportdesk.sla.business_hours import ALWAYS_OPEN, Calendar
from supportdesk.sla.service import clock_calendar, clock_stopped
from supportdesk.tickets.assignment import can_hold_tickets
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.states import OPEN_STATUSES, Status, ensure_transition


async def calendar_of(session: AsyncSession, ticket: Ticket) -> Calendar:
    category = await session.get(Category, ticket.category_id) if ticket.category_id else None
    return await clock_calendar(session, ticket.organization_id, category)


async def active_category(session: AsyncSession, actor: Actor, category_id: uuid.UUID) -> Category:
    # KEY SHARE, as the foreign key's own check takes it, but now: a deletion racing this change then
    # either waits for it (and uncategorizes its ticket) or has happened (and this answers 422).
    category = await session.scalar(
        select(Category)
        .where(
            Category.id == category_id,
            Category.organization_id == actor.organization_id,
            Category.is_active.is_not(False),
        )
        .with_for_update(key_share=True, read=True)
    )
    if category is None:
        raise DomainError("validation_error", "category_id: no such active category in this organization")
    return category


def as_if(ticket: Ticket, values: dict[str, Any]) -> Any:
    """The ticket's columns as they read once `values` are written (nothing is written)."""
    columns = {attribute.key: getattr(ticket, attribute.key) for attribute in inspect(Ticket).column_attrs}
    return SimpleNamespace(**(columns | values))


def status_change(
    ticket: Ticket, new_status: str, now: datetime, calendar: Calendar = ALWAYS_OPEN
) -> dict[str, Any]:
    """The fields that change when a ticket moves to `new_status`: the one path for every caller.
    `calendar` is the one its clocks count in (`calendar_of`); it matters only when a pause ends, or the
    ticket is resolved (or closed) or reopened."""
    ensure_transition(ticket.status, new_status)
    values: dict[str, Any] = {
        "status": new_status,
        **sla.apply_status_to_clock(ticket, new_status, now, calendar),
    }
    if ticket.status not in OPEN_STATUSES and new_status in OPEN_STATUSES:
        values |= sla.resume_after_resolution(ticket, now, calendar)
    if new_status in (Status.RESOLVED, Status.CLOSED) and ticket.resolved_at is None:
        values["resolved_at"] = now
        values |= sla.time_left_at_resolution(ticket, now, calendar)
    if new_status in OPEN_STATUSES:
        values["resolved_at"] = None
    return values


async def reopening_aware_status_change(
    session: AsyncSession, ticket: Ticket, new_status: str, now: datetime
) -> dict[str, Any]:
    """`status_change`, and a reopened ticket whose agent has since left goes back to the queue
    (the caller holds the assignment lock and hands out waiting tickets afterwards)."""
    ends_pause = ticket.resolution_paused_at is not None and new_status != ticket.status
    reopening = ticket.status not in OPEN_STATUSES and new_status in OPEN_STATUSES
    resolving = ticket.status in OPEN_STATUSES and new_status not in OPEN_STATUSES
    calendar = await calendar_of(session, ticket) if ends_pause or reopening or resolving else ALWAYS_OPEN
    values = status_change(ticket, new_status, now, calendar)
    agent_id = ticket.assigned_agent_id
    if reopening and agent_id and not await can_hold_tickets(session, ticket.organization_id, agent_id):
        values["assigned_agent_id"] = None
    return values


async def category_change(
    session: AsyncSession, actor: Actor, ticket: Ticket, category_id: uuid.UUID | None, now: datetime
) -> dict[str, Any]:
    """Moving category keeps the time each clock had left, plus the difference between the new
    category's SLA and the one the deadlines were computed with, each counted in its category's calendar
    (around the clock or business hours)."""
    old = await session.get(Category, ticket.category_id) if ticket.category_id else None
    new = await active_category(session, actor, category_id) if category_id else None
    old_calendar = await clock_calendar(session, ticket.organization_id, old)
    new_calendar = await clock_calendar(session, ticket.organization_id, new)
    # The minutes the deadlines were computed with; the old category's current ones for a ticket from
    # before they were kept.
    current_response, current_resolution = sla.sla_minutes(old)
    old_response = ticket.response_sla_minutes or current_response
    old_resolution = ticket.resolution_sla_minutes or current_resolution
    new_response, new_resolution = sla.sla_minutes(new)
    values: dict[str, Any] = {"category_id": category_id}
    minutes = {"response": (old_response, new_response), "resolution": (old_resolution, new_resolution)}
    for name, reading in sla.readings(ticket, now).items():
        old_minutes, new_minutes = minutes[name]
        extra = timedelta(minutes=new_minutes - old_minutes)
        moved = moved_clock(ticket, name, reading, extra, old_calendar, new_calendar)
        if moved:
            values |= moved | {f"{name}_sla_minutes": new_minutes}
    return values


def moved_clock(
    ticket: Ticket,
    name: str,
    reading: datetime,
    extra: timedelta,
    old_calendar: Calendar,
    new_calendar: Calendar,
) -> dict[str, Any]:
    """A clock's deadline, or time left, when a category change adds `extra` to its SLA. A running
    clock's deadline moves (`sla.moved_deadline`, from the clock's `reading`). One a resolve stopped in
    time keeps `extra` in the time left it starts again with on reopening: a category changed while the
    ticket is resolved then gives the deadlines a change right after reopening gives. A stopped clock
    (met, breached) keeps its deadline: whether it was met is history."""
    due_at, left_seconds = getattr(ticket, f"{name}_due_at"), getattr(ticket, f"{name}_left_seconds")
    if due_at is not None and not clock_stopped(name, ticket):
        return {f"{name}_due_at": sla.moved_deadline(due_at, reading, extra, old_calendar, new_calendar)}
    if left_seconds is not None:
        return {f"{name}_left_seconds": left_seconds + int(extra.total_seconds())}
    return {}
