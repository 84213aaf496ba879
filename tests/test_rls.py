"""Row-level security, proven against the database itself: a query that forgets its organization
filter still sees one organization only, and no tenant at all sees nothing."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from supportdesk import db
from supportdesk.categories.models import Category
from supportdesk.tickets.models import Ticket
from supportdesk.users.models import User
from tests.factories import add_category, add_user, open_ticket, sign_up

# The tables these tests fill for both organizations (webhook_deliveries by hand, below).
FILLED_TABLES = [
    "users",
    "categories",
    "tickets",
    "messages",
    "documents",
    "document_categories",
    "customers",
    "api_tokens",
    "usage_counters",
    "audit_logs",
    "webhooks",
    "webhook_deliveries",
]


async def tenant_tables() -> list[str]:
    """Every table with an organization_id column, as the database reports it today: a table added
    later is covered without touching this file."""
    async with db.transaction() as session:
        rows = await session.scalars(
            text(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name = 'organization_id' ORDER BY table_name"
            )
        )
        return list(rows)


async def fill(client, org) -> None:
    """Rows of `org` in every tenant table, made through the API where the API can make them."""
    await add_user(client, org, "agent")
    category = await add_category(client, org)
    ticket = await open_ticket(client, org, category_id=category["id"])
    reply = await client.post(
        f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": "Hi"}
    )
    assert reply.status_code == 201, reply.text
    document = await client.post(
        "/documents",
        headers=org.headers,
        json={"title": "Reset", "content": "How to reset", "category_ids": [category["id"]]},
    )
    assert document.status_code == 201, document.text
    webhook = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://hooks.example.com/x", "events": ["ticket.created"]},
    )
    assert webhook.status_code == 201, webhook.text
    async with db.tenant_session(uuid.UUID(org.id)) as session:
        await session.execute(
            text(
                "INSERT INTO webhook_deliveries (id, organization_id, webhook_id, event, payload, created_at)"
                " VALUES (:id, :org, :webhook, 'ticket.created', '{}', now())"
            ),
            {"id": uuid.uuid4(), "org": org.id, "webhook": webhook.json()["id"]},
        )


@pytest.fixture(scope="module")
async def orgs(client):
    """Read-only for the tests below (their writes are all refused), so made once for them all."""
    a, b = await sign_up(client, name="A"), await sign_up(client, name="B")
    await fill(client, a)
    await fill(client, b)
    return a, b


async def test_the_app_connects_as_a_role_row_level_security_applies_to(client):
    async with db.transaction() as session:
        role = (
            await session.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
        assert role.rolsuper is False
        assert role.rolbypassrls is False
        await db.check_role(session)


async def test_every_tenant_table_has_row_level_security_enabled_and_forced(client):
    tables = ["organizations", *await tenant_tables()]
    assert set(FILLED_TABLES) <= set(tables)
    async with db.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
                " WHERE relname = ANY(:tables) AND relkind = 'r'"
            ),
            {"tables": tables},
        )
        unprotected = [row.relname for row in rows if not (row.relrowsecurity and row.relforcerowsecurity)]
    assert unprotected == []


async def test_a_query_without_an_organization_filter_sees_only_its_tenant(orgs):
    a, b = orgs
    tables = await tenant_tables()
    async with db.tenant_session(uuid.UUID(a.id)) as session:
        seen = {
            table: set(await session.scalars(text(f"SELECT DISTINCT organization_id::text FROM {table}")))
            for table in tables
        }
        organizations = set(await session.scalars(text("SELECT id::text FROM organizations")))
    for table in FILLED_TABLES:
        assert seen[table] == {a.id}, table
    for table in tables:
        assert seen[table] <= {a.id}, table
    assert organizations == {a.id}
    # ... while B's rows are there for anyone allowed to see them.
    async with db.tenant_session(uuid.UUID(b.id)) as session:
        for table in FILLED_TABLES:
            count = await session.scalar(text(f"SELECT count(*) FROM {table}"))
            assert count > 0, table


async def test_orm_queries_without_a_filter_see_only_their_tenant(orgs):
    a, _ = orgs
    async with db.tenant_session(uuid.UUID(a.id)) as session:
        tickets = (await session.scalars(select(Ticket))).all()
        users = (await session.scalars(select(User))).all()
        categories = (await session.scalars(select(Category))).all()
    assert tickets and users and categories
    assert {row.organization_id for row in [*tickets, *users, *categories]} == {uuid.UUID(a.id)}


async def test_without_a_tenant_every_tenant_table_is_empty(orgs):
    async with db.transaction() as session:
        for table in ["organizations", *await tenant_tables()]:
            assert await session.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table


async def test_the_system_session_sees_every_organization(orgs):
    a, b = orgs
    async with db.system_session() as session:
        owners = set(
            await session.scalars(
                text("SELECT DISTINCT organization_id::text FROM tickets WHERE organization_id = ANY(:ids)"),
                {"ids": [uuid.UUID(a.id), uuid.UUID(b.id)]},
            )
        )
    assert owners == {a.id, b.id}


async def test_a_tenant_cannot_insert_a_row_for_another_organization(orgs):
    a, b = orgs
    now = datetime.now(UTC)
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.tenant_session(uuid.UUID(a.id)) as session:
            await session.execute(
                insert(Category).values(
                    id=uuid.uuid4(),
                    organization_id=uuid.UUID(b.id),
                    name="Smuggled",
                    created_at=now,
                    updated_at=now,
                )
            )
    async with db.tenant_session(uuid.UUID(b.id)) as session:
        assert await session.scalar(select(func.count()).where(Category.name == "Smuggled")) == 0


async def test_a_tenant_cannot_move_its_rows_to_another_organization(orgs):
    a, b = orgs
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.tenant_session(uuid.UUID(a.id)) as session:
            await session.execute(update(Category).values(organization_id=uuid.UUID(b.id)))


async def test_a_tenant_cannot_change_or_delete_another_organizations_rows(orgs):
    a, b = orgs
    async with db.tenant_session(uuid.UUID(a.id)) as session:
        changed = await session.execute(
            text("UPDATE tickets SET title = 'hijacked' WHERE organization_id = :b"), {"b": b.id}
        )
        deleted = await session.execute(text("DELETE FROM messages WHERE organization_id = :b"), {"b": b.id})
        assert changed.rowcount == 0
        assert deleted.rowcount == 0
    async with db.tenant_session(uuid.UUID(b.id)) as session:
        assert await session.scalar(text("SELECT count(*) FROM tickets WHERE title = 'hijacked'")) == 0
        assert await session.scalar(text("SELECT count(*) FROM messages")) > 0
