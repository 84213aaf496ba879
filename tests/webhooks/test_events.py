"""emit_event: in the caller's transaction, one delivery and one job per subscribed webhook."""

import asyncio
import uuid

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text

from supportdesk import db
from supportdesk.tickets.views import announce_changed
from supportdesk.webhooks.events import emit_event
from tests.factories import add_user, bearer, open_ticket, sign_up
from tests.waiting import until_a_lock_is_waited_for
from tests.webhooks.helpers import add_webhook, deliveries_of, jobs_of

TICKET = {"title": "Help", "description": "Please", "customer": {"email": "c@customer.test"}}


async def test_an_event_records_a_delivery_and_a_job_per_subscribed_webhook(client, receiver):
    org = await sign_up(client)
    subscribed = await add_webhook(client, org, receiver.url, events=["ticket.created", "sla.breached"])
    other = await add_webhook(client, org, receiver.url, events=["message.created"])
    stranger = await sign_up(client)
    foreign = await add_webhook(client, stranger, receiver.url, events=["ticket.created"])

    async with db.tenant_session(uuid.UUID(org.id)) as session:
        await emit_event(session, uuid.UUID(org.id), "ticket.created", {"id": uuid.uuid4(), "n": 1})

    [delivery] = await deliveries_of(subscribed["id"])
    assert delivery["event"] == "ticket.created"
    assert set(delivery["payload"]) == {"event", "created_at", "data"}
    assert delivery["payload"]["event"] == "ticket.created"
    assert delivery["payload"]["data"]["n"] == 1
    assert isinstance(delivery["payload"]["data"]["id"], str)
    assert delivery["attempts"] == 0 and delivery["delivered_at"] is None and delivery["status_code"] is None
    assert [job["status"] for job in await jobs_of([delivery["id"]])] == ["todo"]
    assert await deliveries_of(other["id"]) == []
    assert await deliveries_of(foreign["id"]) == []


async def test_a_ticket_opened_while_its_webhook_is_deleted_is_opened_without_a_delivery(client, receiver):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url)
    async with db.tenant_session(uuid.UUID(org.id)) as deletion:
        await deletion.execute(text("DELETE FROM webhooks WHERE id = :id"), {"id": webhook["id"]})
        opening = asyncio.create_task(client.post("/tickets", headers=org.headers, json=TICKET))
        await until_a_lock_is_waited_for(opening)
    response = await opening
    assert response.status_code == 201, response.text
    assert await deliveries_of(webhook["id"]) == []


async def test_an_event_emitted_in_a_rolled_back_transaction_leaves_nothing(client, receiver):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url)

    with pytest.raises(RuntimeError):
        async with db.tenant_session(uuid.UUID(org.id)) as session:
            await emit_event(session, uuid.UUID(org.id), "ticket.created", {"id": "x"})
            [delivery] = await session.execute(
                text("SELECT id FROM webhook_deliveries WHERE webhook_id = :id"),
                {"id": uuid.UUID(webhook["id"])},
            )
            raise RuntimeError("the change fails")

    assert await deliveries_of(webhook["id"]) == []
    assert await jobs_of([delivery.id]) == []


async def statements_of(organization_id: str, work) -> list[str]:
    """The SQL statements `work(session)` runs in a tenant session of the organization."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    async with db.tenant_session(uuid.UUID(organization_id)) as session:
        connection = await session.connection()
        sa_event.listen(connection.sync_connection, "before_cursor_execute", count)
        try:
            await work(session)
        finally:
            sa_event.remove(connection.sync_connection, "before_cursor_execute", count)
    return statements


async def test_an_organization_without_webhooks_pays_one_query(client):
    org = await sign_up(client)

    statements = await statements_of(
        org.id, lambda session: emit_event(session, uuid.UUID(org.id), "ticket.created", {"id": "x"})
    )

    assert len(statements) == 1


async def test_tickets_changed_at_once_in_an_organization_without_webhooks_are_not_read_again(client):
    """A category of 20,000 tickets took 16 s to delete: each ticket was read and offered to webhooks."""
    org = await sign_up(client)
    ticket_ids = [uuid.UUID((await open_ticket(client, org))["id"]) for _ in range(3)]

    statements = await statements_of(
        org.id, lambda session: announce_changed(session, uuid.UUID(org.id), ticket_ids)
    )

    assert len(statements) == 1


async def test_tickets_changed_at_once_are_each_announced_to_a_subscriber(client, receiver):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.updated"])
    ticket_ids = [uuid.UUID((await open_ticket(client, org))["id"]) for _ in range(3)]

    async with db.tenant_session(uuid.UUID(org.id)) as session:
        await announce_changed(session, uuid.UUID(org.id), ticket_ids)

    announced = [delivery["payload"]["data"]["id"] for delivery in await deliveries_of(webhook["id"])]
    assert sorted(announced) == sorted(str(ticket_id) for ticket_id in ticket_ids)


async def test_an_unknown_event_is_refused(client):
    org = await sign_up(client)
    with pytest.raises(ValueError):
        async with db.tenant_session(uuid.UUID(org.id)) as session:
            await emit_event(session, uuid.UUID(org.id), "ticket.exploded", {})


async def test_a_customer_reply_that_reopens_a_ticket_is_sent_as_ticket_updated(client):
    org = await sign_up(client)
    await add_user(client, org)
    hook = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://hooks.example.com/in", "events": ["ticket.updated"]},
    )
    assert hook.status_code == 201, hook.text
    opened = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": "cora@customer.test", "title": "Help", "description": "Please"},
    )
    ticket_id, customer = opened.json()["ticket"]["id"], bearer(opened.json()["access_token"])
    await client.patch(f"/tickets/{ticket_id}", headers=org.headers, json={"status": "pending"})

    reply = await client.post(
        f"/portal/tickets/{ticket_id}/messages", headers=customer, json={"content": "Still broken"}
    )

    assert reply.status_code == 201
    deliveries = await client.get(f"/webhooks/{hook.json()['id']}/deliveries", headers=org.headers)
    assert [d["event"] for d in deliveries.json()["data"]] == ["ticket.updated", "ticket.updated"]
    async with db.system_session() as session:
        statuses = await session.scalars(
            text(
                "SELECT payload->'data'->>'status' FROM webhook_deliveries"
                " WHERE webhook_id = :id ORDER BY created_at"
            ),
            {"id": hook.json()["id"]},
        )
        assert list(statuses) == ["pending", "open"]


async def test_tickets_the_queue_moves_are_announced_like_a_patch(client, receiver):
    """An agent leaving hands their tickets to the queue, which hands them to another agent: each move
    is a `ticket.updated` webhook with the ticket as it now is."""
    org = await sign_up(client, plan="starter")
    leaving, _ = await add_user(client, org, role="agent")
    tickets = [await open_ticket(client, org) for _ in range(3)]
    assert {t["assigned_agent_id"] for t in tickets} == {leaving["id"]}
    staying, _ = await add_user(client, org, role="agent")
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.updated"])

    response = await client.patch(f"/users/{leaving['id']}", headers=org.headers, json={"status": "inactive"})
    assert response.status_code == 200, response.text

    sent = [delivery["payload"]["data"] for delivery in await deliveries_of(webhook["id"])]
    moves = {(data["id"], data["assigned_agent_id"]) for data in sent}
    assert moves == {(t["id"], None) for t in tickets} | {(t["id"], staying["id"]) for t in tickets}


async def test_the_first_response_a_reply_sets_is_sent_as_ticket_updated(client):
    org = await sign_up(client)
    hook = await add_webhook(client, org, "https://hooks.example.com/in", events=["ticket.updated"])
    ticket = await open_ticket(client, org)
    for content in ("On it", "Fixed?"):  # the second reply changes no field
        await client.post(f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": content})

    sent = [delivery["payload"]["data"]["sla"] for delivery in await deliveries_of(hook["id"])]
    assert [sla["first_response_at"] is not None for sla in sent] == [True]
