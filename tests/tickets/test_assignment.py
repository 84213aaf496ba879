"""Who gets a ticket (PRODUCT.md, Assignment), and current_ticket_count staying the truth."""

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from supportdesk import db
from supportdesk.tickets.assignment import waiting_queue
from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.tickets.helpers import (
    all_tickets,
    assert_counts_are_true,
    get_ticket,
    patch_ticket,
    set_cap,
    set_user_status,
)
from tests.waiting import a_lock_is_waited_for


async def resolve(client, org, ticket_id: str) -> dict:
    response = await patch_ticket(client, org, ticket_id, status="resolved")
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_new_ticket_goes_to_the_agent_with_the_fewest_open_tickets(client):
    org = await sign_up(client, plan="starter")
    first, _ = await add_user(client, org)
    second, _ = await add_user(client, org)
    tickets = [await open_ticket(client, org) for _ in range(2)]
    assert {t["assigned_agent_id"] for t in tickets} == {first["id"], second["id"]}
    await resolve(client, org, tickets[0]["id"])
    freed = tickets[0]["assigned_agent_id"]
    assert (await open_ticket(client, org))["assigned_agent_id"] == freed
    await assert_counts_are_true(client, org)


async def test_ties_go_to_the_agent_assigned_longest_ago(client):
    org = await sign_up(client, plan="starter")
    await add_user(client, org)
    await add_user(client, org)
    earlier = await open_ticket(client, org)
    later = await open_ticket(client, org)
    await resolve(client, org, earlier["id"])
    await resolve(client, org, later["id"])
    # Both agents are free again; the one whose last assignment is older is next, then the other.
    third = await open_ticket(client, org)
    assert third["assigned_agent_id"] == earlier["assigned_agent_id"]
    await resolve(client, org, third["id"])
    assert (await open_ticket(client, org))["assigned_agent_id"] == later["assigned_agent_id"]


async def test_an_agent_never_assigned_goes_first_among_equals(client):
    org = await sign_up(client, plan="starter")
    veteran, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    assert ticket["assigned_agent_id"] == veteran["id"]
    await resolve(client, org, ticket["id"])
    newcomer, _ = await add_user(client, org)
    assert (await open_ticket(client, org))["assigned_agent_id"] == newcomer["id"]


async def test_admins_analysts_and_inactive_agents_are_never_assigned(client):
    org = await sign_up(client, plan="starter")
    await add_user(client, org, role="analyst")
    await add_user(client, org, role="admin")
    retired, _ = await add_user(client, org)
    await set_user_status(client, org, retired["id"], "inactive")
    ticket = await open_ticket(client, org)
    assert ticket["assigned_agent_id"] is None
    assert ticket["status"] == "new"


async def test_without_an_agent_a_ticket_waits_and_goes_to_the_first_agent_created(client):
    org = await sign_up(client)
    waiting = await open_ticket(client, org)
    assert waiting["assigned_agent_id"] is None and waiting["status"] == "new"
    agent, _ = await add_user(client, org)
    assert (await get_ticket(client, org, waiting["id"]))["assigned_agent_id"] == agent["id"]
    await assert_counts_are_true(client, org)


async def test_waiting_tickets_go_to_an_agent_when_reactivated(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    await set_user_status(client, org, agent["id"], "inactive")
    waiting = [await open_ticket(client, org) for _ in range(3)]
    assert all(t["assigned_agent_id"] is None for t in waiting)
    reactivated = await set_user_status(client, org, agent["id"], "active")
    assert reactivated["current_ticket_count"] == 3
    for ticket in waiting:
        assert (await get_ticket(client, org, ticket["id"]))["assigned_agent_id"] == agent["id"]


async def test_deactivating_an_agent_hands_their_open_tickets_to_the_others(client):
    org = await sign_up(client, plan="starter")
    leaving, _ = await add_user(client, org)
    staying, _ = await add_user(client, org)
    await set_user_status(client, org, staying["id"], "inactive")
    tickets = [await open_ticket(client, org) for _ in range(3)]
    await patch_ticket(client, org, tickets[0]["id"], status="pending")
    await resolve(client, org, tickets[2]["id"])
    await set_user_status(client, org, staying["id"], "active")

    left = await set_user_status(client, org, leaving["id"], "inactive")
    assert left["current_ticket_count"] == 0
    after = {t["id"]: t for t in await all_tickets(client, org)}
    assert after[tickets[0]["id"]]["assigned_agent_id"] == staying["id"]
    assert after[tickets[0]["id"]]["status"] == "pending"
    assert after[tickets[1]["id"]]["assigned_agent_id"] == staying["id"]
    # A resolved ticket keeps the agent who resolved it.
    assert after[tickets[2]["id"]]["assigned_agent_id"] == leaving["id"]
    await assert_counts_are_true(client, org)


async def test_the_queue_s_moves_are_in_the_tickets_audit_log_by_who_caused_them(client):
    org = await sign_up(client, plan="starter")
    leaving, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    await set_user_status(client, org, leaving["id"], "inactive")  # back in the queue: nobody is left
    arriving, _ = await add_user(client, org)  # the queue hands it out

    response = await client.get(
        "/audit-logs", headers=org.headers, params={"entity_type": "ticket", "entity_id": ticket["id"]}
    )
    assert response.status_code == 200, response.text
    moves = [
        (entry["before"], entry["after"], entry["actor_id"])
        for entry in reversed(response.json()["data"])
        if entry["action"] == "ticket.updated"
    ]
    assert moves == [
        ({"assigned_agent_id": leaving["id"]}, {"assigned_agent_id": None}, org.admin_id),
        ({"assigned_agent_id": None}, {"assigned_agent_id": arriving["id"]}, org.admin_id),
    ]


async def test_deactivating_the_only_agent_puts_their_tickets_back_in_the_queue(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    await set_user_status(client, org, agent["id"], "inactive")
    assert (await get_ticket(client, org, ticket["id"]))["assigned_agent_id"] is None
    await assert_counts_are_true(client, org)


@pytest.mark.parametrize(
    ("role", "change"),
    [("agent", {"role": "analyst"}), ("admin", {"role": "analyst"}), ("admin", {"status": "inactive"})],
)
async def test_a_user_who_may_no_longer_hold_tickets_hands_theirs_back(client, role, change):
    org = await sign_up(client)
    holder, _ = await add_user(client, org, role)
    ticket = await open_ticket(client, org)
    if role == "admin":  # an admin is given tickets by hand only
        response = await patch_ticket(client, org, ticket["id"], assigned_agent_id=holder["id"])
        assert response.status_code == 200, response.text
    response = await client.patch(f"/users/{holder['id']}", headers=org.headers, json=change)
    assert response.status_code == 200, response.text
    assert response.json()["current_ticket_count"] == 0
    assert (await get_ticket(client, org, ticket["id"]))["assigned_agent_id"] is None
    await assert_counts_are_true(client, org)


@pytest.mark.parametrize("change", [{"status": "inactive"}, {"role": "analyst"}])
async def test_an_admin_s_tickets_handed_back_go_straight_to_a_free_agent(client, change):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    admin, _ = await add_user(client, org, "admin")
    tickets = [await open_ticket(client, org) for _ in range(3)]
    for ticket in tickets:
        await patch_ticket(client, org, ticket["id"], assigned_agent_id=admin["id"])

    response = await client.patch(f"/users/{admin['id']}", headers=org.headers, json=change)

    assert response.status_code == 200, response.text
    for ticket in tickets:
        assert (await get_ticket(client, org, ticket["id"]))["assigned_agent_id"] == agent["id"]
    await assert_counts_are_true(client, org)


async def test_an_agent_made_admin_keeps_their_tickets(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    response = await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"role": "admin"})
    assert response.status_code == 200, response.text
    assert (await get_ticket(client, org, ticket["id"]))["assigned_agent_id"] == agent["id"]
    await assert_counts_are_true(client, org)


async def test_reopening_a_ticket_of_a_departed_agent_puts_it_back_in_the_queue(client):
    org = await sign_up(client, plan="starter")
    departed, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    await resolve(client, org, ticket["id"])
    await set_user_status(client, org, departed["id"], "inactive")
    colleague, _ = await add_user(client, org)

    reopened = (await patch_ticket(client, org, ticket["id"], status="open")).json()
    assert reopened["assigned_agent_id"] == colleague["id"]
    await assert_counts_are_true(client, org)
    users = {u["id"]: u for u in (await client.get("/users", headers=org.headers)).json()["data"]}
    assert users[departed["id"]]["current_ticket_count"] == 0


async def test_a_customer_reply_reopening_a_ticket_of_a_departed_agent_requeues_it(client):
    org = await sign_up(client, plan="starter")
    departed, _ = await add_user(client, org)
    portal = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": "pat@customer.test", "title": "Help", "description": "Broken"},
    )
    assert portal.status_code == 201, portal.text
    ticket_id = portal.json()["ticket"]["id"]
    customer = {"Authorization": f"Bearer {portal.json()['access_token']}"}
    await resolve(client, org, ticket_id)
    await set_user_status(client, org, departed["id"], "inactive")
    colleague, _ = await add_user(client, org)

    reply = await client.post(
        f"/portal/tickets/{ticket_id}/messages", headers=customer, json={"content": "Still broken"}
    )
    assert reply.status_code == 201, reply.text
    ticket = await get_ticket(client, org, ticket_id)
    assert ticket["status"] == "open"
    assert ticket["assigned_agent_id"] == colleague["id"]
    await assert_counts_are_true(client, org)


async def test_resolving_and_reopening_move_the_agents_count(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    for status in ("open", "pending", "on_hold", "resolved", "open", "closed"):
        response = await patch_ticket(client, org, ticket["id"], status=status)
        assert response.status_code == 200, response.text
        await assert_counts_are_true(client, org)


async def test_reassigning_a_ticket_moves_it_between_the_agents_counts(client):
    org = await sign_up(client, plan="starter")
    first, _ = await add_user(client, org)
    second, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    other = second if ticket["assigned_agent_id"] == first["id"] else first
    moved = await patch_ticket(client, org, ticket["id"], assigned_agent_id=other["id"])
    assert moved.status_code == 200, moved.text
    assert moved.json()["assigned_agent_id"] == other["id"]
    await assert_counts_are_true(client, org)


async def test_a_ticket_cannot_be_assigned_to_an_inactive_agent_or_an_analyst(client):
    org = await sign_up(client)
    analyst, _ = await add_user(client, org, role="analyst")
    retired, _ = await add_user(client, org)
    await set_user_status(client, org, retired["id"], "inactive")
    ticket = await open_ticket(client, org)
    for user in (analyst, retired):
        response = await patch_ticket(client, org, ticket["id"], assigned_agent_id=user["id"])
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"


async def test_the_assignee_sent_back_unchanged_is_no_change_after_they_left(client):
    """A client sending back the ticket it read can still close the resolved ticket of an agent who left."""
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    ticket = await resolve(client, org, (await open_ticket(client, org))["id"])
    await set_user_status(client, org, agent["id"], "inactive")
    response = await patch_ticket(client, org, ticket["id"], status="closed", assigned_agent_id=agent["id"])
    assert response.status_code == 200, response.text
    assert response.json()["assigned_agent_id"] == agent["id"]
    await assert_counts_are_true(client, org)


async def test_unassigning_a_ticket_hands_it_to_the_next_available_agent(client):
    org = await sign_up(client, plan="starter")
    await add_user(client, org)
    await add_user(client, org)
    ticket = await open_ticket(client, org)
    response = await patch_ticket(client, org, ticket["id"], assigned_agent_id=None)
    assert response.status_code == 200, response.text
    assert response.json()["assigned_agent_id"] not in (None, ticket["assigned_agent_id"])
    await assert_counts_are_true(client, org)


async def test_tickets_wait_when_every_agent_is_at_the_cap_and_go_out_as_capacity_frees(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    await set_cap(client, org, 2)
    held = [await open_ticket(client, org) for _ in range(2)]
    assert all(t["assigned_agent_id"] == agent["id"] for t in held)
    waiting = [await open_ticket(client, org) for _ in range(2)]
    assert all(t["assigned_agent_id"] is None for t in waiting)

    await resolve(client, org, held[0]["id"])
    assigned = [(await get_ticket(client, org, t["id"]))["assigned_agent_id"] for t in waiting]
    assert assigned.count(agent["id"]) == 1 and assigned.count(None) == 1

    await set_cap(client, org, None)
    for ticket in waiting:
        assert (await get_ticket(client, org, ticket["id"]))["assigned_agent_id"] == agent["id"]
    await assert_counts_are_true(client, org)


async def test_raising_the_cap_hands_out_waiting_tickets(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    await set_cap(client, org, 1)
    await open_ticket(client, org)
    waiting = await open_ticket(client, org)
    assert waiting["assigned_agent_id"] is None
    await set_cap(client, org, 2)
    assert (await get_ticket(client, org, waiting["id"]))["assigned_agent_id"] == agent["id"]


async def test_waiting_tickets_go_out_most_urgent_first(client):
    org = await sign_up(client)
    await set_cap(client, org, 1)
    slow = await add_category(client, org, response_sla_minutes=240)
    fast = await add_category(client, org, response_sla_minutes=15)
    # Opened least urgent first: the queue must not be first come, first served.
    relaxed = await open_ticket(client, org, category_id=slow["id"])
    usual = await open_ticket(client, org)
    urgent = await open_ticket(client, org, category_id=fast["id"])

    agent, _ = await add_user(client, org)
    handed_out = []
    for _ in range(3):
        [held] = await all_tickets(client, org, status="new", assigned_agent_id=agent["id"])
        handed_out.append(held["id"])
        await resolve(client, org, held["id"])

    assert handed_out == [urgent["id"], usual["id"], relaxed["id"]]


async def test_a_change_in_a_queue_no_agent_can_take_from_locks_no_waiting_ticket(client):
    """It locked the ticket due first before it asked for an agent, and waited for whatever held that
    ticket: one of the two PATCHes that deadlocked (the other held it and deferred the retraining)."""
    org = await sign_up(client)  # no agent: every ticket waits
    due_first = await open_ticket(client, org)
    changed = await open_ticket(client, org)
    async with db.system_session() as holder:  # an edit of the ticket due first, in progress
        await holder.execute(
            text("SELECT 1 FROM tickets WHERE id = :id FOR UPDATE"), {"id": uuid.UUID(due_first["id"])}
        )
        change = asyncio.create_task(patch_ticket(client, org, changed["id"], status="open"))
        while not change.done():
            assert not await a_lock_is_waited_for(), "the change waited for the waiting ticket"
            await asyncio.sleep(0.05)
    assert change.result().status_code == 200


async def test_the_queue_is_read_in_its_order_from_its_partial_index(client):
    """The index in priority order made each load-moving change read and sort every waiting ticket."""
    query = (
        waiting_queue(uuid.uuid4())
        .limit(1)
        .compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    async with db.system_session() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(await session.scalars(text(f"EXPLAIN {query}")))
    assert "idx_tickets_waiting_due" in plan and "Sort" not in plan, plan
