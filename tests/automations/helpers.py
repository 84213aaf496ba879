"""Helpers for the automation tests: settings, statuses, and running one rule at a chosen moment."""

import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text

from supportdesk.automations.service import Step
from supportdesk.db import system_session, tenant_session
from tests.factories import Org
from tests.tickets.helpers import patch_ticket, stored_ticket


async def configure(client: httpx.AsyncClient, org: Org, **settings: Any) -> None:
    response = await client.patch("/organization", headers=org.headers, json=settings)
    assert response.status_code == 200, response.text


async def set_status(client: httpx.AsyncClient, org: Org, ticket_id: str, status: str) -> dict:
    response = await patch_ticket(client, org, ticket_id, status=status)
    assert response.status_code == 200, response.text
    return await stored_ticket(ticket_id)


async def run(rule: Step, org: Org, now: datetime) -> int:
    """One batch of `rule` for `org` at `now`, in its own transaction, as the job runs it."""
    async with tenant_session(uuid.UUID(org.id)) as session:
        return await rule(session, uuid.UUID(org.id), now)


async def automatic_messages(ticket_id: str) -> list[dict]:
    async with system_session() as session:
        rows = await session.execute(
            text("SELECT * FROM messages WHERE ticket_id = :id AND is_auto_response ORDER BY created_at, id"),
            {"id": uuid.UUID(ticket_id)},
        )
        return [dict(row._mapping) for row in rows]


async def system_audit(ticket_id: str, action: str = "ticket.updated") -> list[dict]:
    """The ticket's audit entries of `action` written by the system (no actor). Status changes are
    "ticket.updated"; a long wait may also have breached an SLA ("ticket.sla_breached")."""
    async with system_session() as session:
        rows = await session.execute(
            text(
                "SELECT * FROM audit_logs WHERE entity_id = :id AND actor_id IS NULL AND action = :action"
                " ORDER BY created_at, id"
            ),
            {"id": uuid.UUID(ticket_id), "action": action},
        )
        return [dict(row._mapping) for row in rows]
