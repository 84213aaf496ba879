"""The breach scan: at the deadline and not a second before, recorded once however often or however
concurrently it runs, escalating one step, noting it internally, never for a met or paused clock."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from supportdesk.db import system_session
from supportdesk.sla.service import CLOCKS
from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.sla.helpers import create_ticket_at, rows, scan, update_ticket_at
from tests.tickets.helpers import execute_as_system, get_ticket
from tests.webhooks.helpers import add_webhook, deliveries_of

# Deadlines are set in the past, so scans "at" these moments never reach other tests' live tickets.
DUE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
FAR = DUE + timedelta(days=365)
YEAR = 525_600


async def overdue_ticket(client, org, *, response_due=DUE, resolution_due=FAR, **fields) -> dict:
    ticket = await open_ticket(client, org, **fields)
    await execute_as_system(
        "UPDATE tickets SET response_due_at = :response, resolution_due_at = :resolution WHERE id = :id",
        id=uuid.UUID(ticket["id"]),
        response=response_due,
        resolution=resolution_due,
    )
    return ticket


async def events_of(ticket_id) -> list[dict]:
    return await rows("SELECT * FROM sla_events WHERE ticket_id = :id", id=uuid.UUID(str(ticket_id)))


async def notes_of(ticket_id) -> list[dict]:
    return await rows(
        "SELECT * FROM messages WHERE ticket_id = :id ORDER BY created_at", id=uuid.UUID(str(ticket_id))
    )


async def test_a_response_breach_is_recorded_at_the_deadline_and_not_a_second_before(client):
    org = await sign_up(client)
    ticket = await overdue_ticket(client, org)

    await scan(DUE - timedelta(seconds=1))
    assert await events_of(ticket["id"]) == []
    assert (await get_ticket(client, org, ticket["id"]))["criticality"] == "low"

    assert await scan(DUE) >= 1
    (event,) = await events_of(ticket["id"])
    assert event["kind"] == "response_breached" and event["due_at"] == DUE and event["occurred_at"] == DUE
    shown = await get_ticket(client, org, ticket["id"])
    assert shown["criticality"] == "medium"
    assert shown["sla"]["response_breached"] is True and shown["sla"]["resolution_breached"] is False
    assert shown["sla"]["breaches"] == [
        {"kind": "response_breached", "due_at": DUE.isoformat(), "occurred_at": DUE.isoformat()}
    ]
    (note,) = await notes_of(ticket["id"])
    assert note["is_internal"] is True and note["sender_id"] is None
    assert note["organization_id"] == uuid.UUID(org.id)
    assert "first response" in note["content"] and DUE.isoformat() in note["content"]

    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    breached = [entry for entry in audit.json()["data"] if entry["action"] == "ticket.sla_breached"]
    assert len(breached) == 1 and breached[0]["actor_id"] is None
    assert breached[0]["after"] == {"response_breached": True, "criticality": "medium"}


async def test_a_breach_the_scan_records_is_sent_as_sla_breached_and_ticket_updated(client):
    # A subscriber of ticket.updated alone learns the raised criticality, as from any other change.
    org = await sign_up(client)
    events = ["sla.breached", "ticket.updated"]
    webhook = await add_webhook(client, org, "https://hooks.example.com/x", events)
    ticket = await overdue_ticket(client, org)

    await scan(DUE)
    deliveries = {row["event"]: row["payload"]["data"] for row in await deliveries_of(webhook["id"])}
    assert deliveries["sla.breached"]["ticket_id"] == ticket["id"]
    assert deliveries["sla.breached"]["criticality"] == "medium"
    updated = deliveries["ticket.updated"]
    assert updated["id"] == ticket["id"] and updated["criticality"] == "medium"
    assert updated["sla"]["response_breached"] is True
    # written as the API and the ticket's payload write a timestamp (it was "…Z" here)
    assert deliveries["sla.breached"]["due_at"] == updated["sla"]["response_due_at"] == DUE.isoformat()


async def test_the_ticket_list_shows_each_tickets_breaches(client):
    org = await sign_up(client)
    breached = await overdue_ticket(client, org)
    calm = await open_ticket(client, org)
    await scan(DUE)
    listed = (await client.get("/tickets", headers=org.headers)).json()["data"]
    by_id = {ticket["id"]: ticket["sla"]["breaches"] for ticket in listed}
    assert [b["kind"] for b in by_id[breached["id"]]] == ["response_breached"]
    assert by_id[calm["id"]] == []


async def test_each_breach_raises_criticality_one_step_and_critical_stays_critical(client):
    org = await sign_up(client)
    ticket = await overdue_ticket(client, org, resolution_due=DUE, criticality="high")
    await scan(DUE)
    shown = await get_ticket(client, org, ticket["id"])
    assert shown["criticality"] == "critical"  # high -> critical -> critical
    assert sorted(event["kind"] for event in await events_of(ticket["id"])) == [
        "resolution_breached",
        "response_breached",
    ]
    assert len(await notes_of(ticket["id"])) == 2


async def test_scanning_twice_records_a_breach_once(client):
    org = await sign_up(client)
    ticket = await overdue_ticket(client, org)
    await scan(DUE)
    assert await scan(DUE) == 0
    await scan(DUE + timedelta(hours=1))
    assert len(await events_of(ticket["id"])) == 1
    assert len(await notes_of(ticket["id"])) == 1
    assert (await get_ticket(client, org, ticket["id"]))["criticality"] == "medium"


async def test_two_concurrent_scans_record_a_breach_once(client):
    org = await sign_up(client)
    tickets = [await overdue_ticket(client, org, resolution_due=DUE) for _ in range(6)]
    await asyncio.gather(scan(DUE), scan(DUE), scan(DUE))
    for ticket in tickets:
        assert len(await events_of(ticket["id"])) == 2
        assert len(await notes_of(ticket["id"])) == 2
        assert (await get_ticket(client, org, ticket["id"]))["criticality"] == "high"


async def test_a_paused_ticket_is_not_breached_while_paused_and_its_deadline_moves_on_resume(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=YEAR, resolution_sla_minutes=60)
    start = DUE - timedelta(days=1)
    ticket = await create_ticket_at(org, start, category_id=category["id"])
    await update_ticket_at(org, str(ticket.id), start + timedelta(minutes=30), status="on_hold")

    await scan(start + timedelta(hours=5))
    assert await events_of(ticket.id) == []
    resumed = await update_ticket_at(org, str(ticket.id), start + timedelta(hours=5), status="open")
    # 30 minutes were left when it paused.
    assert resumed.sla.resolution_due_at == start + timedelta(hours=5, minutes=30)
    assert resumed.sla.resolution_breached is False

    await scan(start + timedelta(hours=5, minutes=30) - timedelta(seconds=1))
    assert await events_of(ticket.id) == []
    await scan(start + timedelta(hours=5, minutes=30))
    assert [event["kind"] for event in await events_of(ticket.id)] == ["resolution_breached"]


async def test_a_breached_clock_keeps_its_deadline_through_a_later_pause(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=YEAR, resolution_sla_minutes=60)
    start = DUE - timedelta(days=1)
    ticket = await create_ticket_at(org, start, category_id=category["id"])
    await scan(start + timedelta(hours=2))
    breached = await update_ticket_at(org, str(ticket.id), start + timedelta(hours=2), status="on_hold")
    resumed = await update_ticket_at(org, str(ticket.id), start + timedelta(hours=3), status="open")

    # the deadline the breach was recorded against, not moved by the hour on hold
    assert resumed.sla.resolution_due_at == breached.sla.resolution_due_at == start + timedelta(hours=1)
    [event] = await events_of(ticket.id)
    assert event["due_at"] == resumed.sla.resolution_due_at


async def test_a_ticket_resolved_in_time_is_never_breached(client):
    org = await sign_up(client)
    start = DUE - timedelta(days=1)
    ticket = await create_ticket_at(org, start)
    await update_ticket_at(org, str(ticket.id), start + timedelta(minutes=30), status="resolved")
    await scan(start + timedelta(days=1))
    assert await events_of(ticket.id) == []
    shown = await get_ticket(client, org, str(ticket.id))
    assert shown["sla"]["response_breached"] is False and shown["sla"]["resolution_breached"] is False
    assert shown["criticality"] == "low"


async def test_the_breach_note_is_never_shown_in_the_portal(client):
    org = await sign_up(client)
    portal = await client.post(
        f"/portal/{org.id}/tickets", json={"email": "dora@customer.test", "title": "Help", "description": "x"}
    )
    assert portal.status_code == 201, portal.text
    ticket_id = portal.json()["ticket"]["id"]
    customer = {"Authorization": f"Bearer {portal.json()['access_token']}"}
    await execute_as_system(
        "UPDATE tickets SET response_due_at = :due WHERE id = :id", id=uuid.UUID(ticket_id), due=DUE
    )
    await scan(DUE)
    staff = await client.get(f"/tickets/{ticket_id}/messages", headers=org.headers)
    assert any("SLA breached" in message["content"] for message in staff.json()["data"])

    seen = await client.get(f"/portal/tickets/{ticket_id}", headers=customer)
    assert seen.status_code == 200, seen.text
    assert all("SLA breached" not in message["content"] for message in seen.json()["messages"])
    listed = await client.get(f"/portal/tickets/{ticket_id}/messages", headers=customer)
    assert all("SLA breached" not in message["content"] for message in listed.json()["data"])


async def test_a_breach_fires_the_sla_breached_webhook(client):
    org = await sign_up(client)
    await execute_as_system(
        "INSERT INTO webhooks (id, organization_id, url, events, secret, created_at)"
        " VALUES (gen_random_uuid(), :org, 'https://hooks.example.com/x', ARRAY['sla.breached'], 's', now())",
        org=uuid.UUID(org.id),
    )
    ticket = await overdue_ticket(client, org)
    await scan(DUE)
    (delivery,) = await rows(
        "SELECT event, payload FROM webhook_deliveries WHERE organization_id = :org", org=uuid.UUID(org.id)
    )
    assert delivery["event"] == "sla.breached"
    data = delivery["payload"]["data"]
    assert data["ticket_id"] == ticket["id"] and data["kind"] == "response_breached"
    assert datetime.fromisoformat(data["due_at"]) == DUE


async def test_the_scan_reads_the_partial_indexes(client):
    """Both clock queries can be answered from their partial index, so resolved history is never read
    (with seqscan off, only an index whose predicate the query implies can serve it)."""
    for clock in CLOCKS:
        async with system_session() as session:
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = await session.scalars(
                text(
                    f"EXPLAIN SELECT id FROM tickets WHERE {clock.running} AND {clock.due_column} <= now()"
                    f" ORDER BY {clock.due_column} LIMIT 200 FOR UPDATE SKIP LOCKED"
                )
            )
            assert f"idx_tickets_{clock.name}_clock" in "\n".join(plan)


async def test_a_clock_stopped_after_its_deadline_but_before_the_scan_still_records_the_breach(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org)
    ticket = await overdue_ticket(client, org, resolution_due=DUE)
    # Overdue, not yet scanned: the reply and the pause stop the clocks, and record what they missed.
    reply = await client.post(f"/tickets/{ticket['id']}/messages", headers=agent, json={"content": "Sorry!"})
    assert reply.status_code == 201, reply.text
    paused = await client.patch(f"/tickets/{ticket['id']}", headers=org.headers, json={"status": "pending"})
    assert paused.status_code == 200, paused.text
    assert sorted(b["kind"] for b in paused.json()["sla"]["breaches"]) == [
        "resolution_breached",
        "response_breached",
    ]
    assert paused.json()["criticality"] == "high"
    await scan(datetime.now(UTC))
    assert len(await events_of(ticket["id"])) == 2


async def test_the_note_of_a_breach_a_reply_finds_comes_before_the_reply(client):
    # Both were written at the same moment, and listed in either order (by their random ids).
    org = await sign_up(client)
    _, agent = await add_user(client, org)
    ticket = await overdue_ticket(client, org)
    reply = await client.post(f"/tickets/{ticket['id']}/messages", headers=agent, json={"content": "Sorry!"})
    assert reply.status_code == 201, reply.text
    note, answer = await notes_of(ticket["id"])
    assert "first response" in note["content"] and answer["content"] == "Sorry!"
    assert note["created_at"] < answer["created_at"]
    listed = await client.get(f"/tickets/{ticket['id']}/messages", headers=org.headers)
    assert [message["content"] for message in listed.json()["data"]][1:] == ["Sorry!"]


async def test_a_category_change_after_a_deadline_but_before_the_scan_records_the_breach_first(client):
    org = await sign_up(client)
    slow = await add_category(client, org, response_sla_minutes=YEAR, resolution_sla_minutes=YEAR)
    ticket = await overdue_ticket(client, org)
    moved = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"category_id": slow["id"]}
    )
    assert moved.status_code == 200, moved.text
    # the deadline that had come is recorded, not moved out of sight
    assert [b["kind"] for b in moved.json()["sla"]["breaches"]] == ["response_breached"]
    assert moved.json()["sla"]["response_breached"] is True and moved.json()["criticality"] == "medium"
    await scan(datetime.now(UTC))
    assert len(await events_of(ticket["id"])) == 1


async def test_a_stricter_category_records_at_once_the_breach_it_brings_to_a_paused_clock(client):
    org = await sign_up(client)
    slow = await add_category(client, org, response_sla_minutes=YEAR, resolution_sla_minutes=300)
    fast = await add_category(client, org, response_sla_minutes=YEAR, resolution_sla_minutes=60)
    start = DUE - timedelta(days=1)
    ticket = await create_ticket_at(org, start, category_id=slow["id"])
    await update_ticket_at(org, str(ticket.id), start + timedelta(minutes=90), status="pending")
    # paused with 210 minutes left; 240 fewer in the new category: 30 minutes overdue while paused
    moved = await update_ticket_at(org, str(ticket.id), start + timedelta(hours=2), category_id=fast["id"])
    assert moved.sla.resolution_due_at == start + timedelta(minutes=60)
    assert [breach.kind for breach in moved.sla.breaches] == ["resolution_breached"]
    resolved = await update_ticket_at(org, str(ticket.id), start + timedelta(hours=3), status="resolved")
    assert resolved.sla.resolution_breached is True and len(await events_of(ticket.id)) == 1


@pytest.mark.parametrize("status", ["resolved", "closed"])
async def test_a_stricter_category_in_the_patch_that_resolves_records_the_breach_it_brings(client, status):
    org = await sign_up(client)
    slow = await add_category(client, org, response_sla_minutes=5, resolution_sla_minutes=10)
    fast = await add_category(client, org, response_sla_minutes=1, resolution_sla_minutes=1)
    start = DUE - timedelta(days=1)
    ticket = await create_ticket_at(org, start, category_id=slow["id"])

    done = await update_ticket_at(
        org, str(ticket.id), start + timedelta(seconds=70), category_id=fast["id"], status=status
    )

    assert sorted(breach.kind for breach in done.sla.breaches) == ["resolution_breached", "response_breached"]
    assert done.criticality == "high" and len(await events_of(ticket.id)) == 2


async def test_a_stopped_clock_keeps_its_deadline_when_the_category_changes(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org)
    slow = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=120)
    fast = await add_category(client, org, response_sla_minutes=1, resolution_sla_minutes=2)
    ticket = await open_ticket(client, org, category_id=slow["id"])
    reply = await client.post(f"/tickets/{ticket['id']}/messages", headers=agent, json={"content": "On it"})
    assert reply.status_code == 201, reply.text
    resolved = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"status": "resolved"}
    )
    moved = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"category_id": fast["id"]}
    )
    assert moved.status_code == 200, moved.text
    # met in time under the category it had: history, whatever category it is filed under now
    for field in ("response_due_at", "resolution_due_at", "response_breached", "resolution_breached"):
        assert moved.json()["sla"][field] == resolved.json()["sla"][field]
    assert moved.json()["sla"]["response_breached"] is False and moved.json()["sla"]["breaches"] == []


async def test_a_reply_after_the_ticket_was_resolved_is_no_first_response(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org)
    ticket = await overdue_ticket(client, org, response_due=FAR)
    resolved = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"status": "resolved"}
    )
    assert resolved.status_code == 200, resolved.text
    # resolved an hour before its response deadline, which has passed since
    await execute_as_system(
        "UPDATE tickets SET resolved_at = :resolved, response_due_at = :due WHERE id = :id",
        id=uuid.UUID(ticket["id"]),
        resolved=DUE - timedelta(hours=1),
        due=DUE,
    )
    reply = await client.post(f"/tickets/{ticket['id']}/messages", headers=agent, json={"content": "Late!"})
    assert reply.status_code == 201, reply.text
    shown = await get_ticket(client, org, ticket["id"])
    # resolving stopped the clock in time; a later reply neither meets nor breaches it
    assert shown["sla"]["first_response_at"] is None and shown["sla"]["response_breached"] is False


async def test_a_category_change_in_the_patch_that_ends_a_pause_keeps_the_paused_time(client):
    org = await sign_up(client)
    slow = await add_category(client, org, response_sla_minutes=YEAR, resolution_sla_minutes=300)
    fast = await add_category(client, org, response_sla_minutes=YEAR, resolution_sla_minutes=120)
    start = DUE - timedelta(days=1)
    tickets = [await create_ticket_at(org, start, category_id=slow["id"]) for _ in range(2)]
    for ticket in tickets:
        await update_ticket_at(org, str(ticket.id), start + timedelta(minutes=60), status="pending")
    # paused with 240 minutes left, 180 fewer in the new category: 60 left, counted from the change
    later = start + timedelta(minutes=100)
    resumed = await update_ticket_at(org, str(tickets[0].id), later, status="open", category_id=fast["id"])
    assert resumed.sla.resolution_due_at == later + timedelta(minutes=60)
    assert resumed.sla.resolution_breached is False and resumed.sla.breaches == []
    on_hold = await update_ticket_at(org, str(tickets[1].id), later, status="on_hold", category_id=fast["id"])
    assert on_hold.sla.resolution_due_at == later + timedelta(minutes=60) and on_hold.sla.resolution_paused


async def test_breaches_a_stricter_category_brings_are_audited_before_the_change_that_brought_them(client):
    """Each audit entry's before is the one before it's after: the person's entry does not claim the
    criticality the breaches raised."""
    org = await sign_up(client)
    lax = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    strict = await add_category(client, org, response_sla_minutes=1, resolution_sla_minutes=1)
    ticket = await create_ticket_at(org, DUE, category_id=uuid.UUID(lax["id"]))
    await update_ticket_at(
        org, str(ticket.id), DUE + timedelta(seconds=75), category_id=uuid.UUID(strict["id"]), status="open"
    )
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": str(ticket.id)})
    entries = [e for e in reversed(audit.json()["data"]) if e["action"] != "ticket.created"]
    assert [e["action"] for e in entries] == ["ticket.sla_breached"] * 2 + ["ticket.updated"]
    *_, last_breach, change = entries
    assert (
        change["before"].get("criticality", last_breach["after"]["criticality"])
        == (last_breach["after"]["criticality"])
    )
    assert "criticality" not in change["after"]


@pytest.mark.parametrize("status", [None, "open"])
async def test_a_criticality_set_with_a_stricter_category_wins_over_the_breaches_it_brings(client, status):
    org = await sign_up(client)
    lax = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    strict = await add_category(client, org, response_sla_minutes=1, resolution_sla_minutes=1)
    ticket = await create_ticket_at(org, DUE, category_id=uuid.UUID(lax["id"]))
    change = {"category_id": uuid.UUID(strict["id"]), "criticality": "medium"} | (
        {"status": status} if status else {}
    )
    changed = await update_ticket_at(org, str(ticket.id), DUE + timedelta(seconds=75), **change)
    assert (
        changed.criticality == "medium" and changed.sla.response_breached and changed.sla.resolution_breached
    )
