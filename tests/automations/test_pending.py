"""Pending tickets: one reminder to the customer per wait, then resolving themselves."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from supportdesk.automations.service import (
    AUTO_RESOLVED_TEXT,
    REMINDER_TEXT,
    remind_pending_tickets,
    resolve_unanswered_tickets,
)
from supportdesk.db import tenant_session
from tests.automations.helpers import automatic_messages, configure, run, set_status, system_audit
from tests.factories import add_user, bearer, open_ticket, sign_up, unique_email
from tests.tickets.helpers import (
    assert_counts_are_true,
    execute_as_system,
    get_ticket,
    set_cap,
    stored_ticket,
)
from tests.webhooks.helpers import deliveries_of, discard_jobs


async def pending_ticket(client, org) -> dict:
    ticket = await open_ticket(client, org)
    return await set_status(client, org, ticket["id"], "pending")


async def portal_ticket(client, org) -> tuple[str, dict[str, str]]:
    body = {"email": unique_email("customer"), "title": "Broken", "description": "It broke"}
    response = await client.post(f"/portal/{org.id}/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()["ticket"]["id"], bearer(response.json()["access_token"])


async def test_a_reminder_is_sent_exactly_at_the_threshold_and_not_before(client):
    org = await sign_up(client)
    await configure(client, org, pending_reminder_after_hours=48)
    ticket = await pending_ticket(client, org)
    due = ticket["resolution_paused_at"] + timedelta(hours=48)

    assert await run(remind_pending_tickets, org, due - timedelta(microseconds=1)) == 0
    assert await automatic_messages(str(ticket["id"])) == []

    assert await run(remind_pending_tickets, org, due) == 1
    [reminder] = await automatic_messages(str(ticket["id"]))
    assert reminder["content"] == REMINDER_TEXT
    assert reminder["is_internal"] is False and reminder["sender_id"] is None
    assert reminder["organization_id"] == uuid.UUID(org.id)
    stored = await stored_ticket(str(ticket["id"]))
    assert stored["pending_reminder_sent_at"] == due
    assert stored["status"] == "pending"


async def test_a_reminder_is_never_sent_twice_for_one_wait(client):
    org = await sign_up(client)
    await configure(client, org, pending_reminder_after_hours=1)
    ticket = await pending_ticket(client, org)
    start = ticket["resolution_paused_at"]

    assert await run(remind_pending_tickets, org, start + timedelta(hours=1)) == 1
    for later in (timedelta(hours=1), timedelta(hours=2), timedelta(days=30)):
        assert await run(remind_pending_tickets, org, start + later) == 0
    assert len(await automatic_messages(str(ticket["id"]))) == 1


async def test_the_reminder_is_a_public_message_in_the_customers_portal(client):
    org = await sign_up(client)
    await configure(client, org, pending_reminder_after_hours=24)
    ticket_id, customer = await portal_ticket(client, org)
    ticket = await set_status(client, org, ticket_id, "pending")

    await run(remind_pending_tickets, org, ticket["resolution_paused_at"] + timedelta(hours=24))

    portal = await client.get(f"/portal/tickets/{ticket_id}", headers=customer)
    assert portal.status_code == 200, portal.text
    [reminder] = [m for m in portal.json()["messages"] if m["is_auto_response"]]
    assert reminder["content"] == REMINDER_TEXT and reminder["from_customer"] is False


async def test_a_ticket_pending_again_after_a_reply_gets_a_new_reminder(client):
    org = await sign_up(client)
    await configure(client, org, pending_reminder_after_hours=24)
    ticket_id, customer = await portal_ticket(client, org)
    await set_status(client, org, ticket_id, "pending")
    # The first wait began two days ago, and its reminder went out a day ago.
    await execute_as_system(
        "UPDATE tickets SET resolution_paused_at = now() - interval '2 days' WHERE id = :id", id=ticket_id
    )
    assert await run(remind_pending_tickets, org, datetime.now(UTC) - timedelta(days=1)) == 1

    reply = await client.post(
        f"/portal/tickets/{ticket_id}/messages", headers=customer, json={"content": "Yes, still broken"}
    )
    assert reply.status_code == 201, reply.text
    assert (await get_ticket(client, org, ticket_id))["status"] == "open"
    second_wait = await set_status(client, org, ticket_id, "pending")
    due = second_wait["resolution_paused_at"] + timedelta(hours=24)

    assert await run(remind_pending_tickets, org, due - timedelta(seconds=1)) == 0
    assert await run(remind_pending_tickets, org, due) == 1
    assert len(await automatic_messages(ticket_id)) == 2


async def test_two_overlapping_runs_send_one_reminder(client):
    org = await sign_up(client)
    await configure(client, org, pending_reminder_after_hours=1)
    tickets = [await pending_ticket(client, org) for _ in range(3)]
    now = max(t["resolution_paused_at"] for t in tickets) + timedelta(hours=1)
    org_id = uuid.UUID(org.id)

    async with tenant_session(org_id) as first:
        assert await remind_pending_tickets(first, org_id, now) == 3
        # The first run has not committed: the second skips the tickets it holds.
        async with tenant_session(org_id) as second:
            assert await remind_pending_tickets(second, org_id, now) == 0
    # Nor does a run after the first committed find anything left to do.
    assert await run(remind_pending_tickets, org, now) == 0
    for ticket in tickets:
        assert len(await automatic_messages(str(ticket["id"]))) == 1


async def test_concurrent_runs_send_one_reminder_per_ticket(client):
    org = await sign_up(client)
    await configure(client, org, pending_reminder_after_hours=1)
    tickets = [await pending_ticket(client, org) for _ in range(5)]
    now = max(t["resolution_paused_at"] for t in tickets) + timedelta(hours=1)

    sent = await asyncio.gather(*(run(remind_pending_tickets, org, now) for _ in range(4)))

    assert sum(sent) == 5
    for ticket in tickets:
        assert len(await automatic_messages(str(ticket["id"]))) == 1


async def test_a_ticket_resolves_itself_exactly_at_the_threshold_and_not_before(client):
    org = await sign_up(client)
    await add_user(client, org)
    await configure(client, org, pending_auto_resolve_after_days=7)
    ticket = await pending_ticket(client, org)
    due = ticket["resolution_paused_at"] + timedelta(days=7)

    assert await run(resolve_unanswered_tickets, org, due - timedelta(microseconds=1)) == 0
    assert (await get_ticket(client, org, str(ticket["id"])))["status"] == "pending"

    assert await run(resolve_unanswered_tickets, org, due) == 1
    resolved = await stored_ticket(str(ticket["id"]))
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == due
    assert resolved["resolution_paused_at"] is None
    [note] = await automatic_messages(str(ticket["id"]))
    assert note["content"] == AUTO_RESOLVED_TEXT and note["is_internal"] is False
    [entry] = await system_audit(str(ticket["id"]))
    assert entry["action"] == "ticket.updated"
    assert entry["before"]["status"] == "pending" and entry["after"]["status"] == "resolved"
    await assert_counts_are_true(client, org)


async def test_resolving_twice_changes_nothing_more(client):
    org = await sign_up(client)
    await configure(client, org, pending_auto_resolve_after_days=1)
    ticket = await pending_ticket(client, org)
    later = ticket["resolution_paused_at"] + timedelta(days=10)

    assert await run(resolve_unanswered_tickets, org, later) == 1
    assert await run(resolve_unanswered_tickets, org, later) == 0
    assert len(await automatic_messages(str(ticket["id"]))) == 1
    assert len(await system_audit(str(ticket["id"]))) == 1


async def test_concurrent_auto_resolves_resolve_each_ticket_once_and_keep_counts_true(client):
    org = await sign_up(client, plan="starter")
    for _ in range(2):
        await add_user(client, org)
    await configure(client, org, pending_auto_resolve_after_days=1)
    tickets = [await pending_ticket(client, org) for _ in range(4)]
    now = max(t["resolution_paused_at"] for t in tickets) + timedelta(days=1)

    resolved = await asyncio.gather(*(run(resolve_unanswered_tickets, org, now) for _ in range(3)))

    assert sum(resolved) == 4
    for ticket in tickets:
        assert len(await automatic_messages(str(ticket["id"]))) == 1
    await assert_counts_are_true(client, org)


async def test_auto_resolving_frees_capacity_for_a_waiting_ticket(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    await set_cap(client, org, 1)
    await configure(client, org, pending_auto_resolve_after_days=2)
    ticket = await pending_ticket(client, org)
    waiting = await open_ticket(client, org)
    assert ticket["assigned_agent_id"] == uuid.UUID(agent["id"]) and waiting["assigned_agent_id"] is None

    await run(resolve_unanswered_tickets, org, ticket["resolution_paused_at"] + timedelta(days=2))

    assert (await get_ticket(client, org, waiting["id"]))["assigned_agent_id"] == agent["id"]
    await assert_counts_are_true(client, org)


async def test_without_the_settings_pending_tickets_wait_forever(client):
    org = await sign_up(client)
    ticket = await pending_ticket(client, org)
    forever = ticket["resolution_paused_at"] + timedelta(days=36500)

    assert await run(remind_pending_tickets, org, forever) == 0
    assert await run(resolve_unanswered_tickets, org, forever) == 0
    assert (await get_ticket(client, org, str(ticket["id"])))["status"] == "pending"
    assert await automatic_messages(str(ticket["id"])) == []


async def test_tickets_on_hold_get_no_reminder_and_do_not_resolve(client):
    org = await sign_up(client)
    await configure(client, org, pending_reminder_after_hours=1, pending_auto_resolve_after_days=1)
    ticket = await open_ticket(client, org)
    on_hold = await set_status(client, org, ticket["id"], "on_hold")
    later = on_hold["resolution_paused_at"] + timedelta(days=30)

    assert await run(remind_pending_tickets, org, later) == 0
    assert await run(resolve_unanswered_tickets, org, later) == 0
    assert (await get_ticket(client, org, ticket["id"]))["status"] == "on_hold"


async def test_auto_resolving_tells_the_organizations_webhooks(client):
    org = await sign_up(client)
    await configure(client, org, pending_auto_resolve_after_days=1)
    ticket = await pending_ticket(client, org)
    response = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://93.184.216.34/hooks", "events": ["ticket.updated", "message.created"]},
    )
    assert response.status_code == 201, response.text

    await run(resolve_unanswered_tickets, org, ticket["resolution_paused_at"] + timedelta(days=1))

    deliveries = await deliveries_of(response.json()["id"])
    try:
        events = {delivery["event"]: delivery["payload"]["data"] for delivery in deliveries}
        assert set(events) == {"ticket.updated", "message.created"} and len(deliveries) == 2
        assert events["ticket.updated"]["status"] == "resolved"
        assert events["message.created"]["content"] == AUTO_RESOLVED_TEXT
    finally:
        await discard_jobs([delivery["id"] for delivery in deliveries])


async def test_the_customers_wait_starts_when_the_ticket_becomes_pending_not_when_it_went_on_hold(client):
    org = await sign_up(client)
    await configure(client, org, pending_auto_resolve_after_days=1)
    ticket = await open_ticket(client, org)
    on_hold = await set_status(client, org, ticket["id"], "on_hold")
    # six days waiting on a third party, then on the customer
    week_ago = on_hold["resolution_paused_at"] - timedelta(days=6)
    await execute_as_system(
        "UPDATE tickets SET resolution_paused_at = :at WHERE id = :id",
        at=week_ago,
        id=uuid.UUID(ticket["id"]),
    )
    pending = await set_status(client, org, ticket["id"], "pending")
    assert pending["resolution_paused_at"] > on_hold["resolution_paused_at"]
    # the pause on hold still moved the resolution deadline by all it lasted
    moved = pending["resolution_due_at"] - on_hold["resolution_due_at"]
    assert moved == pending["resolution_paused_at"] - week_ago

    assert (
        await run(resolve_unanswered_tickets, org, pending["resolution_paused_at"] + timedelta(hours=23)) == 0
    )
    assert (
        await run(resolve_unanswered_tickets, org, pending["resolution_paused_at"] + timedelta(days=1)) == 1
    )
