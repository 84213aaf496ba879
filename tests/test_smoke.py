import os

import pytest
from sqlalchemy import text

from supportdesk import db, embedded
from tests.factories import add_user, open_ticket, sign_up


async def test_health_answers_when_the_database_does(client):
    response = await client.get("http://test/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_a_new_ticket_goes_to_the_only_agent(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    assert ticket["assigned_agent_id"] == agent["id"]
    assert ticket["status"] == "new"
    me = await client.get(f"/users/{agent['id']}", headers=org.headers)
    assert me.json()["current_ticket_count"] == 1


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="an external server is sized by its operator"
)
async def test_the_embedded_server_gets_a_cache_sized_for_the_machine(client):
    async with db.system_session() as session:
        blocks = int(
            await session.scalar(text("SELECT setting FROM pg_settings WHERE name = 'shared_buffers'"))
        )
    assert blocks * 8 // 1024 == embedded.shared_buffers_mb() > 128
