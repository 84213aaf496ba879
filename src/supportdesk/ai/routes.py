"""`GET /tickets/{id}/auto-answers`: what the auto-responder decided on a ticket, for its staff."""

import uuid

from fastapi import APIRouter
from sqlalchemy import column, select, table

from supportdesk.ai.auth import StaffRead
from supportdesk.auth.deps import Session
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of, paginate
from supportdesk.schemas import ResponseModel, Timestamp
from supportdesk.tickets.service import get_ticket

router = APIRouter(tags=["auto-answers"])


class AutoAnswerOut(ResponseModel):
    """One decision: on the ticket's text (`source_message_id` null) or on a customer's follow-up.
    `outcome` is answered, suggested or declined; `document_ids` the best documents found, best first
    (an answer cites the first); `message_id` the answer or suggestion posted."""

    id: uuid.UUID
    source_message_id: uuid.UUID | None
    outcome: str
    reason: str
    confidence: float | None
    threshold: float
    document_ids: list[uuid.UUID]
    message_id: uuid.UUID | None
    created_at: Timestamp


_AUTO_ANSWERS = table(
    "auto_answers",
    *(column(name) for name in ("organization_id", "ticket_id", *AutoAnswerOut.model_fields)),
)


@router.get("/tickets/{ticket_id}/auto-answers", response_model=Page[AutoAnswerOut])
async def list_auto_answers(
    ticket_id: uuid.UUID,
    actor: StaffRead,
    session: Session,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[AutoAnswerOut]:
    """Oldest first."""
    ticket = await get_ticket(session, actor, ticket_id)  # 404 for another organization's ticket
    found = _AUTO_ANSWERS.c
    statement = select(*(found[name] for name in AutoAnswerOut.model_fields)).where(
        found.ticket_id == ticket.id, found.organization_id == actor.organization_id
    )
    statement = paginate(statement, found.created_at, found.id, cursor, limit, newest_first=False)
    data, next_cursor = page_of((await session.execute(statement)).all(), limit)
    return Page(data=[AutoAnswerOut.model_validate(row) for row in data], next_cursor=next_cursor)
