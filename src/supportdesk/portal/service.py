"""The customer portal: customers open tickets and follow their own conversations."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.auth.service import issue_token
from supportdesk.organizations.service import enter_as_public
from supportdesk.portal.schemas import PortalTicketIn
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.schemas import CustomerIn, TicketIn
from supportdesk.tickets.service import create_ticket


async def open_ticket(
    session: AsyncSession, organization_id: uuid.UUID, data: PortalTicketIn
) -> tuple[Ticket, str]:
    """A customer opens a ticket; they get a token for their own tickets in this organization."""
    await enter_as_public(session, organization_id)
    ticket_in = TicketIn(
        title=data.title,
        description=data.description,
        customer=CustomerIn(email=data.email, name=data.name),
    )
    portal = Actor(organization_id=organization_id, role="customer")
    ticket = await create_ticket(session, portal, ticket_in)
    token = await issue_token(session, organization_id, customer_id=ticket.customer_id)
    return ticket, token
