"""The customer portal: customers open tickets and follow their own conversations."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.auth.service import issue_token
from supportdesk.db import set_tenant
from supportdesk.errors import DomainError, NotFound
from supportdesk.organizations.models import Organization
from supportdesk.portal.schemas import PortalTicketIn
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.schemas import CustomerIn, TicketIn
from supportdesk.tickets.service import create_ticket


async def open_ticket(
    session: AsyncSession, organization_id: uuid.UUID, data: PortalTicketIn
) -> tuple[Ticket, str]:
    """A customer opens a ticket; they get a token for their own tickets in this organization."""
    await set_tenant(session, organization_id)
    is_active = await session.scalar(select(Organization.is_active).where(Organization.id == organization_id))
    if is_active is None:
        raise NotFound("organization")
    if is_active is False:
        raise DomainError("organization_inactive", "this organization is inactive")
    ticket_in = TicketIn(
        title=data.title,
        description=data.description,
        customer=CustomerIn(email=data.email, name=data.name),
    )
    portal = Actor(organization_id=organization_id, role="customer")
    ticket = await create_ticket(session, portal, ticket_in)
    token = await issue_token(session, organization_id, customer_id=ticket.customer_id)
    return ticket, token
