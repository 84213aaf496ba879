"""The auto-responder's decisions on a ticket (`auto_answers`, recorded by `responder`), read back for
its staff."""

import uuid
from typing import Any

from sqlalchemy import Row, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.ai.schemas import AutoAnswerOut
from supportdesk.auth.actor import Actor
from supportdesk.pagination import paginate
from supportdesk.tickets.service import get_ticket

# `responder` writes the table in SQL, so no mapped class: the columns a decision shows, by name.
_AUTO_ANSWERS = table(
    "auto_answers", *(column(name) for name in ("organization_id", "ticket_id", *AutoAnswerOut.model_fields))
)


async def list_auto_answers(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, cursor: str | None, limit: int
) -> list[Row[Any]]:
    """A ticket's decisions, oldest first."""
    ticket = await get_ticket(session, actor, ticket_id)  # 404 for another organization's ticket
    found = _AUTO_ANSWERS.c
    statement = select(*(found[name] for name in AutoAnswerOut.model_fields)).where(
        found.ticket_id == ticket.id, found.organization_id == actor.organization_id
    )
    statement = paginate(statement, found.created_at, found.id, cursor, limit, newest_first=False)
    return list((await session.execute(statement)).all())
