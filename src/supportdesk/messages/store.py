"""Writing a message: the one insert every path uses (staff, customers, the SLA scan, automations),
and the `message.created` webhook that goes with it, in the same transaction."""

import uuid
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.messages.models import Message
from supportdesk.messages.schemas import MessageOut
from supportdesk.webhooks.events import emit_event
from supportdesk.webhooks.schemas import Event


async def add_message(
    session: AsyncSession,
    organization_id: uuid.UUID,
    ticket_id: uuid.UUID,
    content: str,
    *,
    now: datetime,
    sender_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    is_internal: bool = False,
    is_auto_response: bool = False,
) -> Message:
    """Add a message to a ticket. No sender and no customer means the system wrote it."""
    message = await session.scalar(
        insert(Message)
        .values(
            id=uuid.uuid4(),
            organization_id=organization_id,
            ticket_id=ticket_id,
            sender_id=sender_id,
            customer_id=customer_id,
            content=content,
            is_internal=is_internal,
            is_auto_response=is_auto_response,
            created_at=now,
        )
        .returning(Message)
    )
    assert message is not None
    await _emit_message_created(session, message)
    return message


async def _emit_message_created(session: AsyncSession, message: Message) -> None:
    """Public messages only: an internal note is for staff, and a webhook sends to a third party's
    URL, often a customer-facing integration (chat, CRM), where a note must never surface."""
    if message.is_internal:
        return
    data = MessageOut.model_validate(message).model_dump(mode="json")
    await emit_event(session, message.organization_id, Event.MESSAGE_CREATED, data)
