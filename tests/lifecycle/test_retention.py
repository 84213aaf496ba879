"""Retention: tickets 2 years after resolution, audit entries after 1 year; purged tickets are archived."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from supportdesk import db
from supportdesk.lifecycle.retention import apply_retention
from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.lifecycle.helpers import archived, restore
from tests.tickets.helpers import assert_counts_are_true, execute_as_system, patch_ticket
from tests.webhooks.helpers import add_webhook


async def resolved_ago(client, org, interval: str, status: str = "resolved", **fields) -> dict:
    ticket = await open_ticket(client, org, **fields)
    await client.post(f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": "Done."})
    assert (await patch_ticket(client, org, ticket["id"], status=status)).status_code == 200
    await execute_as_system(
        f"UPDATE tickets SET resolved_at = now() - interval '{interval}' WHERE id = :id", id=ticket["id"]
    )
    return ticket


async def ticket_ids(client, org) -> set[str]:
    response = await client.get("/tickets", headers=org.headers, params={"limit": 100})
    return {ticket["id"] for ticket in response.json()["data"]}


async def test_tickets_two_years_past_resolution_are_purged_with_their_messages_and_archived(client):
    org = await sign_up(client)
    await add_user(client, org)
    expired = await resolved_ago(client, org, "2 years 1 day")
    closed = await resolved_ago(client, org, "3 years", status="closed")
    recent = await resolved_ago(client, org, "2 years - 1 day")
    still_open = await open_ticket(client, org)
    await execute_as_system(
        "UPDATE tickets SET created_at = now() - interval '5 years' WHERE id = :id", id=still_open["id"]
    )

    purged = await apply_retention(datetime.now(UTC))

    assert purged.tickets >= 2 and uuid.UUID(org.id) in purged.organizations
    assert await ticket_ids(client, org) == {recent["id"], still_open["id"]}
    assert (await client.get(f"/tickets/{expired['id']}/messages", headers=org.headers)).status_code == 404
    await assert_counts_are_true(client, org)
    entries = await archived(org)
    assert {(str(e.entity_id), e.reason) for e in entries} == {
        (expired["id"], "retention"),
        (closed["id"], "retention"),
    }
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_type": "organization"})
    (applied,) = [e for e in audit.json()["data"] if e["action"] == "retention.applied"]
    assert applied["after"] == {"tickets": 2, "customers": 0, "audit_logs": 0, "webhook_deliveries": 0}

    # Restorable for 30 days, messages included.
    (entry,) = [e for e in entries if str(e.entity_id) == expired["id"]]
    await restore(entry)
    messages = await client.get(f"/tickets/{expired['id']}/messages", headers=org.headers)
    assert [m["content"] for m in messages.json()["data"]] == ["Done."]
    await assert_counts_are_true(client, org)


async def test_a_purged_ticket_restored_after_its_category_was_deleted_comes_back_uncategorized(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    ticket = await resolved_ago(client, org, "30 months", category_id=category["id"])
    await apply_retention(datetime.now(UTC))
    assert (await client.delete(f"/categories/{category['id']}", headers=org.headers)).status_code == 204

    (entry,) = [e for e in await archived(org) if e.entity_type == "ticket"]
    await restore(entry)

    back = await client.get(f"/tickets/{ticket['id']}", headers=org.headers)
    assert back.status_code == 200 and back.json()["category_id"] is None
    assert [
        hit["id"]
        for hit in (await client.get("/tickets", headers=org.headers, params={"q": "login"})).json()["data"]
    ] == [ticket["id"]]


async def test_a_customer_goes_with_their_last_ticket_and_comes_back_with_it(client):
    org = await sign_up(client)
    gone = await resolved_ago(client, org, "3 years", customer={"email": "gone@customer.test"})
    kept = await resolved_ago(client, org, "3 years", customer={"email": "kept@customer.test"})
    await open_ticket(client, org, customer={"email": "kept@customer.test"})

    purged = await apply_retention(datetime.now(UTC))

    customers = await client.get("/customers", headers=org.headers)
    assert [c["email"] for c in customers.json()["data"]] == ["kept@customer.test"]
    assert purged.customers >= 1
    (customer_entry,) = [e for e in await archived(org) if e.entity_type == "customer"]
    assert str(customer_entry.entity_id) == gone["customer_id"]

    (ticket_entry,) = [e for e in await archived(org) if str(e.entity_id) == gone["id"]]
    await restore(ticket_entry)  # brings its customer back first
    back = await client.get(f"/customers/{gone['customer_id']}", headers=org.headers)
    assert back.status_code == 200 and back.json()["email"] == "gone@customer.test"
    assert (await client.get(f"/tickets/{gone['id']}", headers=org.headers)).status_code == 200
    assert kept["id"] not in await ticket_ids(client, org)
    assert [e.entity_type for e in await archived(org)] == ["ticket"]


async def test_a_ticket_archived_before_a_column_was_added_is_restored_with_its_default(client):
    org = await sign_up(client)
    ticket = await resolved_ago(client, org, "3 years", priority=2)
    await apply_retention(datetime.now(UTC))
    (entry,) = [e for e in await archived(org) if e.entity_type == "ticket"]
    await execute_as_system(  # as archived by a version without the column
        "UPDATE archived_records SET contents = jsonb_set(contents, '{0,rows,0}',"
        " (contents #> '{0,rows,0}') - 'priority_chosen') WHERE id = :id",
        id=entry.id,
    )

    await restore(entry)

    back = await client.get(f"/tickets/{ticket['id']}", headers=org.headers)
    assert back.status_code == 200 and back.json()["priority"] == 2


async def test_a_restored_resolved_ticket_reopens_with_the_time_its_clock_had_left(client):
    org = await sign_up(client)
    ticket = await resolved_ago(client, org, "3 years")  # in a second of its creation: 480 minutes left
    await apply_retention(datetime.now(UTC))
    (entry,) = [e for e in await archived(org) if e.entity_type == "ticket"]
    await restore(entry)

    reopened = (await patch_ticket(client, org, ticket["id"], status="open")).json()

    resumed_for = datetime.fromisoformat(reopened["sla"]["resolution_due_at"]) - datetime.fromisoformat(
        reopened["updated_at"]
    )
    assert timedelta(minutes=479) < resumed_for <= timedelta(minutes=480)


async def test_a_resolved_ticket_archived_before_the_time_left_was_kept_reopens_as_before(client):
    org = await sign_up(client)
    ticket = await resolved_ago(client, org, "3 years")
    await apply_retention(datetime.now(UTC))
    (entry,) = [e for e in await archived(org) if e.entity_type == "ticket"]
    await execute_as_system(  # as archived before migration 0018
        "UPDATE archived_records SET contents = jsonb_set(contents, '{0,rows,0}',"
        " (contents #> '{0,rows,0}') - 'response_left_seconds' - 'resolution_left_seconds') WHERE id = :id",
        id=entry.id,
    )
    await restore(entry)

    reopened = await patch_ticket(client, org, ticket["id"], status="open")

    assert reopened.status_code == 200, reopened.text
    # its deadline moved by the three years it stayed resolved
    due_at = datetime.fromisoformat(reopened.json()["sla"]["resolution_due_at"])
    assert due_at - datetime.fromisoformat(ticket["sla"]["resolution_due_at"]) > timedelta(days=3 * 365)


async def test_audit_entries_older_than_a_year_are_purged(client):
    org = await sign_up(client)
    await add_category(client, org)
    await add_category(client, org)
    await execute_as_system(
        "UPDATE audit_logs SET created_at = now() - interval '1 year 1 day'"
        " WHERE organization_id = :org AND action = 'category.created'",
        org=org.id,
    )

    await apply_retention(datetime.now(UTC))

    audit = await client.get("/audit-logs", headers=org.headers)
    actions = [entry["action"] for entry in audit.json()["data"]]
    assert "category.created" not in actions
    assert actions[0] == "retention.applied"


async def test_webhook_deliveries_older_than_30_days_are_deleted(client):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, "https://hooks.example.com/r")
    deliveries = f"/webhooks/{webhook['id']}/deliveries"
    await open_ticket(client, org)
    await execute_as_system(
        "UPDATE webhook_deliveries SET created_at = now() - interval '31 days' WHERE organization_id = :org",
        org=org.id,
    )
    await open_ticket(client, org)

    purged = await apply_retention(datetime.now(UTC))

    assert purged.webhook_deliveries >= 1
    assert len((await client.get(deliveries, headers=org.headers)).json()["data"]) == 1
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_type": "organization"})
    (applied,) = [e for e in audit.json()["data"] if e["action"] == "retention.applied"]
    assert applied["after"] == {"tickets": 0, "customers": 0, "audit_logs": 0, "webhook_deliveries": 1}


async def test_two_runs_racing_purge_and_archive_each_ticket_once(client):
    org = await sign_up(client)
    tickets = [await resolved_ago(client, org, "3 years") for _ in range(6)]

    await asyncio.gather(*(apply_retention(datetime.now(UTC)) for _ in range(3)))

    assert await ticket_ids(client, org) == set()
    entries = await archived(org)
    assert sorted(str(e.entity_id) for e in entries if e.entity_type == "ticket") == sorted(
        t["id"] for t in tickets
    )
    assert [str(e.entity_id) for e in entries if e.entity_type == "customer"] == [tickets[0]["customer_id"]]
    async with db.system_session() as session:
        applied = await session.scalar(
            text(
                "SELECT sum((after->>'tickets')::int) FROM audit_logs WHERE organization_id = :org"
                " AND action = 'retention.applied'"
            ),
            {"org": uuid.UUID(org.id)},
        )
    assert applied == 6
