import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from supportdesk.auth.deps import Customer, CustomerLoggingOut, Session, raw_portal_token
from supportdesk.auth.service import revoke
from supportdesk.messages.schemas import CustomerMessageIn, MessageOut
from supportdesk.messages.service import list_messages, post_customer_message
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of
from supportdesk.portal import service
from supportdesk.portal.schemas import (
    PortalMessageOut,
    PortalTicketCreated,
    PortalTicketIn,
    PortalTicketOut,
    PortalTicketWithMessages,
)
from supportdesk.tickets.schemas import TicketFilters
from supportdesk.tickets.service import get_ticket, list_tickets

router = APIRouter(prefix="/portal", tags=["customer portal"])

# A conversation longer than this shows its first messages; the full thread pages via GET .../messages.
PORTAL_MESSAGES_MAX = 100


@router.post("/{organization_id}/tickets", response_model=PortalTicketCreated, status_code=201)
async def open_ticket(
    organization_id: uuid.UUID, body: PortalTicketIn, session: Session
) -> PortalTicketCreated:
    ticket, token = await service.open_ticket(session, organization_id, body)
    return PortalTicketCreated(ticket=PortalTicketOut.model_validate(ticket), access_token=token)


@router.post("/logout", status_code=204)
async def logout(
    actor: CustomerLoggingOut, session: Session, token: Annotated[str, Depends(raw_portal_token)]
) -> Response:
    """The customer's token stops working at once, in an inactive organization too (as POST /auth/logout
    does a staff token)."""
    await revoke(session, token)
    return Response(status_code=204)


@router.get("/tickets", response_model=Page[PortalTicketOut])
async def my_tickets(
    actor: Customer, session: Session, limit: Limit = LIMIT_DEFAULT, cursor: Cursor = None
) -> Page[PortalTicketOut]:
    rows = await list_tickets(session, actor, TicketFilters(), cursor, limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[PortalTicketOut.model_validate(row) for row in data], next_cursor=next_cursor)


@router.get("/tickets/{ticket_id}", response_model=PortalTicketWithMessages)
async def my_ticket(ticket_id: uuid.UUID, actor: Customer, session: Session) -> PortalTicketWithMessages:
    ticket = await get_ticket(session, actor, ticket_id)
    messages = await list_messages(session, actor, ticket_id, None, PORTAL_MESSAGES_MAX)
    return PortalTicketWithMessages(
        **PortalTicketOut.model_validate(ticket).model_dump(),
        messages=[PortalMessageOut.of(MessageOut.model_validate(m)) for m in messages[:PORTAL_MESSAGES_MAX]],
    )


@router.get("/tickets/{ticket_id}/messages", response_model=Page[PortalMessageOut])
async def my_ticket_messages(
    ticket_id: uuid.UUID,
    actor: Customer,
    session: Session,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[PortalMessageOut]:
    rows = await list_messages(session, actor, ticket_id, cursor, limit)
    data, next_cursor = page_of(rows, limit)
    return Page(
        data=[PortalMessageOut.of(MessageOut.model_validate(m)) for m in data], next_cursor=next_cursor
    )


@router.post("/tickets/{ticket_id}/messages", response_model=PortalMessageOut, status_code=201)
async def reply(
    ticket_id: uuid.UUID, body: CustomerMessageIn, actor: Customer, session: Session
) -> PortalMessageOut:
    message = await post_customer_message(session, actor, ticket_id, body.content)
    return PortalMessageOut.of(MessageOut.model_validate(message))
