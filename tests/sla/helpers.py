"""Helpers for the SLA tests: a controllable clock by calling the services with `now`."""

import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text

from supportdesk.auth.actor import Actor, Role
from supportdesk.db import system_session, tenant_session
from supportdesk.sla.service import scan_breaches
from supportdesk.tickets import service, views
from supportdesk.tickets.schemas import CustomerIn, TicketIn, TicketOut, TicketPatch
from tests.factories import Org, sign_up

WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(1, 6)}


async def office_hours_org(client: httpx.AsyncClient) -> Org:
    """An organization open 09:00 to 17:00 UTC on weekdays."""
    org = await sign_up(client)
    response = await client.put(
        "/business-hours", headers=org.headers, json={"timezone": "UTC", "weekly_hours": WEEKDAYS_9_TO_5}
    )
    assert response.status_code == 200, response.text
    return org


def admin_of(org: Org) -> Actor:
    return Actor(organization_id=uuid.UUID(org.id), role=Role.ADMIN, user_id=uuid.UUID(org.admin_id))


async def create_ticket_at(org: Org, now: datetime, **fields: Any) -> TicketOut:
    data = TicketIn(
        title="Printer on fire",
        description="It is on fire.",
        customer=CustomerIn(email="ben@customer.test"),
        **fields,
    )
    async with tenant_session(uuid.UUID(org.id)) as session:
        ticket = await service.create_ticket(session, admin_of(org), data, now=now)
        return views.ticket_out(ticket, now)


async def update_ticket_at(org: Org, ticket_id: str, now: datetime, **fields: Any) -> TicketOut:
    async with tenant_session(uuid.UUID(org.id)) as session:
        ticket = await service.update_ticket(
            session, admin_of(org), uuid.UUID(ticket_id), TicketPatch(**fields), now=now
        )
        (out,) = await views.tickets_out(session, [ticket], now)
        return out


async def read_ticket_at(org: Org, ticket_id: str, now: datetime) -> TicketOut:
    async with tenant_session(uuid.UUID(org.id)) as session:
        ticket = await service.get_ticket(session, admin_of(org), uuid.UUID(ticket_id))
        (out,) = await views.tickets_out(session, [ticket], now)
        return out


async def scan(now: datetime) -> int:
    return await scan_breaches(system_session, now)


async def rows(sql: str, **params: Any) -> list[dict]:
    async with system_session() as session:
        return [dict(row._mapping) for row in await session.execute(text(sql), params)]
