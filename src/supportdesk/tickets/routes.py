import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from supportdesk.auth.deps import Session
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of
from supportdesk.tickets import service, views
from supportdesk.tickets.auth import TicketRead, TicketWrite
from supportdesk.tickets.schemas import TicketFilters, TicketIn, TicketOut, TicketPatch

router = APIRouter(tags=["tickets"])


@router.post("/tickets", response_model=TicketOut, status_code=201)
async def create_ticket(body: TicketIn, actor: TicketWrite, session: Session) -> TicketOut:
    return views.ticket_out(await service.create_ticket(session, actor, body))  # no breaches yet


@router.get("/tickets", response_model=Page[TicketOut])
async def list_tickets(
    actor: TicketRead,
    session: Session,
    filters: Annotated[TicketFilters, Query()],
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[TicketOut]:
    rows = await service.list_tickets(session, actor, filters, cursor, limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=await views.tickets_out(session, data), next_cursor=next_cursor)


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
async def get_ticket(ticket_id: uuid.UUID, actor: TicketRead, session: Session) -> TicketOut:
    (ticket,) = await views.tickets_out(session, [await service.get_ticket(session, actor, ticket_id)])
    return ticket


@router.patch("/tickets/{ticket_id}", response_model=TicketOut)
async def update_ticket(
    ticket_id: uuid.UUID, body: TicketPatch, actor: TicketWrite, session: Session
) -> TicketOut:
    (ticket,) = await views.tickets_out(
        session, [await service.update_ticket(session, actor, ticket_id, body)]
    )
    return ticket
