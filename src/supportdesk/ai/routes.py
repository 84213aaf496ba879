"""`GET /tickets/{id}/auto-answers`: what the auto-responder decided on a ticket, for its staff."""

import uuid

from fastapi import APIRouter

from supportdesk.ai import decisions
from supportdesk.ai.auth import StaffRead
from supportdesk.ai.schemas import AutoAnswerOut
from supportdesk.auth.deps import Session
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of

router = APIRouter(tags=["auto-answers"])


@router.get("/tickets/{ticket_id}/auto-answers", response_model=Page[AutoAnswerOut])
async def list_auto_answers(
    ticket_id: uuid.UUID,
    actor: StaffRead,
    session: Session,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[AutoAnswerOut]:
    """Oldest first."""
    rows = await decisions.list_auto_answers(session, actor, ticket_id, cursor, limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[AutoAnswerOut.model_validate(row) for row in data], next_cursor=next_cursor)
