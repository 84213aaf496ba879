"""Deleting a customer with their tickets: for a person who asks to be forgotten, and for retention once
it has removed a customer's last ticket."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.ai.jobs import defer_answer_model, defer_triage_retrain
from supportdesk.audit.models import AuditLog
from supportdesk.audit.service import record
from supportdesk.auth.actor import Actor
from supportdesk.customers.models import Customer
from supportdesk.customers.service import get_customer
from supportdesk.errors import DomainError
from supportdesk.lifecycle.archive import archive
from supportdesk.tickets.models import Ticket

FINISHED = ("resolved", "closed")
# A delivery's `data` is the ticket (`id`), or a message or breach of it (`ticket_id`). Reads the
# organization's deliveries, which retention keeps 30 days: an erasure is rare.
_DELIVERIES_OF_TICKETS = text(
    "DELETE FROM webhook_deliveries d USING webhooks w WHERE d.webhook_id = w.id AND w.organization_id = :org"
    " AND coalesce(d.payload->'data'->>'ticket_id', d.payload->'data'->>'id') = ANY(CAST(:ids AS text[]))"
)


async def delete_customer(session: AsyncSession, actor: Actor, customer_id: uuid.UUID) -> None:
    """Delete a customer with their tickets (messages and all), for a person who asks to be forgotten.
    Like any deletion, both are kept ARCHIVE_DAYS in the archive; what quotes them goes at once: the
    audit entries of those tickets and of the customer (a restore's names them), and the webhook
    deliveries of those tickets (unsent ones are not sent). Refused while a ticket of theirs is being
    worked on: an agent's count and the SLA clocks would lose it. The customer is locked first: no
    ticket of theirs starts meanwhile."""
    organization_id = actor.organization_id
    await get_customer(session, actor, customer_id, lock=True)
    tickets = (
        await session.execute(
            select(Ticket.id, Ticket.status)
            .where(Ticket.organization_id == organization_id, Ticket.customer_id == customer_id)
            .with_for_update()
        )
    ).all()
    in_progress = [ticket.id for ticket in tickets if ticket.status not in FINISHED]
    if in_progress:
        raise DomainError(
            "customer_has_open_tickets",
            f"{len(in_progress)} of the customer's tickets are not resolved or closed:"
            " resolve or close them first",
            ticket_ids=[str(ticket_id) for ticket_id in in_progress],
        )
    now = datetime.now(UTC)
    ticket_ids = [ticket.id for ticket in tickets]
    if ticket_ids:
        await _delete_tickets(session, organization_id, ticket_ids, now)
    await session.execute(
        delete(AuditLog).where(
            AuditLog.organization_id == organization_id,
            AuditLog.entity_type == "customer",
            AuditLog.entity_id == customer_id,
            AuditLog.action != "customer.deleted",  # an earlier erasure's, which names nobody
        )
    )
    await archive(session, organization_id, "customer", [customer_id], "deleted", now)
    await session.execute(delete(Customer).where(Customer.id == customer_id))  # portal tokens cascade
    # No address or name here: the audit log outlives the archive.
    await record(
        session, actor, "customer.deleted", "customer", customer_id, before={"tickets": len(ticket_ids)}
    )


async def _delete_tickets(
    session: AsyncSession, organization_id: uuid.UUID, ticket_ids: list[uuid.UUID], now: datetime
) -> None:
    """Archive and delete an erased customer's tickets, with their audit entries and deliveries."""
    await archive(session, organization_id, "ticket", ticket_ids, "customer deleted", now)
    await session.execute(
        delete(AuditLog).where(
            AuditLog.organization_id == organization_id,
            AuditLog.entity_type == "ticket",
            AuditLog.entity_id.in_(ticket_ids),
        )
    )
    deliveries = {"org": organization_id, "ids": [str(ticket_id) for ticket_id in ticket_ids]}
    await session.execute(_DELIVERIES_OF_TICKETS, deliveries)
    await session.execute(delete(Ticket).where(Ticket.id.in_(ticket_ids)))  # messages and the rest cascade
    # The models learned from these tickets forget them at their next training: make it soon.
    await defer_triage_retrain(session, organization_id)
    await defer_answer_model(session, organization_id)


async def delete_customers_without_tickets(
    session: AsyncSession, organization_id: uuid.UUID, customer_ids: list[uuid.UUID], now: datetime
) -> int:
    """Of these customers, archive and delete those with no ticket left; returns how many. One taken by a
    ticket being opened (its row locked) is skipped: it has a ticket again."""
    orphaned = list(
        await session.scalars(
            select(Customer.id)
            .where(
                Customer.organization_id == organization_id,
                Customer.id.in_(customer_ids),
                ~exists().where(Ticket.customer_id == Customer.id),
            )
            .with_for_update(skip_locked=True)
        )
    )
    if orphaned:
        await archive(session, organization_id, "customer", orphaned, "retention", now)
        await session.execute(delete(Customer).where(Customer.id.in_(orphaned)))
    return len(orphaned)
