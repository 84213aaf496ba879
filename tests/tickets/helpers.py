"""Helpers for the ticket tests: reading back the truth an agent's counter must equal."""

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from supportdesk.db import system_session
from tests.factories import Org

OPEN = ("new", "open", "pending", "on_hold")


async def patch_ticket(client: httpx.AsyncClient, org: Org, ticket_id: str, **fields: Any) -> httpx.Response:
    return await client.patch(f"/tickets/{ticket_id}", headers=org.headers, json=fields)


async def get_ticket(client: httpx.AsyncClient, org: Org, ticket_id: str) -> dict:
    response = await client.get(f"/tickets/{ticket_id}", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def all_tickets(client: httpx.AsyncClient, org: Org, **filters: Any) -> list[dict]:
    """Every ticket matching `filters`, walking the pages."""
    tickets: list[dict] = []
    cursor = None
    while True:
        params = {**filters, "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/tickets", headers=org.headers, params=params)
        assert response.status_code == 200, response.text
        tickets += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return tickets


async def agent_counts(client: httpx.AsyncClient, org: Org) -> dict[str, int]:
    """current_ticket_count of every user of `org`, as the API reports it."""
    response = await client.get("/users", headers=org.headers, params={"limit": 100})
    assert response.status_code == 200, response.text
    return {user["id"]: user["current_ticket_count"] for user in response.json()["data"]}


async def true_counts(client: httpx.AsyncClient, org: Org) -> dict[str, int]:
    """What every user's current_ticket_count must be: their tickets not resolved or closed."""
    counts = dict.fromkeys(await agent_counts(client, org), 0)
    for ticket in await all_tickets(client, org):
        if ticket["status"] in OPEN and ticket["assigned_agent_id"]:
            counts[ticket["assigned_agent_id"]] += 1
    return counts


async def assert_counts_are_true(client: httpx.AsyncClient, org: Org) -> None:
    assert await agent_counts(client, org) == await true_counts(client, org)


async def set_user_status(client: httpx.AsyncClient, org: Org, user_id: str, status: str) -> dict:
    response = await client.patch(f"/users/{user_id}", headers=org.headers, json={"status": status})
    assert response.status_code == 200, response.text
    return response.json()


async def set_cap(client: httpx.AsyncClient, org: Org, cap: int | None) -> None:
    response = await client.patch(
        "/organization", headers=org.headers, json={"max_open_tickets_per_agent": cap}
    )
    assert response.status_code == 200, response.text


async def stored_ticket(ticket_id: str) -> dict:
    """The ticket row as stored, SLA internals included (read as the system: tests only)."""
    async with system_session() as session:
        row = (
            await session.execute(text("SELECT * FROM tickets WHERE id = :id"), {"id": uuid.UUID(ticket_id)})
        ).one()
    return dict(row._mapping)


async def execute_as_system(sql: str, **params: Any) -> None:
    async with system_session() as session:
        await session.execute(text(sql), params)
