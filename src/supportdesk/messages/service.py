import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.ai.jobs import defer_answer
from supportdesk.auth.actor import Actor
from supportdesk.messages.models import Message
from supportdesk.messages.store import add_message
from supportdesk.pagination import paginate
from supportdesk.tickets.assignment import lock_assignments
from supportdesk.tickets.references import lock_referenced
from supportdesk.tickets.service import get_ticket
from supportdesk.tickets.system_changes import record_customer_reply, record_staff_reply


async def list_messages(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, cursor: str | None, limit: int
) -> list[Message]:
    """A ticket's conversation, oldest first. Customers see public messages only."""
    ticket = await get_ticket(session, actor, ticket_id)
    statement = select(Message).where(
        Message.ticket_id == ticket.id, Message.organization_id == actor.organization_id
    )
    if actor.is_customer:
        statement = statement.where(Message.is_internal.is_(False))
    statement = paginate(statement, Message.created_at, Message.id, cursor, limit, newest_first=False)
    return list((await session.scalars(statement)).all())


async def post_staff_message(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, content: str, *, is_internal: bool
) -> Message:
    await lock_referenced(session, actor.organization_id, ticket_id)  # a reply may write the ticket twice
    ticket = await get_ticket(session, actor, ticket_id, lock=True)
    now = datetime.now(UTC)
    await record_staff_reply(session, actor, ticket, is_internal=is_internal, now=now)
    return await add_message(
        session,
        actor.organization_id,
        ticket.id,
        content,
        now=now,
        sender_id=actor.user_id,
        is_internal=is_internal,
    )


async def post_customer_message(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, content: str
) -> Message:
    # A reply may reopen a resolved ticket, which moves its agent's load: assignment lock first, after the
    # rows the ticket references (`tickets.references`).
    await lock_referenced(session, actor.organization_id, ticket_id)
    await lock_assignments(session, actor.organization_id)
    ticket = await get_ticket(session, actor, ticket_id, lock=True)
    now = datetime.now(UTC)
    await record_customer_reply(session, actor, ticket, now)
    message = await add_message(
        session, actor.organization_id, ticket.id, content, now=now, customer_id=actor.customer_id
    )
    await defer_answer(session, actor.organization_id, ticket.id, message.id)
    return message
