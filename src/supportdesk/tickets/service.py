"""Tickets: creation under the plan's monthly limit, the state machine, fields and lists."""

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, insert, inspect, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import changed, record, snapshot
from supportdesk.auth.actor import Actor
from supportdesk.categories.models import Category
from supportdesk.customers.service import upsert_customer
from supportdesk.documents.models import Document
from supportdesk.errors import DomainError, NotFound
from supportdesk.pagination import paginate
from supportdesk.sla import clock as sla
from supportdesk.sla.business_hours import ALWAYS_OPEN, Calendar
from supportdesk.sla.schemas import SlaBreachOut
from supportdesk.sla.service import breaches_of, clock_calendar, clock_stopped, record_due_breaches
from supportdesk.tickets.assignment import (
    assign_next_agent,
    assign_waiting_tickets,
    can_hold_tickets,
    lock_assignments,
)
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.schemas import SlaOut, TicketFilters, TicketIn, TicketOut, TicketPatch
from supportdesk.tickets.states import OPEN_STATUSES, Criticality, Status, ensure_transition
from supportdesk.webhooks.events import emit_event


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


async def _calendar_of(session: AsyncSession, ticket: Ticket) -> Calendar:
    category = await session.get(Category, ticket.category_id) if ticket.category_id else None
    return await clock_calendar(session, ticket.organization_id, category)


async def get_ticket(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, *, lock: bool = False
) -> Ticket:
    statement = select(Ticket).where(Ticket.id == ticket_id, Ticket.organization_id == actor.organization_id)
    if actor.is_customer:
        statement = statement.where(Ticket.customer_id == actor.customer_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    ticket = await session.scalar(statement)
    if ticket is None:
        raise NotFound("ticket")
    return ticket


async def list_tickets(
    session: AsyncSession, actor: Actor, filters: TicketFilters, cursor: str | None, limit: int
) -> list[Ticket]:
    statement = select(Ticket).where(Ticket.organization_id == actor.organization_id)
    if actor.is_customer:
        statement = statement.where(Ticket.customer_id == actor.customer_id)
    for name, value in filters.model_dump(exclude={"q"}, exclude_none=True).items():
        statement = statement.where(getattr(Ticket, name) == value)
    if filters.q:
        # Full-text match on title and description, words in any order: on the stored vector of both
        # (idx_tickets_search_document), which row-level security lets the planner search by index.
        query = func.websearch_to_tsquery(literal_column("'simple'::regconfig"), filters.q)
        statement = statement.where(literal_column("tickets.search_document").op("@@")(query))
        # Planned for these words: a prepared statement's generic plan, chosen after five searches on a
        # connection, walked the organization's tickets by date (30,000 tickets: 67 ms instead of 0.1).
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    statement = paginate(statement, Ticket.created_at, Ticket.id, cursor, limit)
    return list((await session.scalars(statement)).all())


async def _count_against_monthly_limit(
    session: AsyncSession, organization_id: uuid.UUID, now: datetime
) -> None:
    """Count one more ticket this month, or refuse it. One upsert of one counter row: O(1) however
    many tickets exist, and the row lock makes concurrent creates count one after the other."""
    used = await session.scalar(
        text(
            """
            INSERT INTO usage_counters AS counter (organization_id, month, tickets_created)
            SELECT id, :month, 1 FROM organizations WHERE id = :org AND monthly_ticket_limit > 0
            ON CONFLICT (organization_id, month) DO UPDATE
                SET tickets_created = counter.tickets_created + 1
                WHERE counter.tickets_created
                    < (SELECT monthly_ticket_limit FROM organizations WHERE id = :org)
            RETURNING tickets_created
            """
        ),
        {"org": organization_id, "month": date(now.year, now.month, 1)},
    )
    if used is None:
        raise DomainError(
            "monthly_ticket_limit_reached", "this organization's plan allows no more tickets this month"
        )


async def _active_category(session: AsyncSession, actor: Actor, category_id: uuid.UUID) -> Category:
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


async def create_ticket(
    session: AsyncSession, actor: Actor, data: TicketIn, *, now: datetime | None = None
) -> Ticket:
    now = now or datetime.now(UTC)
    await _count_against_monthly_limit(session, actor.organization_id, now)
    category = await _active_category(session, actor, data.category_id) if data.category_id else None
    customer_id = await upsert_customer(
        session, actor.organization_id, data.customer.email, data.customer.name
    )
    response_minutes, resolution_minutes = sla.sla_minutes(category)
    response_due_at, resolution_due_at = sla.deadlines(
        now,
        response_minutes,
        resolution_minutes,
        await clock_calendar(session, actor.organization_id, category),
    )
    ticket = await session.scalar(
        insert(Ticket)
        .values(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            category_id=category.id if category else None,
            assigned_agent_id=await assign_next_agent(session, actor.organization_id),
            customer_id=customer_id,
            title=data.title,
            description=data.description,
            status=Status.NEW,
            priority=data.priority or (category.priority_level if category else 3),
            criticality=data.criticality or "low",
            priority_chosen=data.priority is not None,
            criticality_chosen=bool(data.criticality),
            response_due_at=response_due_at,
            resolution_due_at=resolution_due_at,
            response_sla_minutes=response_minutes,
            resolution_sla_minutes=resolution_minutes,
            response_breached=False,
            resolution_breached=False,
            created_at=now,
            updated_at=now,
        )
        .returning(Ticket)
    )
    assert ticket is not None
    created = _audited(ticket)
    # one opened on the portal is its customer's doing: the audit log says which customer
    author = replace(actor, customer_id=customer_id) if actor.role == "customer" else actor
    await record(session, author, "ticket.created", "ticket", ticket.id, after=created)
    await emit_event(session, actor.organization_id, "ticket.created", created)
    from supportdesk.ai.jobs import defer_triage  # the AI domain imports this module

    await defer_triage(session, ticket)
    return ticket


# What the clock reads, rather than what was changed, stays out of audit entries and webhooks.
_CLOCK_READINGS = ("response_remaining_seconds", "resolution_remaining_seconds", "breaches")


def _audited(ticket: Ticket) -> dict[str, Any]:
    fields = snapshot(ticket_out(ticket))
    fields["sla"] = {key: value for key, value in fields["sla"].items() if key not in _CLOCK_READINGS}
    return fields


async def announce_changed(
    session: AsyncSession, organization_id: uuid.UUID, ticket_ids: list[uuid.UUID]
) -> None:
    """The `ticket.updated` webhook of tickets changed by a statement of their own (the queue handing
    them out, an agent leaving, a category deleted), as a PATCH of each would send it."""
    if not ticket_ids:
        return
    tickets = await session.scalars(
        select(Ticket).where(Ticket.id.in_(ticket_ids)).execution_options(populate_existing=True)
    )
    for ticket in tickets:
        await emit_event(session, organization_id, "ticket.updated", _audited(ticket))


async def _assignee(session: AsyncSession, actor: Actor, agent_id: uuid.UUID) -> uuid.UUID:
    if not await can_hold_tickets(session, actor.organization_id, agent_id):
        raise DomainError("validation_error", "assigned_agent_id: no such active agent in this organization")
    return agent_id


async def update_ticket(
    session: AsyncSession,
    actor: Actor,
    ticket_id: uuid.UUID,
    patch: TicketPatch,
    *,
    now: datetime | None = None,
) -> Ticket:
    given = patch.model_fields_set
    await _lock_referenced(session, actor, patch)
    moves_load = "status" in given or "assigned_agent_id" in given
    if moves_load:
        await lock_assignments(session, actor.organization_id)
    ticket = await get_ticket(session, actor, ticket_id, lock=True)
    now = now or datetime.now(UTC)
    new_status = patch.status is not None and patch.status != ticket.status
    new_category = "category_id" in given and patch.category_id != ticket.category_id
    # The breaches that have come are recorded before the clocks stop or their deadlines move.
    if (new_status or new_category) and await record_due_breaches(session, ticket, now):
        ticket = await get_ticket(session, actor, ticket.id, lock=True)
    before = _audited(ticket)
    values: dict[str, Any] = {}
    # The category first, then the status as it changes the ticket the category left: a pause that ends
    # moves the new deadline by its length.
    if new_category:
        values |= await _category_change(session, actor, ticket, patch.category_id, now)
        if new_status:  # a deadline the new category puts in the past, before the status stops its clock
            await record_due_breaches(session, _as_if(ticket, values), now)
    # A null category is a person's word that none fits: triage learns it as out of scope.
    if "category_id" in given and (patch.category_id is None) != ticket.no_category_fits:
        values["no_category_fits"] = patch.category_id is None
    if new_category or "no_category_fits" in values:  # triage learns from what people categorize
        from supportdesk.ai.jobs import defer_triage_retrain  # the AI domain imports this module

        await defer_triage_retrain(session, actor.organization_id)
    if "answer_document_id" in given:
        values |= await _answer_mark(session, actor, ticket, patch.answer_document_id)
    if new_status:
        values |= await _reopening_aware_status_change(session, _as_if(ticket, values), patch.status, now)
    by_a_person = actor.user_id is not None
    if patch.priority is not None:
        values["priority"] = patch.priority
        values["priority_chosen"] = ticket.priority_chosen or by_a_person
    if patch.criticality is not None:
        values["criticality"] = patch.criticality
        values["criticality_chosen"] = ticket.criticality_chosen or by_a_person
    if "assigned_agent_id" in given:
        # null puts the ticket back in the queue, where the next available agent takes it.
        values["assigned_agent_id"] = (
            await _assignee(session, actor, patch.assigned_agent_id) if patch.assigned_agent_id else None
        )
    if values:
        await session.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values, updated_at=now))
        ticket = await get_ticket(session, actor, ticket.id, lock=True)
        current = _audited(ticket)
        before, after = changed(before, current)
        if after:
            await record(session, actor, "ticket.updated", "ticket", ticket.id, before=before, after=after)
            await emit_event(session, actor.organization_id, "ticket.updated", current)
        # a stricter category may have brought a deadline that has come already
        if new_category and await record_due_breaches(session, ticket, now):
            ticket = await get_ticket(session, actor, ticket.id, lock=True)
    if moves_load:
        await assign_waiting_tickets(session, actor.organization_id, actor)
        await session.refresh(ticket)
    return ticket


async def _lock_referenced(session: AsyncSession, actor: Actor, patch: TicketPatch) -> None:
    """KEY SHARE on the category and the document the change will reference, before the ticket: their
    deletion locks them, then the tickets referencing them, and this order never meets the reverse (a
    deadlock). Nothing is checked here: a row that is not there is refused later, as ever."""
    for model, row_id in ((Category, patch.category_id), (Document, patch.answer_document_id)):
        if row_id is not None:
            await session.execute(
                select(model.id)
                .where(model.id == row_id, model.organization_id == actor.organization_id)
                .with_for_update(key_share=True, read=True)
            )


async def _answer_mark(
    session: AsyncSession, actor: Actor, ticket: Ticket, document_id: uuid.UUID | None
) -> dict[str, Any]:
    """The fields of a person's word on which document answers `ticket` (None: none does); the answer
    model learns it at its next training, deferred here when the word changes."""
    if document_id is not None and not await session.scalar(  # locked by `_lock_referenced`
        select(Document.id).where(
            Document.id == document_id, Document.organization_id == actor.organization_id
        )
    ):
        raise DomainError("validation_error", "answer_document_id: no such document in this organization")
    values = {"answer_document_id": document_id, "no_document_answers": document_id is None}
    if (ticket.answer_document_id, ticket.no_document_answers) == tuple(values.values()):
        return {}
    from supportdesk.ai.jobs import defer_answer_model  # the AI domain imports this module

    await defer_answer_model(session, actor.organization_id)
    return values


def _as_if(ticket: Ticket, values: dict[str, Any]) -> Any:
    """The ticket's columns as they read once `values` are written (nothing is written)."""
    columns = {attribute.key: getattr(ticket, attribute.key) for attribute in inspect(Ticket).column_attrs}
    return SimpleNamespace(**(columns | values))


def status_change(
    ticket: Ticket, new_status: str, now: datetime, calendar: Calendar = ALWAYS_OPEN
) -> dict[str, Any]:
    """The fields that change when a ticket moves to `new_status`: the one path for every caller.
    `calendar` is the one its clocks count in (`_calendar_of`); it matters only when a pause ends, or the
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


async def _reopening_aware_status_change(
    session: AsyncSession, ticket: Ticket, new_status: str, now: datetime
) -> dict[str, Any]:
    """`status_change`, and a reopened ticket whose agent has since left goes back to the queue
    (the caller holds the assignment lock and hands out waiting tickets afterwards)."""
    ends_pause = ticket.resolution_paused_at is not None and new_status != ticket.status
    reopening = ticket.status not in OPEN_STATUSES and new_status in OPEN_STATUSES
    resolving = ticket.status in OPEN_STATUSES and new_status not in OPEN_STATUSES
    calendar = await _calendar_of(session, ticket) if ends_pause or reopening or resolving else ALWAYS_OPEN
    values = status_change(ticket, new_status, now, calendar)
    agent_id = ticket.assigned_agent_id
    if reopening and agent_id and not await can_hold_tickets(session, ticket.organization_id, agent_id):
        values["assigned_agent_id"] = None
    return values


async def _category_change(
    session: AsyncSession, actor: Actor, ticket: Ticket, category_id: uuid.UUID | None, now: datetime
) -> dict[str, Any]:
    """Moving category keeps the time each clock had left, plus the difference between the new
    category's SLA and the one the deadlines were computed with, each counted in its category's calendar
    (around the clock or business hours)."""
    old = await session.get(Category, ticket.category_id) if ticket.category_id else None
    new = await _active_category(session, actor, category_id) if category_id else None
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
        moved = _moved_clock(ticket, name, reading, extra, old_calendar, new_calendar)
        if moved:
            values |= moved | {f"{name}_sla_minutes": new_minutes}
    return values


def _moved_clock(
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
            changes |= _moved_clock(ticket, name, reading, timedelta(0), old_calendar, new_calendar)
        if changes:  # none when both clocks stopped and the ticket keeps its category
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
    (its SLA deadlines move as `_category_change` moves them) with the category's priority when
    `set_priority`, and a `criticality` (never lower than the ticket's). Audited as "ticket.triaged"
    with `details`; webhooks hear "ticket.updated" when a field changed."""
    new_category = category_id is not None and category_id != ticket.category_id
    if new_category:  # as a PATCH does
        await _record_breaches_and_reload(session, ticket, now)
    before = _audited(ticket)
    values: dict[str, Any] = {}
    system = Actor(organization_id=ticket.organization_id, role="system")
    if new_category:
        category = await _active_category(session, system, category_id)
        values |= await _category_change(session, system, ticket, category_id, now)
        if set_priority:
            values["priority"] = category.priority_level
    levels = list(Criticality)  # low to critical
    if criticality is not None and levels.index(criticality) > levels.index(ticket.criticality or "low"):
        values["criticality"] = criticality
    if values:
        await _save(session, ticket, values, now)
    current = _audited(ticket)
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


async def _record_breaches_and_reload(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Record the breaches due on a locked ticket and reload it with them: before a change stops or moves
    its clocks (the scan never reads a stopped clock), or after a stricter category brought them."""
    if await record_due_breaches(session, ticket, now):
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
    before = _audited(ticket)
    await _save(session, ticket, values, now)
    current = _audited(ticket)
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
    was resolved or closed (which stopped it) a reply is no first response. Audited and sent to webhooks
    as the change of the ticket field it sets."""
    if not is_internal and ticket.first_response_at is None and ticket.status in OPEN_STATUSES:
        await _record_breaches_and_reload(session, ticket, now)
        await _save_announced(session, actor, ticket, {"first_response_at": now}, now)


async def move_ticket(
    session: AsyncSession, actor: Actor | None, ticket: Ticket, new_status: str, now: datetime
) -> None:
    """Move one locked ticket to `new_status` outside a PATCH (a customer's reply, an automation):
    the state machine and clocks, the queue, the audit log (actor None: the system) and webhooks.
    A move between open and resolved changes agent load: the caller holds `lock_assignments`."""
    await _record_breaches_and_reload(session, ticket, now)
    values = await _reopening_aware_status_change(session, ticket, new_status, now)
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
