import uuid

from fastapi import APIRouter

from supportdesk.auth.deps import Session
from supportdesk.messages import service
from supportdesk.messages.auth import MessageRead, MessageWrite
from supportdesk.messages.schemas import MessageIn, MessageOut
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of

router = APIRouter(tags=["messages"])


@router.get("/tickets/{ticket_id}/messages", response_model=Page[MessageOut])
async def list_messages(
    ticket_id: uuid.UUID,
    actor: MessageRead,
    session: Session,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[MessageOut]:
    rows = await service.list_messages(session, actor, ticket_id, cursor, limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[MessageOut.model_validate(row) for row in data], next_cursor=next_cursor)


@router.post("/tickets/{ticket_id}/messages", response_model=MessageOut, status_code=201)
async def post_message(
    ticket_id: uuid.UUID, body: MessageIn, actor: MessageWrite, session: Session
) -> MessageOut:
    message = await service.post_staff_message(
        session, actor, ticket_id, body.content, is_internal=body.is_internal
    )
    return MessageOut.model_validate(message)
