"""Resolved tickets close by themselves `auto_close_after_days` after they were resolved."""

from datetime import timedelta

from supportdesk.automations.service import close_resolved_tickets
from tests.automations.helpers import configure, run, set_status, system_audit
from tests.factories import add_user, open_ticket, sign_up
from tests.tickets.helpers import assert_counts_are_true, get_ticket, stored_ticket


async def resolved_ticket(client, org) -> dict:
    ticket = await open_ticket(client, org)
    return await set_status(client, org, ticket["id"], "resolved")


async def test_a_resolved_ticket_closes_exactly_at_the_threshold_and_not_before(client):
    org = await sign_up(client)
    await configure(client, org, auto_close_after_days=3)
    ticket = await resolved_ticket(client, org)
    due = ticket["resolved_at"] + timedelta(days=3)

    assert await run(close_resolved_tickets, org, due - timedelta(microseconds=1)) == 0
    assert (await get_ticket(client, org, str(ticket["id"])))["status"] == "resolved"

    assert await run(close_resolved_tickets, org, due) == 1
    closed = await get_ticket(client, org, str(ticket["id"]))
    assert closed["status"] == "closed"
    # Closing keeps the moment it was resolved.
    assert (await stored_ticket(str(ticket["id"])))["resolved_at"] == ticket["resolved_at"]


async def test_closing_is_audited_as_the_system(client):
    org = await sign_up(client)
    await configure(client, org, auto_close_after_days=1)
    ticket = await resolved_ticket(client, org)

    await run(close_resolved_tickets, org, ticket["resolved_at"] + timedelta(days=1))

    [entry] = await system_audit(str(ticket["id"]))
    assert entry["action"] == "ticket.updated"
    assert entry["before"]["status"] == "resolved" and entry["after"]["status"] == "closed"


async def test_running_twice_closes_nothing_more(client):
    org = await sign_up(client)
    await configure(client, org, auto_close_after_days=1)
    ticket = await resolved_ticket(client, org)
    later = ticket["resolved_at"] + timedelta(days=30)

    assert await run(close_resolved_tickets, org, later) == 1
    assert await run(close_resolved_tickets, org, later) == 0
    assert len(await system_audit(str(ticket["id"]))) == 1


async def test_without_the_setting_resolved_tickets_never_close(client):
    org = await sign_up(client)
    ticket = await resolved_ticket(client, org)

    assert await run(close_resolved_tickets, org, ticket["resolved_at"] + timedelta(days=36500)) == 0
    assert (await get_ticket(client, org, str(ticket["id"])))["status"] == "resolved"


async def test_only_resolved_tickets_close(client):
    org = await sign_up(client)
    await add_user(client, org)
    await configure(client, org, auto_close_after_days=1)
    resolved = await resolved_ticket(client, org)
    others = [await open_ticket(client, org) for _ in range(3)]
    await set_status(client, org, others[1]["id"], "pending")
    await set_status(client, org, others[2]["id"], "on_hold")

    assert await run(close_resolved_tickets, org, resolved["resolved_at"] + timedelta(days=365)) == 1
    assert [(await get_ticket(client, org, t["id"]))["status"] for t in others] == [
        "new",
        "pending",
        "on_hold",
    ]
    await assert_counts_are_true(client, org)


async def test_another_organizations_setting_does_not_close_my_tickets(client):
    mine, theirs = await sign_up(client), await sign_up(client)
    await configure(client, theirs, auto_close_after_days=1)
    ticket = await resolved_ticket(client, mine)

    assert await run(close_resolved_tickets, mine, ticket["resolved_at"] + timedelta(days=365)) == 0
    assert (await get_ticket(client, mine, str(ticket["id"])))["status"] == "resolved"
