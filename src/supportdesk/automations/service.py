"""Automations: what happens to a ticket by itself when nobody touches it.

- A resolved ticket closes `auto_close_after_days` after it was resolved.
- A pending ticket (waiting on the customer) gets one friendly reminder `pending_reminder_after_hours`
  into its wait, and resolves itself `pending_auto_resolve_after_days` into it.

Each setting is per organization; null turns the rule off. The wait of a pending ticket began at
its `resolution_paused_at`; a reminder counts for the current wait only if it was sent after that
moment, so a ticket that the customer reopened and that is pending again later gets a new one.

Every rule works one organization and one batch at a time, in its own transaction: it picks the due
tickets through the partial indexes (`idx_tickets_resolved_at`, `idx_tickets_waiting_on_customer`,
never the resolved or closed history), locks them `FOR UPDATE SKIP LOCKED` so that two workers
never take the same ticket, and re-checks the rule under the lock, so running it again changes
nothing more. Functions take `now` so that tests control the clock.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.db import system_session, tenant_session
from supportdesk.messages.store import add_message
from supportdesk.organizations.models import Organization
from supportdesk.tickets.assignment import assign_waiting_tickets, lock_assignments
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.states import Status
from supportdesk.tickets.system_changes import move_ticket

log = logging.getLogger(__name__)

# Tickets changed per transaction: short transactions, short row locks.
BATCH_SIZE = 100

REMINDER_TEXT = (
    "Hello! We're still here to help. We haven't heard back from you about this request: do you"
    " still need help with it? Just reply to this message and we'll pick it up from there."
)
AUTO_RESOLVED_TEXT = (
    "We haven't heard back from you for a while, so we've marked this request as resolved. If you"
    " still need help, just reply to this message and we'll reopen it."
)

Step = Callable[[AsyncSession, uuid.UUID, datetime], Awaitable[int]]


async def _setting(session: AsyncSession, organization_id: uuid.UUID, name: str) -> int | None:
    return await session.scalar(select(getattr(Organization, name)).where(Organization.id == organization_id))


async def _due_tickets(session: AsyncSession, statement: Any, oldest_first: Any) -> list[Ticket]:
    # SKIP LOCKED: a ticket another worker (or a request) holds is theirs; the next run sees it again
    # if it is still due. Oldest first, the order of the partial index, so the scan stops at the batch.
    # populate_existing: the rows as locked, not as this session last saw them.
    locked = statement.order_by(oldest_first, Ticket.id).limit(BATCH_SIZE).with_for_update(skip_locked=True)
    return list((await session.scalars(locked.execution_options(populate_existing=True))).all())


async def _post_automatic_message(session: AsyncSession, ticket: Ticket, content: str, now: datetime) -> None:
    """A public message from the team, written by no one: the customer sees it in the portal."""
    await add_message(session, ticket.organization_id, ticket.id, content, now=now, is_auto_response=True)


async def close_resolved_tickets(session: AsyncSession, organization_id: uuid.UUID, now: datetime) -> int:
    """Close one batch of the organization's tickets resolved `auto_close_after_days` ago or more.

    Resolved and closed tickets both count nothing against their agent, so no assignment lock."""
    days = await _setting(session, organization_id, "auto_close_after_days")
    if days is None:
        return 0
    tickets = await _due_tickets(
        session,
        select(Ticket).where(
            Ticket.organization_id == organization_id,
            Ticket.status == Status.RESOLVED,
            Ticket.resolved_at <= now - timedelta(days=days),
        ),
        Ticket.resolved_at,
    )
    for ticket in tickets:
        await move_ticket(session, None, ticket, Status.CLOSED, now)
    return len(tickets)


def _waiting_since(organization_id: uuid.UUID, cutoff: datetime) -> Any:
    """Pending tickets of the organization waiting on their customer since `cutoff` or before."""
    return select(Ticket).where(
        Ticket.organization_id == organization_id,
        Ticket.status == Status.PENDING,
        Ticket.resolution_paused_at <= cutoff,
    )


async def remind_pending_tickets(session: AsyncSession, organization_id: uuid.UUID, now: datetime) -> int:
    """Send one reminder to each customer whose ticket has waited `pending_reminder_after_hours`,
    once per wait. Returns how many were sent."""
    hours = await _setting(session, organization_id, "pending_reminder_after_hours")
    if hours is None:
        return 0
    tickets = await _due_tickets(
        session,
        _waiting_since(organization_id, now - timedelta(hours=hours)).where(
            Ticket.pending_reminder_sent_at.is_(None)
            | (Ticket.pending_reminder_sent_at < Ticket.resolution_paused_at)
        ),
        Ticket.resolution_paused_at,
    )
    for ticket in tickets:
        await _post_automatic_message(session, ticket, REMINDER_TEXT, now)
        await session.execute(
            update(Ticket).where(Ticket.id == ticket.id).values(pending_reminder_sent_at=now, updated_at=now)
        )
    return len(tickets)


async def resolve_unanswered_tickets(session: AsyncSession, organization_id: uuid.UUID, now: datetime) -> int:
    """Resolve the organization's tickets that waited `pending_auto_resolve_after_days` without a
    reply, telling their customers, then hand the freed capacity to waiting tickets."""
    days = await _setting(session, organization_id, "pending_auto_resolve_after_days")
    if days is None:
        return 0
    # Resolving frees agent load: the assignment lock before any ticket row (assignment.py).
    await lock_assignments(session, organization_id)
    tickets = await _due_tickets(
        session, _waiting_since(organization_id, now - timedelta(days=days)), Ticket.resolution_paused_at
    )
    for ticket in tickets:
        await _post_automatic_message(session, ticket, AUTO_RESOLVED_TEXT, now)
        await move_ticket(session, None, ticket, Status.RESOLVED, now)
    if tickets:
        await assign_waiting_tickets(session, organization_id, None)
    return len(tickets)


# Which organizations have work for each rule: each active organization that turned the rule on,
# with its cutoff, then one probe of the rule's partial index per organization. The cutoffs are
# computed first (MATERIALIZED) so that the probe compares two plain values: row-level security
# keeps an expression like `now - make_interval(...)` (not leakproof) out of an index condition, and
# the probe would then read every resolved ticket of the organization. Read without locks; the
# rules re-check under theirs. Days of 24 hours, as the rules count them: PostgreSQL counts
# make_interval's days in the session's time zone (49 hours across an autumn clock change).
_DUE_ORGANIZATIONS = {
    close_resolved_tickets: """
        WITH enabled AS MATERIALIZED (
            SELECT id, CAST(:now AS timestamptz) - make_interval(hours => 24 * auto_close_after_days)
                AS cutoff
            FROM organizations WHERE is_active IS NOT FALSE AND auto_close_after_days IS NOT NULL)
        SELECT id FROM enabled WHERE EXISTS (
            SELECT 1 FROM tickets t WHERE t.organization_id = enabled.id AND t.status = 'resolved'
            AND t.resolved_at <= enabled.cutoff)
    """,
    remind_pending_tickets: """
        WITH enabled AS MATERIALIZED (
            SELECT id, CAST(:now AS timestamptz) - make_interval(hours => pending_reminder_after_hours)
                AS cutoff
            FROM organizations WHERE is_active IS NOT FALSE AND pending_reminder_after_hours IS NOT NULL)
        SELECT id FROM enabled WHERE EXISTS (
            SELECT 1 FROM tickets t WHERE t.organization_id = enabled.id AND t.status = 'pending'
            AND t.resolution_paused_at <= enabled.cutoff
            AND (t.pending_reminder_sent_at IS NULL OR t.pending_reminder_sent_at < t.resolution_paused_at))
    """,
    resolve_unanswered_tickets: """
        WITH enabled AS MATERIALIZED (
            SELECT id,
                CAST(:now AS timestamptz) - make_interval(hours => 24 * pending_auto_resolve_after_days)
                AS cutoff
            FROM organizations WHERE is_active IS NOT FALSE AND pending_auto_resolve_after_days IS NOT NULL)
        SELECT id FROM enabled WHERE EXISTS (
            SELECT 1 FROM tickets t WHERE t.organization_id = enabled.id AND t.status = 'pending'
            AND t.resolution_paused_at <= enabled.cutoff)
    """,
}


async def due_organizations(rule: Step, now: datetime) -> list[uuid.UUID]:
    # The system: the scan crosses every tenant to find which ones have due tickets.
    async with system_session() as session:
        return list((await session.scalars(text(_DUE_ORGANIZATIONS[rule]), {"now": now})).all())


class AutomationFailed(Exception):
    """Some organizations could not be processed; the others were. The job retries them all."""


async def run_rule(rule: Step, now: datetime) -> int:
    """Apply one rule to every organization, a batch per transaction; returns how many tickets.

    One organization failing (and logged) does not stop the others; it is raised at the end."""
    total, failed = 0, []
    for organization_id in await due_organizations(rule, now):
        try:
            total += await _run_for_organization(rule, organization_id, now)
        except Exception:
            log.exception("%s failed for organization %s", rule.__name__, organization_id)
            failed.append(organization_id)
    if total:
        log.info("%s: %d tickets", rule.__name__, total)
    if failed:
        raise AutomationFailed(f"{rule.__name__} failed for {len(failed)} organizations: {failed[:10]}")
    return total


async def _run_for_organization(rule: Step, organization_id: uuid.UUID, now: datetime) -> int:
    total = 0
    while True:
        async with tenant_session(organization_id) as session:
            done = await rule(session, organization_id, now)
        total += done
        # A short batch: nothing left, or the rest is locked by someone who will finish it.
        if done < BATCH_SIZE:
            return total


RULES_IN_ORDER: tuple[Step, ...] = (
    close_resolved_tickets,
    resolve_unanswered_tickets,
    remind_pending_tickets,
)


async def run_all(now: datetime) -> dict[str, int]:
    """Every rule, in an order that makes sense for a ticket due on several at once: one that resolves
    itself now needs no reminder, and one just resolved does not close in the same run.

    Each rule runs even if one before it failed; the first failure is raised at the end."""
    done: dict[str, int] = {}
    failure: AutomationFailed | None = None
    for rule in RULES_IN_ORDER:
        try:
            done[rule.__name__] = await run_rule(rule, now)
        except AutomationFailed as error:
            failure = failure or error
    if failure:
        raise failure
    return done
