"""`GET /tickets/{id}/auto-answers`: what the auto-responder decided on a ticket, for its staff."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ANY_ROLE, Session, allow
from supportdesk.schemas import ResponseModel, Timestamp
from supportdesk.tickets.service import get_ticket

router = APIRouter(tags=["auto-answers"])
StaffRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]


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


class AutoAnswers(BaseModel):
    data: list[AutoAnswerOut]


@router.get("/tickets/{ticket_id}/auto-answers", response_model=AutoAnswers)
async def list_auto_answers(ticket_id: uuid.UUID, actor: StaffRead, session: Session) -> AutoAnswers:
    ticket = await get_ticket(session, actor, ticket_id)  # 404 for another organization's ticket
    rows = await session.execute(
        text(
            "SELECT id, source_message_id, outcome, reason, confidence, threshold, document_ids, message_id,"
            " created_at FROM auto_answers WHERE ticket_id = :t AND organization_id = :org"
            " ORDER BY created_at, id"
        ),
        {"t": ticket.id, "org": actor.organization_id},
    )
    return AutoAnswers(data=[AutoAnswerOut.model_validate(row) for row in rows])
