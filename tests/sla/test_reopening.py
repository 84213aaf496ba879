"""Reopening a resolved ticket: each clock still running when it was resolved starts again with the
time it had left then, counted in the calendar of the category the ticket has now, however and
whenever that category changed."""

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.automations.service import resolve_unanswered_tickets
from tests.automations.helpers import configure, run
from tests.factories import add_category, sign_up
from tests.sla.helpers import create_ticket_at, office_hours_org, rows, update_ticket_at
from tests.tickets.helpers import execute_as_system

# The office (09:00 to 17:00 UTC on weekdays) is closed from Friday 17:00 to Monday 09:00.
FRIDAY_8PM = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MONDAY_9AM = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TUESDAY_9AM = MONDAY_9AM + timedelta(days=1)


async def resolved_ticket(org, category: dict, created_at: datetime, resolved_at: datetime) -> str:
    ticket = await create_ticket_at(org, created_at, category_id=category["id"])
    await update_ticket_at(org, str(ticket.id), resolved_at, status="resolved")
    return str(ticket.id)


async def time_left_kept(ticket_id: str) -> tuple[int | None, int | None]:
    (row,) = await rows(
        "SELECT response_left_seconds, resolution_left_seconds FROM tickets WHERE id = :id", id=ticket_id
    )
    return row["response_left_seconds"], row["resolution_left_seconds"]


@pytest.mark.parametrize("moved", ["while resolved", "in the reopening patch"])
async def test_a_clock_moved_to_business_hours_resumes_with_its_time_left_in_business_time(client, moved):
    org = await office_hours_org(client)
    anytime = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=60, resolution_sla_minutes=480
    )
    ticket_id = await resolved_ticket(org, anytime, FRIDAY_8PM, FRIDAY_8PM + timedelta(minutes=10))

    if moved == "while resolved":
        await update_ticket_at(org, ticket_id, SATURDAY_NOON, category_id=office["id"])
        reopened = await update_ticket_at(org, ticket_id, MONDAY_9AM, status="open")
    else:
        reopened = await update_ticket_at(org, ticket_id, MONDAY_9AM, status="open", category_id=office["id"])

    # 50 and 470 minutes were left, around the clock; the office counts them from Monday 09:00.
    assert reopened.sla.response_due_at == MONDAY_9AM + timedelta(minutes=50)
    assert reopened.sla.resolution_due_at == MONDAY_9AM + timedelta(minutes=470)
    assert reopened.sla.response_remaining_seconds == 50 * 60
    assert reopened.sla.resolution_remaining_seconds == 470 * 60
    assert not reopened.sla.response_breached and not reopened.sla.resolution_breached
    assert await time_left_kept(ticket_id) == (None, None)  # used once


async def test_a_clock_moved_off_business_hours_resumes_around_the_clock_with_the_business_time_left(client):
    org = await office_hours_org(client)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=60, resolution_sla_minutes=480
    )
    anytime = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    friday_4_30pm = FRIDAY_8PM - timedelta(hours=3, minutes=30)
    # Resolved at 16:40: 20 minutes of Friday left, and 30 and 450 of Monday.
    ticket_id = await resolved_ticket(org, office, friday_4_30pm, friday_4_30pm + timedelta(minutes=10))
    await update_ticket_at(org, ticket_id, SATURDAY_NOON, category_id=anytime["id"])

    sunday_noon = SATURDAY_NOON + timedelta(days=1)
    reopened = await update_ticket_at(org, ticket_id, sunday_noon, status="open")

    assert reopened.sla.response_due_at == sunday_noon + timedelta(minutes=50)
    assert reopened.sla.resolution_due_at == sunday_noon + timedelta(minutes=470)


async def test_a_category_change_while_resolved_when_reopening_or_after_gives_the_same_deadlines(client):
    org = await office_hours_org(client)
    anytime = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=120, resolution_sla_minutes=600
    )
    first, second, third = [
        await resolved_ticket(org, anytime, FRIDAY_8PM, FRIDAY_8PM + timedelta(minutes=10)) for _ in range(3)
    ]

    await update_ticket_at(org, first, SATURDAY_NOON, category_id=office["id"])
    moved_while_resolved = await update_ticket_at(org, first, MONDAY_9AM, status="open")
    moved_when_reopened = await update_ticket_at(
        org, second, MONDAY_9AM, status="open", category_id=office["id"]
    )
    await update_ticket_at(org, third, MONDAY_9AM, status="open")
    moved_after = await update_ticket_at(
        org, third, MONDAY_9AM + timedelta(minutes=30), category_id=office["id"]
    )

    # 50 and 470 minutes left, 60 and 120 more in the office's SLA: 110 and 590 minutes of its time.
    expected = (MONDAY_9AM + timedelta(minutes=110), TUESDAY_9AM + timedelta(minutes=110))
    for ticket in (moved_while_resolved, moved_when_reopened, moved_after):
        assert (ticket.sla.response_due_at, ticket.sla.resolution_due_at) == expected


async def test_a_met_or_breached_clock_stays_so_when_the_ticket_reopens_in_another_calendar(client):
    org = await office_hours_org(client)
    anytime = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    office = await add_category(client, org, uses_business_hours=True)
    created = await create_ticket_at(org, FRIDAY_8PM, category_id=anytime["id"])
    answered = await create_ticket_at(org, FRIDAY_8PM, category_id=anytime["id"])
    await execute_as_system(
        "UPDATE tickets SET first_response_at = :at WHERE id = :id",
        id=answered.id,
        at=FRIDAY_8PM + timedelta(minutes=5),
    )
    late = str(created.id)
    await update_ticket_at(org, late, FRIDAY_8PM + timedelta(minutes=90), status="resolved")
    await update_ticket_at(org, str(answered.id), FRIDAY_8PM + timedelta(minutes=90), status="resolved")
    for ticket_id in (late, str(answered.id)):
        await update_ticket_at(org, ticket_id, SATURDAY_NOON, category_id=office["id"])

    breached = await update_ticket_at(org, late, MONDAY_9AM, status="open")
    met = await update_ticket_at(org, str(answered.id), MONDAY_9AM, status="open")

    assert breached.sla.response_breached and breached.sla.response_due_at == created.sla.response_due_at
    assert met.sla.response_due_at == answered.sla.response_due_at
    assert met.sla.response_remaining_seconds is None and not met.sla.response_breached
    for reopened in (breached, met):  # 390 minutes left, in the office's time
        assert reopened.sla.resolution_due_at == MONDAY_9AM + timedelta(minutes=390)


async def test_a_ticket_resolved_while_waiting_on_its_customer_keeps_what_its_paused_clock_had_left(client):
    org = await office_hours_org(client)
    await configure(client, org, pending_auto_resolve_after_days=1)
    anytime = await add_category(client, org, response_sla_minutes=525_600, resolution_sla_minutes=480)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=525_600, resolution_sla_minutes=480
    )
    ticket = await create_ticket_at(org, FRIDAY_8PM, category_id=anytime["id"])
    await update_ticket_at(org, str(ticket.id), FRIDAY_8PM + timedelta(minutes=10), status="pending")
    # the automation resolves it a day later: the clock stood still with 470 minutes left
    assert await run(resolve_unanswered_tickets, org, SATURDAY_NOON + timedelta(hours=9)) == 1
    await update_ticket_at(org, str(ticket.id), SATURDAY_NOON + timedelta(days=1), category_id=office["id"])

    reopened = await update_ticket_at(org, str(ticket.id), MONDAY_9AM, status="open")

    assert reopened.sla.resolution_due_at == MONDAY_9AM + timedelta(minutes=470)


async def test_a_ticket_whose_category_is_deleted_while_resolved_resumes_around_the_clock(client):
    org = await office_hours_org(client)
    office = await add_category(
        client, org, uses_business_hours=True, response_sla_minutes=120, resolution_sla_minutes=600
    )
    ticket_id = await resolved_ticket(org, office, FRIDAY_8PM, FRIDAY_8PM + timedelta(minutes=10))
    deleted = await client.delete(f"/categories/{office['id']}", headers=org.headers)
    assert deleted.status_code == 204, deleted.text

    reopened = await update_ticket_at(org, ticket_id, MONDAY_9AM, status="open")

    # 120 and 600 minutes of office time were left (it was closed): now around the clock, and still the
    # SLA the deadlines were made with, not the 60 and 480 minutes of a ticket without a category
    assert reopened.sla.response_due_at == MONDAY_9AM + timedelta(minutes=120)
    assert reopened.sla.resolution_due_at == MONDAY_9AM + timedelta(minutes=600)


async def test_a_ticket_resolved_before_the_time_left_was_kept_still_reopens(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=60, resolution_sla_minutes=480)
    start = MONDAY_9AM - timedelta(days=30)
    ticket_id = await resolved_ticket(org, category, start, start + timedelta(minutes=10))
    await execute_as_system(  # as resolved before migration 0018
        "UPDATE tickets SET response_left_seconds = NULL, resolution_left_seconds = NULL WHERE id = :id",
        id=ticket_id,
    )

    week_later = start + timedelta(days=7)
    reopened = await update_ticket_at(org, ticket_id, week_later, status="open")

    # the deadlines move by the week it stayed resolved
    assert reopened.sla.response_due_at == week_later + timedelta(minutes=50)
    assert reopened.sla.resolution_due_at == week_later + timedelta(minutes=470)


async def test_resolving_and_reopening_within_a_second_still_spends_the_time(client):
    org = await sign_up(client)
    category = await add_category(client, org, response_sla_minutes=10, resolution_sla_minutes=20)
    ticket_id = await resolved_ticket(org, category, MONDAY_9AM, MONDAY_9AM)
    at = MONDAY_9AM
    for _ in range(10):
        at += timedelta(seconds=1)
        await update_ticket_at(org, ticket_id, at, status="open")
        await update_ticket_at(org, ticket_id, at + timedelta(seconds=0.8), status="resolved")

    # 8 s were spent open; each resolve rounds what is left to the second (rounded up, none was spent)
    response, resolution = await time_left_kept(ticket_id)
    assert 10 * 60 - 10 <= response <= 10 * 60 - 6 and resolution == response + 10 * 60


async def test_a_clock_a_century_away_is_kept_as_it_resolves(client):
    org = await sign_up(client)
    ticket = await create_ticket_at(org, MONDAY_9AM)
    century = MONDAY_9AM + timedelta(days=36_500)
    await execute_as_system(
        "UPDATE tickets SET resolution_due_at = :due WHERE id = :id", id=ticket.id, due=century
    )
    await update_ticket_at(org, str(ticket.id), MONDAY_9AM, status="resolved")  # 3.2e9 s: past INTEGER

    assert (await time_left_kept(str(ticket.id)))[1] == 36_500 * 86_400
