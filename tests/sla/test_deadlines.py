"""Deadlines in business time: at creation, on resume after a pause, on a category change; and the
clock readings of the ticket's `sla` block."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from supportdesk import db
from supportdesk.categories.service import delete_category
from supportdesk.db import tenant_session
from supportdesk.tickets.assignment import lock_assignments
from tests.factories import add_category, open_ticket, sign_up
from tests.sla.helpers import admin_of, create_ticket_at, office_hours_org, read_ticket_at, update_ticket_at
from tests.waiting import until_a_lock_is_waited_for


async def locks_waited_for() -> list:
    async with db.system_session() as session:
        return list(await session.scalars(text("SELECT pid FROM pg_locks WHERE NOT granted")))


FRIDAY_4PM = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)
SATURDAY = MONDAY - timedelta(days=2)


async def test_a_category_on_business_hours_counts_its_sla_in_open_time(client):
    org = await office_hours_org(client)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=120, resolution_sla_minutes=480
    )
    assert office["uses_business_hours"] is True
    ticket = await create_ticket_at(org, FRIDAY_4PM, category_id=office["id"])
    # One hour on Friday, the rest from Monday 09:00.
    assert ticket.sla.response_due_at == MONDAY + timedelta(hours=10)
    assert ticket.sla.resolution_due_at == MONDAY + timedelta(hours=16)
    assert (
        ticket.sla.response_remaining_seconds == (MONDAY + timedelta(hours=10) - FRIDAY_4PM).total_seconds()
    )


async def test_a_category_around_the_clock_ignores_business_hours(client):
    org = await office_hours_org(client)
    anytime = await add_category(client, org, response_sla_minutes=120)
    assert anytime["uses_business_hours"] is False
    ticket = await create_ticket_at(org, FRIDAY_4PM, category_id=anytime["id"])
    assert ticket.sla.response_due_at == FRIDAY_4PM + timedelta(hours=2)


async def test_a_pause_over_the_weekend_moves_a_business_deadline_by_the_open_time_it_lasted(client):
    org = await office_hours_org(client)
    office = await add_category(client, org, uses_business_hours=True, resolution_sla_minutes=600)
    ticket = await create_ticket_at(org, FRIDAY_4PM, category_id=office["id"])
    assert ticket.sla.resolution_due_at == TUESDAY + timedelta(hours=10)

    paused = await update_ticket_at(org, str(ticket.id), FRIDAY_4PM + timedelta(minutes=30), status="pending")
    assert paused.sla.resolution_paused is True
    saturday = await read_ticket_at(org, str(ticket.id), MONDAY - timedelta(days=2))
    assert saturday.sla.resolution_remaining_seconds == paused.sla.resolution_remaining_seconds

    # Paused from Friday 16:30 to Monday 09:30: one hour of open time, not 65 hours.
    resumed = await update_ticket_at(
        org, str(ticket.id), MONDAY + timedelta(hours=9, minutes=30), status="open"
    )
    assert resumed.sla.resolution_paused is False
    assert resumed.sla.resolution_due_at == TUESDAY + timedelta(hours=11)


async def test_a_pause_in_closed_hours_leaves_a_deadline_at_closing_time_where_it_was(client):
    org = await office_hours_org(client)
    office = await add_category(client, org, uses_business_hours=True, resolution_sla_minutes=480)
    ticket = await create_ticket_at(org, SATURDAY, category_id=office["id"])
    assert ticket.sla.resolution_due_at == MONDAY + timedelta(hours=17)  # Monday's whole day, to closing

    await update_ticket_at(org, str(ticket.id), SATURDAY + timedelta(hours=1), status="pending")
    resumed = await update_ticket_at(org, str(ticket.id), SATURDAY + timedelta(hours=2), status="open")
    assert resumed.sla.resolution_due_at == MONDAY + timedelta(hours=17)  # not Tuesday's opening


async def test_moving_to_a_business_hours_category_keeps_the_time_left_plus_the_sla_difference(client):
    org = await office_hours_org(client)
    anytime = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=120, resolution_sla_minutes=480
    )
    ticket = await create_ticket_at(org, FRIDAY_4PM, category_id=anytime["id"])
    assert ticket.sla.response_due_at == FRIDAY_4PM + timedelta(hours=1)

    moved = await update_ticket_at(
        org, str(ticket.id), FRIDAY_4PM + timedelta(minutes=30), category_id=str(office["id"])
    )
    # Response: 30 minutes were left, plus 60 more: 30 on Friday, 60 on Monday.
    assert moved.sla.response_due_at == MONDAY + timedelta(hours=10)
    # Resolution: 450 minutes were left: 30 on Friday, 420 on Monday.
    assert moved.sla.resolution_due_at == MONDAY + timedelta(hours=16)


async def test_the_clock_reads_the_seconds_left_and_breaches_at_the_deadline_not_before(client):
    org = await sign_up(client)
    ticket = await create_ticket_at(org, FRIDAY_4PM)
    due = ticket.sla.response_due_at
    assert due is not None
    before = await read_ticket_at(org, str(ticket.id), due - timedelta(seconds=1))
    assert before.sla.response_remaining_seconds == 1 and before.sla.response_breached is False
    at_due = await read_ticket_at(org, str(ticket.id), due)
    assert at_due.sla.response_remaining_seconds == 0 and at_due.sla.response_breached is True
    late = await read_ticket_at(org, str(ticket.id), due + timedelta(minutes=5))
    assert late.sla.response_remaining_seconds == -300


async def test_a_met_or_finished_clock_has_no_time_left(client):
    org = await sign_up(client)
    ticket = await create_ticket_at(org, FRIDAY_4PM)
    resolved = await update_ticket_at(
        org, str(ticket.id), FRIDAY_4PM + timedelta(minutes=10), status="resolved"
    )
    assert resolved.sla.response_remaining_seconds is None
    assert resolved.sla.resolution_remaining_seconds is None
    later = await read_ticket_at(org, str(ticket.id), FRIDAY_4PM + timedelta(days=30))
    assert later.sla.response_breached is False and later.sla.resolution_breached is False


async def test_moving_category_counts_from_the_sla_the_deadlines_were_made_with_not_an_edited_one(client):
    org = await sign_up(client)
    first = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    second = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    ticket = await create_ticket_at(org, FRIDAY_4PM, category_id=first["id"])
    edited = await client.patch(
        f"/categories/{first['id']}",
        headers=org.headers,
        json={"response_sla_minutes": 600, "resolution_sla_minutes": 1000},
    )
    assert edited.status_code == 200, edited.text

    moved = await update_ticket_at(
        org, str(ticket.id), FRIDAY_4PM + timedelta(minutes=1), category_id=str(second["id"])
    )

    # The same SLA as the deadlines were made with: they stay (the edit moved them by -540 and -520).
    assert moved.sla.response_due_at == FRIDAY_4PM + timedelta(minutes=60)
    assert moved.sla.resolution_due_at == FRIDAY_4PM + timedelta(minutes=480)


async def test_a_reopened_ticket_owes_what_its_running_clocks_had_left_when_it_was_resolved(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    start = MONDAY - timedelta(days=30)
    ticket = await create_ticket_at(org, start, category_id=category["id"])
    await update_ticket_at(org, str(ticket.id), start + timedelta(minutes=10), status="resolved")

    week_later = start + timedelta(days=7)
    reopened = await update_ticket_at(org, str(ticket.id), week_later, status="open")

    # 50 and 470 minutes were left when it was resolved, without a reply: still left now.
    assert reopened.sla.response_due_at == week_later + timedelta(minutes=50)
    assert reopened.sla.resolution_due_at == week_later + timedelta(minutes=470)
    assert not reopened.sla.response_breached and not reopened.sla.resolution_breached


async def test_a_clock_breached_before_the_resolve_stays_breached_when_the_ticket_reopens(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    start = MONDAY - timedelta(days=20)
    ticket = await create_ticket_at(org, start, category_id=category["id"])
    await update_ticket_at(org, str(ticket.id), start + timedelta(minutes=90), status="resolved")

    week_later = start + timedelta(days=7)
    reopened = await update_ticket_at(org, str(ticket.id), week_later, status="open")

    assert reopened.sla.response_breached and reopened.sla.response_due_at == start + timedelta(minutes=60)
    assert reopened.sla.resolution_due_at == week_later + timedelta(minutes=390)


async def test_the_open_tickets_of_a_deleted_category_on_business_hours_keep_their_business_time_left(
    client,
):
    org = await office_hours_org(client)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=60, resolution_sla_minutes=480
    )
    ticket = await create_ticket_at(org, FRIDAY_4PM + timedelta(hours=2), category_id=office["id"])
    assert ticket.sla.response_due_at == MONDAY + timedelta(hours=10)  # the office is closed till then

    async with tenant_session(uuid.UUID(org.id)) as session:
        await delete_category(session, admin_of(org), uuid.UUID(office["id"]), now=SATURDAY)

    # all of its 60 and 480 minutes were left, now counted around the clock from Saturday
    after = await read_ticket_at(org, str(ticket.id), SATURDAY)
    assert after.sla.response_due_at == SATURDAY + timedelta(minutes=60)
    assert after.sla.resolution_due_at == SATURDAY + timedelta(minutes=480)


async def test_a_deleted_category_records_the_breach_due_first_and_audits_the_deadlines_it_moves(client):
    org = await office_hours_org(client)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=30, resolution_sla_minutes=480
    )
    ticket = await create_ticket_at(org, FRIDAY_4PM, category_id=office["id"])  # response due 16:30

    async with tenant_session(uuid.UUID(org.id)) as session:
        await delete_category(session, admin_of(org), uuid.UUID(office["id"]), now=SATURDAY)

    after = await read_ticket_at(org, str(ticket.id), SATURDAY)
    assert after.sla.response_breached and after.sla.response_due_at == FRIDAY_4PM + timedelta(minutes=30)
    assert after.sla.resolution_due_at == SATURDAY + timedelta(minutes=480 - 60)  # an hour spent Friday
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": str(ticket.id)})
    [entry] = [e for e in audit.json()["data"] if e["after"].get("category_id", "") is None]
    assert entry["after"]["sla"]["resolution_due_at"] == after.sla.resolution_due_at.isoformat()


async def test_a_category_that_starts_or_stops_following_business_hours_recounts_its_open_tickets(client):
    """Its tickets keep the time each clock had left, counted in the new calendar: their old deadlines
    counted the closed hours before them as time left, or fell in closed hours."""
    org = await sign_up(client)
    today = datetime.now(UTC).isoweekday()
    later = (today + 2) % 7 + 1  # three days on: the office is closed today, whenever the test runs
    hours = {"timezone": "UTC", "weekly_hours": {str(later): [["09:00", "17:00"]]}}
    assert (await client.put("/business-hours", headers=org.headers, json=hours)).status_code == 200
    category = await add_category(client, org, uses_business_hours=True, response_sla_minutes=60)
    ticket = await open_ticket(client, org, category_id=category["id"])
    opens = datetime.fromisoformat(ticket["sla"]["response_due_at"]) - timedelta(minutes=60)
    assert opens.isoweekday() == later and (opens.hour, opens.minute) == (9, 0)

    before = datetime.now(UTC)
    await client.patch(
        f"/categories/{category['id']}", headers=org.headers, json={"uses_business_hours": False}
    )
    moved = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()["sla"]
    due = datetime.fromisoformat(moved["response_due_at"])
    assert before + timedelta(minutes=60) <= due <= datetime.now(UTC) + timedelta(minutes=60)

    await client.patch(
        f"/categories/{category['id']}", headers=org.headers, json={"uses_business_hours": True}
    )
    back = datetime.fromisoformat(
        (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()["sla"]["response_due_at"]
    )
    assert opens + timedelta(minutes=59) <= back <= opens + timedelta(minutes=60)


async def test_new_business_hours_recount_the_open_tickets_of_the_categories_that_follow_them(client):
    """A holiday added for today left a ticket opened a second before it due, and breached, on it; the
    next ticket was due the next open day."""
    org = await sign_up(client)
    today = datetime.now(UTC).date()
    hours = {"timezone": "UTC", "weekly_hours": {str(day): [["00:00", "24:00"]] for day in range(1, 8)}}
    assert (await client.put("/business-hours", headers=org.headers, json=hours)).status_code == 200
    category = await add_category(client, org, uses_business_hours=True, response_sla_minutes=60)
    anytime = await add_category(client, org, response_sla_minutes=60)
    ticket = await open_ticket(client, org, category_id=category["id"])
    around_the_clock = await open_ticket(client, org, category_id=anytime["id"])

    holiday = {**hours, "holidays": [today.isoformat()]}
    assert (await client.put("/business-hours", headers=org.headers, json=holiday)).status_code == 200

    moved = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()["sla"]
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    # the hour it had left, counted from when the office opens again
    assert tomorrow + timedelta(minutes=59) <= datetime.fromisoformat(moved["response_due_at"])
    assert datetime.fromisoformat(moved["response_due_at"]) <= tomorrow + timedelta(minutes=60)
    kept = (await client.get(f"/tickets/{around_the_clock['id']}", headers=org.headers)).json()["sla"]
    assert kept["response_due_at"] == around_the_clock["sla"]["response_due_at"]
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    assert any(
        "sla" in entry["after"] for entry in audit.json()["data"] if entry["action"] == "ticket.updated"
    )

    # Hours that move no deadline (the same again, a holiday next year) leave the tickets alone: every
    # open one was rewritten, audited and sent to webhooks, unchanged (400 tickets: 3 s).
    later = {**holiday, "holidays": [today.isoformat(), (today + timedelta(days=400)).isoformat()]}
    for same_deadlines in (holiday, later):
        response = await client.put("/business-hours", headers=org.headers, json=same_deadlines)
        assert response.status_code == 200, response.text
    again = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    assert len(again.json()["data"]) == len(audit.json()["data"])


async def test_a_ticket_created_while_business_hours_change_is_counted_in_the_new_hours(client):
    """It read the hours being replaced, and the change recounted the tickets committed before it: one
    ticket in 15 created at once kept a deadline on the holiday just added."""
    org = await sign_up(client)
    today = datetime.now(UTC).date()
    hours = {"timezone": "UTC", "weekly_hours": {str(day): [["00:00", "24:00"]] for day in range(1, 8)}}
    assert (await client.put("/business-hours", headers=org.headers, json=hours)).status_code == 200
    category = await add_category(client, org, uses_business_hours=True, response_sla_minutes=60)
    holiday = {**hours, "holidays": [today.isoformat()]}

    async with tenant_session(uuid.UUID(org.id)) as holder:  # the queue busy: both wait their turn
        await lock_assignments(holder, uuid.UUID(org.id))
        change = asyncio.create_task(client.put("/business-hours", headers=org.headers, json=holiday))
        await until_a_lock_is_waited_for(change)
        created = asyncio.create_task(open_ticket(client, org, category_id=category["id"]))
        while len(await locks_waited_for()) < 2:
            await asyncio.sleep(0.05)
    assert (await change).status_code == 200
    due = datetime.fromisoformat((await created)["sla"]["response_due_at"])
    assert due.date() > today  # counted from when the office opens again
