"""The rows a ticket references that their deletion locks before the ticket: its category, its customer
and the document that answers it.

A second write of a ticket in one transaction (a breach recorded, then the change itself; triage's
decision, then its mark) makes PostgreSQL check the ticket's foreign keys again, and take KEY SHARE on
those rows after the ticket's lock: the reverse of a deletion's order (the category, then its tickets), a
deadlock with it (20 in an outside tester's ten minutes of mixed load, each a 409 or a failed job). A
path that locks a ticket takes them first, and waits for the deletion instead; so does a person's change
that gives their tickets back to the queue, which hands them out again. A reference a ticket gains
between this read and its lock is not covered (a ticket given to the leaving agent in that moment, in a
category being deleted): its deadlock is still a 409, which a tester reached only by timing the three
requests to the millisecond.
"""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.tickets.states import OPEN_STATUSES

# KEY SHARE on what the tickets `{tickets}` selects reference, and on the category and document given.
_REFERENCED = """
    WITH ticket AS ({tickets}),
    category AS (
        SELECT 1 FROM categories
        WHERE organization_id = :org AND (id IN (SELECT category_id FROM ticket) OR id = :category)
        FOR KEY SHARE
    ),
    customer AS (
        SELECT 1 FROM customers WHERE organization_id = :org AND id IN (SELECT customer_id FROM ticket)
        FOR KEY SHARE
    ),
    document AS (
        SELECT 1 FROM documents
        WHERE organization_id = :org AND (id IN (SELECT answer_document_id FROM ticket) OR id = :document)
        FOR KEY SHARE
    )
    SELECT (SELECT count(*) FROM category) + (SELECT count(*) FROM customer) + (SELECT count(*) FROM document)
"""
_COLUMNS = "SELECT category_id, customer_id, answer_document_id FROM tickets WHERE organization_id = :org"
_LOCK_REFERENCED = text(_REFERENCED.format(tickets=f"{_COLUMNS} AND id = :id"))
_LOCK_REFERENCED_BY_HOLDER = text(
    _REFERENCED.format(tickets=f"{_COLUMNS} AND assigned_agent_id = :holder AND status = ANY(:open)")
)


async def lock_referenced(
    session: AsyncSession,
    organization_id: uuid.UUID,
    ticket_id: uuid.UUID,
    *,
    category_id: uuid.UUID | None = None,
    document_id: uuid.UUID | None = None,
) -> None:
    """KEY SHARE on the rows the ticket references now, and on the category and answer document a change
    will give it, before the caller locks the ticket. Nothing is checked here: a row that is not there is
    refused later, as ever."""
    await session.execute(
        _LOCK_REFERENCED,
        {
            "id": ticket_id,
            "org": organization_id,
            "category": category_id,
            "document": document_id,
        },
    )


async def lock_referenced_by_holder(
    session: AsyncSession, organization_id: uuid.UUID, holder_id: uuid.UUID
) -> None:
    """KEY SHARE on the rows a person's open tickets reference, before the assignment lock, when they stop
    holding tickets: those tickets are written twice, given back to the queue and handed out again."""
    await session.execute(
        _LOCK_REFERENCED_BY_HOLDER,
        {
            "org": organization_id,
            "holder": holder_id,
            "open": list(OPEN_STATUSES),
            "category": None,
            "document": None,
        },
    )
