import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.messages.models import Message
from supportdesk.messages.schemas import MessageOut
from supportdesk.pagination import paginate
from supportdesk.tickets.assignment import lock_assignments
from supportdesk.tickets.service import get_ticket, record_customer_reply, record_staff_reply
from supportdesk.webhooks.events import emit_event
from supportdesk.webhooks.schemas import Event


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


async def _insert(
    session: AsyncSession,
    actor: Actor,
    ticket_id: uuid.UUID,
    content: str,
    *,
    is_internal: bool,
    now: datetime,
) -> Message:
    message = await session.scalar(
        insert(Message)
        .values(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            ticket_id=ticket_id,
            sender_id=actor.user_id,
            customer_id=actor.customer_id,
            content=content,
            is_internal=is_internal,
            is_auto_response=False,
            created_at=now,
        )
        .returning(Message)
    )
    assert message is not None
    await emit_message_created(session, message)
    return message


async def emit_message_created(session: AsyncSession, message: Message) -> None:
    """`message.created` for a new message, in its transaction; other paths that add messages call it too.

    Public messages only: an internal note is for staff, and a webhook sends to a third party's URL,
    often a customer-facing integration (chat, CRM), where a note must never surface. So the data
    never carries an internal note, and `is_internal` in it is always false."""
    if message.is_internal:
        return
    data = MessageOut.model_validate(message).model_dump(mode="json")
    await emit_event(session, message.organization_id, Event.MESSAGE_CREATED, data)


async def post_staff_message(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, content: str, *, is_internal: bool
) -> Message:
    ticket = await get_ticket(session, actor, ticket_id, lock=True)
    now = datetime.now(UTC)
    await record_staff_reply(session, ticket, is_internal=is_internal, now=now)
    return await _insert(session, actor, ticket.id, content, is_internal=is_internal, now=now)


async def post_customer_message(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, content: str
) -> Message:
    # A reply may reopen a resolved ticket, which moves its agent's load: assignment lock first.
    await lock_assignments(session, actor.organization_id)
    ticket = await get_ticket(session, actor, ticket_id, lock=True)
    now = datetime.now(UTC)
    await record_customer_reply(session, actor, ticket, now)
    return await _insert(session, actor, ticket.id, content, is_internal=False, now=now)
