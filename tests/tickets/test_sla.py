"""Priority and SLA deadlines of a new ticket, the response clock, and the paused resolution clock."""

from datetime import datetime, timedelta

from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.tickets.helpers import execute_as_system, get_ticket, patch_ticket, stored_ticket


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_new_ticket_takes_its_categorys_priority_unless_given_one(client):
    org = await sign_up(client)
    urgent = await add_category(client, org, priority_level=1)
    assert (await open_ticket(client, org, category_id=urgent["id"]))["priority"] == 1
    assert (await open_ticket(client, org, category_id=urgent["id"], priority=4))["priority"] == 4
    assert (await open_ticket(client, org))["priority"] == 3


async def test_sla_deadlines_count_from_creation_by_the_categorys_minutes(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=15, resolution_sla_minutes=120)
    ticket = await open_ticket(client, org, category_id=category["id"])
    created = at(ticket["created_at"])
    assert at(ticket["sla"]["response_due_at"]) - created == timedelta(minutes=15)
    assert at(ticket["sla"]["resolution_due_at"]) - created == timedelta(minutes=120)


async def test_without_a_category_the_deadlines_are_60_and_480_minutes(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    created = at(ticket["created_at"])
    assert at(ticket["sla"]["response_due_at"]) - created == timedelta(minutes=60)
    assert at(ticket["sla"]["resolution_due_at"]) - created == timedelta(minutes=480)
    assert ticket["sla"]["response_breached"] is False and ticket["sla"]["resolution_breached"] is False


async def test_a_ticket_in_an_inactive_category_is_refused(client):
    org = await sign_up(client)
    category = await add_category(client, org, is_active=False)
    response = await client.post(
        "/tickets",
        headers=org.headers,
        json={
            "title": "t",
            "description": "d",
            "customer": {"email": "c@x.test"},
            "category_id": category["id"],
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_first_response_is_the_first_public_staff_reply_not_an_internal_note(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org)
    ticket = await open_ticket(client, org)
    note = await client.post(
        f"/tickets/{ticket['id']}/messages",
        headers=agent,
        json={"content": "checking logs", "is_internal": True},
    )
    assert note.status_code == 201
    assert (await get_ticket(client, org, ticket["id"]))["sla"]["first_response_at"] is None

    reply = await client.post(f"/tickets/{ticket['id']}/messages", headers=agent, json={"content": "On it!"})
    assert reply.status_code == 201
    first = (await get_ticket(client, org, ticket["id"]))["sla"]["first_response_at"]
    assert at(first) == at(reply.json()["created_at"])

    await client.post(f"/tickets/{ticket['id']}/messages", headers=agent, json={"content": "Fixed?"})
    assert (await get_ticket(client, org, ticket["id"]))["sla"]["first_response_at"] == first

    # The field it set is audited, once, as the agent's change.
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    met = [e for e in audit.json()["data"] if e["action"] == "ticket.updated" and "sla" in e["after"]]
    assert len(met) == 1 and met[0]["actor_id"] == (await client.get("/me", headers=agent)).json()["id"]
    assert (met[0]["before"]["sla"]["first_response_at"], met[0]["after"]["sla"]["first_response_at"]) == (
        None,
        first,
    )


async def test_a_customer_reply_does_not_meet_the_response_clock(client):
    org = await sign_up(client)
    portal = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": "pat@customer.test", "title": "Help", "description": "Broken"},
    )
    assert portal.status_code == 201, portal.text
    ticket_id = portal.json()["ticket"]["id"]
    customer = {"Authorization": f"Bearer {portal.json()['access_token']}"}
    reply = await client.post(
        f"/portal/tickets/{ticket_id}/messages", headers=customer, json={"content": "hello?"}
    )
    assert reply.status_code == 201
    assert (await get_ticket(client, org, ticket_id))["sla"]["first_response_at"] is None


async def test_the_resolution_clock_stops_while_pending_and_the_deadline_moves_by_the_pause(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    due = at(ticket["sla"]["resolution_due_at"])

    pending = (await patch_ticket(client, org, ticket["id"], status="pending")).json()
    assert pending["sla"]["resolution_paused"] is True
    assert at(pending["sla"]["resolution_due_at"]) == due
    # Pretend the ticket has waited on the customer for three hours.
    await execute_as_system(
        "UPDATE tickets SET resolution_paused_at = resolution_paused_at - interval '3 hours' WHERE id = :id",
        id=ticket["id"],
    )
    paused_at = (await stored_ticket(ticket["id"]))["resolution_paused_at"]

    reopened = (await patch_ticket(client, org, ticket["id"], status="open")).json()
    assert reopened["sla"]["resolution_paused"] is False
    resumed_at = at(reopened["updated_at"])
    assert at(reopened["sla"]["resolution_due_at"]) == due + (resumed_at - paused_at)
    assert at(reopened["sla"]["resolution_due_at"]) - due > timedelta(hours=3)
    assert (await stored_ticket(ticket["id"]))["resolution_paused_at"] is None


async def test_moving_between_pending_and_on_hold_keeps_the_clock_paused_and_counts_each_pause(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    await patch_ticket(client, org, ticket["id"], status="on_hold")
    first_pause = (await stored_ticket(ticket["id"]))["resolution_paused_at"]
    pending = (await patch_ticket(client, org, ticket["id"], status="pending")).json()
    stored = await stored_ticket(ticket["id"])
    # one pause ends and the next begins (the customer's wait starts now): the deadline moved by the first
    assert pending["sla"]["resolution_paused"] is True and stored["resolution_paused_at"] > first_pause
    moved = stored["resolution_due_at"] - at(ticket["sla"]["resolution_due_at"])
    assert moved == stored["resolution_paused_at"] - first_pause


async def test_resolving_a_paused_ticket_resumes_its_clock_first(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    await patch_ticket(client, org, ticket["id"], status="on_hold")
    await execute_as_system(
        "UPDATE tickets SET resolution_paused_at = resolution_paused_at - interval '1 hour' WHERE id = :id",
        id=ticket["id"],
    )
    resolved = (await patch_ticket(client, org, ticket["id"], status="resolved")).json()
    assert resolved["sla"]["resolution_paused"] is False
    shift = at(resolved["sla"]["resolution_due_at"]) - at(ticket["sla"]["resolution_due_at"])
    assert shift > timedelta(hours=1)
    assert resolved["sla"]["resolution_breached"] is False


async def test_a_paused_clock_is_not_breached_by_time_spent_waiting(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=1, resolution_sla_minutes=1)
    ticket = await open_ticket(client, org, category_id=category["id"])
    await patch_ticket(client, org, ticket["id"], status="pending")
    # The ticket was created, and paused, ten days ago: the due time was still ahead when it paused.
    await execute_as_system(
        "UPDATE tickets SET created_at = created_at - interval '10 days',"
        " resolution_due_at = resolution_due_at - interval '10 days',"
        " resolution_paused_at = resolution_paused_at - interval '10 days' WHERE id = :id",
        id=ticket["id"],
    )
    assert (await get_ticket(client, org, ticket["id"]))["sla"]["resolution_breached"] is False
