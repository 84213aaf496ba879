"""Tickets: creation under the plan's monthly limit, a PATCH of their fields, and lists. How the status and
the category change is `transitions`; a change that is not a PATCH, `system_changes`."""

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, insert, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.ai.jobs import defer_answer_model, defer_triage, defer_triage_retrain
from supportdesk.audit.service import changed, record
from supportdesk.auth.actor import Actor
from supportdesk.categories.models import Category
from supportdesk.customers.service import upsert_customer
from supportdesk.documents.models import Document
from supportdesk.errors import DomainError, NotFound
from supportdesk.knowledge.negation import websearch_text
from supportdesk.pagination import paginate
from supportdesk.sla import clock as sla
from supportdesk.sla.service import clock_calendar, record_due_breaches
from supportdesk.tickets.assignment import (
    assign_next_agent,
    assign_waiting_tickets,
    can_hold_tickets,
    lock_assignments,
)
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.references import lock_referenced
from supportdesk.tickets.schemas import TicketFilters, TicketIn, TicketPatch
from supportdesk.tickets.states import SETTLED_WHEN_CLOSED, Status, ensure_transition
from supportdesk.tickets.transitions import (
    active_category,
    as_if,
    category_change,
    reopening_aware_status_change,
)
from supportdesk.tickets.views import audited
from supportdesk.webhooks.events import emit_event


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
        query = func.websearch_to_tsquery(literal_column("'simple'::regconfig"), websearch_text(filters.q))
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


async def create_ticket(
    session: AsyncSession, actor: Actor, data: TicketIn, *, now: datetime | None = None
) -> Ticket:
    now = now or datetime.now(UTC)
    await _count_against_monthly_limit(session, actor.organization_id, now)
    category = await active_category(session, actor, data.category_id) if data.category_id else None
    customer_id = await upsert_customer(
        session, actor.organization_id, data.customer.email, data.customer.name
    )
    # The assignment lock, which it takes anyway, before the calendar is read: a change of business hours
    # takes it first, so the ticket is counted in the new hours or recounted by the change.
    await lock_assignments(session, actor.organization_id)
    clocks = await _new_clocks(session, actor.organization_id, category, now)
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
            **clocks,
            created_at=now,
            updated_at=now,
        )
        .returning(Ticket)
    )
    assert ticket is not None
    created = audited(ticket)
    # one opened on the portal is its customer's doing: the audit log says which customer
    author = replace(actor, customer_id=customer_id) if actor.role == "customer" else actor
    await record(session, author, "ticket.created", "ticket", ticket.id, after=created)
    await emit_event(session, actor.organization_id, "ticket.created", created)
    await defer_triage(session, ticket)
    return ticket


async def _new_clocks(
    session: AsyncSession, organization_id: uuid.UUID, category: Category | None, now: datetime
) -> dict[str, Any]:
    """A new ticket's SLA fields: its category's minutes (or the defaults), the deadlines they give from
    `now` on the category's calendar, nothing breached."""
    response_minutes, resolution_minutes = sla.sla_minutes(category)
    calendar = await clock_calendar(session, organization_id, category)
    response_due_at, resolution_due_at = sla.deadlines(now, response_minutes, resolution_minutes, calendar)
    return {
        "response_due_at": response_due_at,
        "resolution_due_at": resolution_due_at,
        "response_sla_minutes": response_minutes,
        "resolution_sla_minutes": resolution_minutes,
        "response_breached": False,
        "resolution_breached": False,
    }


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
    moves_load = "status" in given or "assigned_agent_id" in given
    ticket = await _locked_for(session, actor, ticket_id, patch, moves_load)
    _ensure_still_workable(ticket, patch)
    now = now or datetime.now(UTC)
    new_status = patch.status is not None and patch.status != ticket.status
    new_category = "category_id" in given and patch.category_id != ticket.category_id
    # The breaches that have come are recorded before the clocks stop or their deadlines move.
    if (new_status or new_category) and await record_due_breaches(session, ticket, now):
        ticket = await get_ticket(session, actor, ticket.id, lock=True)
    before = audited(ticket)
    values: dict[str, Any] = {}
    # The category first, then the status as it changes the ticket the category left: a pause that ends
    # moves the new deadline by its length.
    if new_category:
        values |= await category_change(session, actor, ticket, patch.category_id, now)
        # A deadline the new category puts in the past is breached before this change (and before a new
        # status stops its clock): audited first, its raised criticality is what the change starts from,
        # and a criticality the change sets wins, status or not.
        if await record_due_breaches(session, as_if(ticket, values), now):
            ticket = await get_ticket(session, actor, ticket.id, lock=True)
            before = audited(ticket)
    values |= await _labels(session, actor, ticket, patch)
    if new_status:
        values |= await reopening_aware_status_change(session, as_if(ticket, values), patch.status, now)
    values |= await _work_fields(session, actor, ticket, patch)
    if values:
        ticket = await _save(session, actor, ticket, before, values, now)
        # a deadline that came as the new status moved it (a pause ending)
        if new_category and await record_due_breaches(session, ticket, now):
            ticket = await get_ticket(session, actor, ticket.id, lock=True)
    if moves_load:
        await assign_waiting_tickets(session, actor.organization_id, actor)
        await session.refresh(ticket)
    return ticket


async def _locked_for(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, patch: TicketPatch, moves_load: bool
) -> Ticket:
    """The ticket, locked for `patch` in the order every writer takes the locks: the rows it references
    and will reference, then the assignment lock when the change moves an agent's load, then the ticket."""
    await lock_referenced(
        session,
        actor.organization_id,
        ticket_id,
        category_id=patch.category_id,
        document_id=patch.answer_document_id,
    )
    if moves_load:
        await lock_assignments(session, actor.organization_id)
    return await get_ticket(session, actor, ticket_id, lock=True)


async def _save(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    before: dict[str, Any],
    values: dict[str, Any],
    now: datetime,
) -> Ticket:
    """Write `values` to the locked ticket; audit and announce what changed since `before` (its audited
    fields)."""
    await session.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values, updated_at=now))
    ticket = await get_ticket(session, actor, ticket.id, lock=True)
    current = audited(ticket)
    before, after = changed(before, current)
    if after:
        await record(session, actor, "ticket.updated", "ticket", ticket.id, before=before, after=after)
        await emit_event(session, actor.organization_id, "ticket.updated", current)
    return ticket


def _ensure_still_workable(ticket: Ticket, patch: TicketPatch) -> None:
    if ticket.status != Status.CLOSED:
        return
    if patch.status not in (None, ticket.status):
        ensure_transition(ticket.status, patch.status)  # an invalid transition, as ever
    for name in SETTLED_WHEN_CLOSED:
        if name in patch.model_fields_set and getattr(patch, name) != getattr(ticket, name):
            raise DomainError("ticket_closed", f"{name}: this ticket is closed; open a new one")


async def _labels(session: AsyncSession, actor: Actor, ticket: Ticket, patch: TicketPatch) -> dict[str, Any]:
    """The fields of a person's word on what the ticket is and what answers it: the labels triage and the
    answer model learn from, each retrained when its labels change."""
    given = patch.model_fields_set
    values: dict[str, Any] = {}
    # A null category is a person's word that none fits: triage learns it as out of scope.
    if "category_id" in given and (patch.category_id is None) != ticket.no_category_fits:
        values["no_category_fits"] = patch.category_id is None
    if ("category_id" in given and patch.category_id != ticket.category_id) or values:
        await defer_triage_retrain(session, actor.organization_id)
    if "answer_document_id" in given:
        values |= await _answer_mark(session, actor, ticket, patch.answer_document_id)
    return values


async def _work_fields(
    session: AsyncSession, actor: Actor, ticket: Ticket, patch: TicketPatch
) -> dict[str, Any]:
    """Priority, criticality (each remembered as a person's choice, which triage then keeps) and the
    assignee: null puts the ticket back in the queue, where the next available agent takes it."""
    values: dict[str, Any] = {}
    by_a_person = actor.user_id is not None
    if patch.priority is not None:
        values["priority"] = patch.priority
        values["priority_chosen"] = ticket.priority_chosen or by_a_person
    if patch.criticality is not None:
        values["criticality"] = patch.criticality
        values["criticality_chosen"] = ticket.criticality_chosen or by_a_person
    # The assignee a client read and sends back is no change, even one who may no longer hold tickets.
    if "assigned_agent_id" in patch.model_fields_set and patch.assigned_agent_id != ticket.assigned_agent_id:
        values["assigned_agent_id"] = (
            await _assignee(session, actor, patch.assigned_agent_id) if patch.assigned_agent_id else None
        )
    return values


async def _answer_mark(
    session: AsyncSession, actor: Actor, ticket: Ticket, document_id: uuid.UUID | None
) -> dict[str, Any]:
    """The fields of a person's word on which document answers `ticket` (None: none does); the answer
    model learns it at its next training, deferred here when the word changes."""
    if document_id is not None and not await session.scalar(  # locked by `lock_referenced`
        select(Document.id).where(
            Document.id == document_id, Document.organization_id == actor.organization_id
        )
    ):
        raise DomainError("validation_error", "answer_document_id: no such document in this organization")
    values = {"answer_document_id": document_id, "no_document_answers": document_id is None}
    if (ticket.answer_document_id, ticket.no_document_answers) == tuple(values.values()):
        return {}
    await defer_answer_model(session, actor.organization_id)
    return values
