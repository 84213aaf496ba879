"""The demo organization: loaded once through the services, consistent by the product's rules.

The test database is shared by the whole run and the demo admin's email is unique across it, so the
demo is loaded once, by the module fixture; the engine is the session's, so it is not disposed."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from supportdesk import db, jobs
from supportdesk.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, load_demo
from supportdesk.demo.texts import CATEGORIES, DOCUMENTS, HISTORY_DAYS
from tests.factories import bearer

OPEN_STATUSES = {"new", "open", "pending", "on_hold"}


async def _all(client: httpx.AsyncClient, path: str, headers: dict[str, str], **filters: str) -> list[dict]:
    rows: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 100, **filters, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        rows += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if not cursor:
            return rows


@pytest.fixture(scope="module")
async def demo(client) -> dict[str, str]:
    """The demo admin's headers (the load may have happened already, against a kept database)."""
    await load_demo(only_if_empty=False, dispose=False)
    token = await client.post("/auth/token", json={"email": DEMO_ADMIN_EMAIL, "password": DEMO_PASSWORD})
    assert token.status_code == 200, token.text
    return bearer(token.json()["access_token"])


async def test_the_demo_has_a_team_categories_and_a_knowledge_base(client, demo):
    organization = (await client.get("/organization", headers=demo)).json()
    assert (organization["name"], organization["plan"]) == ("Northwind Cloud", "pro")
    roles = sorted(user["role"] for user in await _all(client, "/users", demo))
    assert roles == ["admin", "agent", "agent", "agent", "agent", "analyst"]
    categories = await _all(client, "/categories", demo)
    assert {category["name"] for category in categories} == set(CATEGORIES)
    documents = await _all(client, "/documents", demo)
    assert len(documents) == len(DOCUMENTS)
    assert {document["is_public"] for document in documents} == {True, False}
    assert all(document["category_ids"] for document in documents)


async def test_the_demo_is_loaded_with_its_models_trained_and_its_jobs_in_the_background(client, demo):
    """Its first ticket is triaged and answered at once, not after trainings and 300 tickets' jobs."""
    organization_id = (await client.get("/organization", headers=demo)).json()["id"]
    async with db.system_session() as session:
        for table in ("triage_models", "answer_models"):
            assert await session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE organization_id = :org"), {"org": organization_id}
            )
        waiting = await session.scalars(
            text(
                "SELECT DISTINCT priority FROM procrastinate_jobs"
                " WHERE status = 'todo' AND args->>'organization_id' = :org"
            ),
            {"org": organization_id},
        )
        priorities = list(waiting)
        assert priorities and all(priority <= jobs.BACKGROUND_PRIORITY for priority in priorities)


async def test_demo_tickets_span_two_months_and_every_status(client, demo):
    tickets = await _all(client, "/tickets", demo)
    assert len(tickets) >= 250
    statuses = [ticket["status"] for ticket in tickets]
    assert set(statuses) == {"new", "open", "pending", "on_hold", "resolved", "closed"}
    assert statuses.count("resolved") + statuses.count("closed") > len(tickets) / 2
    created = [datetime.fromisoformat(ticket["created_at"]) for ticket in tickets]
    now = datetime.now(UTC)
    assert max(created) <= now
    assert min(created) < now - timedelta(days=HISTORY_DAYS - 10)


async def test_demo_agents_carry_exactly_their_open_tickets(client, demo):
    tickets = await _all(client, "/tickets", demo)
    agents = [user for user in await _all(client, "/users", demo) if user["role"] == "agent"]
    for agent in agents:
        open_tickets = [
            ticket
            for ticket in tickets
            if ticket["assigned_agent_id"] == agent["id"] and ticket["status"] in OPEN_STATUSES
        ]
        assert agent["current_ticket_count"] == len(open_tickets)
    assert all(ticket["assigned_agent_id"] for ticket in tickets)


async def test_demo_sla_clocks_follow_the_categories(client, demo):
    categories = {category["id"]: category for category in await _all(client, "/categories", demo)}
    for ticket in await _all(client, "/tickets", demo):
        created = datetime.fromisoformat(ticket["created_at"])
        sla = ticket["sla"]
        response_minutes = categories[ticket["category_id"]]["response_sla_minutes"]
        assert datetime.fromisoformat(sla["response_due_at"]) - created == timedelta(minutes=response_minutes)
        if ticket["status"] not in ("new",):
            assert sla["first_response_at"] is not None
            assert created < datetime.fromisoformat(sla["first_response_at"])
        assert (ticket["resolved_at"] is not None) == (ticket["status"] in ("resolved", "closed"))


async def test_demo_breaches_are_recorded_as_the_tickets_clocks_show_them(client, demo):
    """Analytics count the recorded breaches; a resolved ticket's clocks say which there were."""
    resolved = [t for t in await _all(client, "/tickets", demo) if t["resolved_at"] is not None]
    breached = 0
    for ticket in resolved:
        sla = ticket["sla"]
        shown = {kind for kind in ("response_breached", "resolution_breached") if sla[kind]}
        assert {breach["kind"] for breach in sla["breaches"]} == shown, ticket["id"]
        breached += bool(shown)
    assert 0 < breached < len(resolved)


async def test_a_resolved_demo_ticket_keeps_the_time_left_its_script_gave_its_running_clock(client, demo):
    """Reopened, it owes what its clock had left at the scripted resolve, not at the loader's (a few
    milliseconds after it opened the ticket)."""
    organization_id = (await client.get("/organization", headers=demo)).json()["id"]
    async with db.system_session() as session:
        clocks = (
            await session.execute(
                text(
                    "SELECT resolution_left_seconds AS kept, resolution_breached AS breached,"
                    " greatest(1, round(extract(epoch FROM resolution_due_at - resolved_at))) AS scripted"
                    " FROM tickets WHERE organization_id = :org AND resolved_at IS NOT NULL"
                ),
                {"org": organization_id},
            )
        ).all()
    assert {clock.breached for clock in clocks} == {True, False}
    for clock in clocks:
        assert clock.kept == (None if clock.breached else clock.scripted)


async def test_demo_conversations_follow_their_tickets(client, demo):
    tickets = (await client.get("/tickets", headers=demo, params={"status": "closed", "limit": 20})).json()
    for ticket in tickets["data"]:
        messages = await _all(client, f"/tickets/{ticket['id']}/messages", demo)
        assert 1 <= len(messages) <= 5
        times = [datetime.fromisoformat(message["created_at"]) for message in messages]
        assert times == sorted(times)
        assert datetime.fromisoformat(ticket["created_at"]) < times[0]
        assert times[-1] <= datetime.fromisoformat(ticket["resolved_at"])


async def test_demo_ticket_history_is_dated_with_its_ticket(client, demo):
    tickets = (await client.get("/tickets", headers=demo, params={"status": "closed", "limit": 20})).json()
    for ticket in tickets["data"]:
        entries = await _all(client, "/audit-logs", demo, entity_type="ticket", entity_id=ticket["id"])
        assert [entry["action"] for entry in entries].count("ticket.created") == 1
        opened, last_change = (datetime.fromisoformat(ticket[name]) for name in ("created_at", "updated_at"))
        assert all(opened <= datetime.fromisoformat(entry["created_at"]) <= last_change for entry in entries)


async def test_the_demo_is_not_loaded_twice(demo):
    assert await load_demo(only_if_empty=True, dispose=False) is False
    assert await load_demo(only_if_empty=False, dispose=False) is False
