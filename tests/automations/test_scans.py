"""The automation scans read only the partial indexes' ranges, never resolved or closed history."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.automations import service
from supportdesk.db import new_session, set_system
from tests.automations.helpers import configure, set_status
from tests.factories import open_ticket, sign_up

PROBES = {
    service.close_resolved_tickets: ("idx_tickets_resolved_at", "resolved_at <= enabled.cutoff"),
    service.remind_pending_tickets: (
        "idx_tickets_waiting_on_customer",
        "resolution_paused_at <= enabled.cutoff",
    ),
    service.resolve_unanswered_tickets: (
        "idx_tickets_waiting_on_customer",
        "resolution_paused_at <= enabled.cutoff",
    ),
}

# A history of a few thousand tickets, half resolved or closed long ago, half waiting.
HISTORY = """
INSERT INTO tickets (id, organization_id, customer_id, title, description, status, priority, criticality,
    resolved_at, resolution_paused_at, response_breached, resolution_breached, created_at, updated_at)
SELECT gen_random_uuid(), organization_id, customer_id, title, description, v.status, priority, criticality,
    CASE WHEN v.status IN ('resolved', 'closed') THEN now() - g * interval '1 hour' END,
    CASE WHEN v.status = 'pending' THEN now() - g * interval '1 hour' END,
    false, false, created_at, updated_at
FROM tickets, generate_series(1, 1500) g, (VALUES ('pending'), ('resolved'), ('closed'), ('open')) v(status)
WHERE id = :id
"""


def index_conditions(plan: dict) -> list[tuple[str, str]]:
    found = [(plan["Index Name"], plan.get("Index Cond", ""))] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        found += index_conditions(child)
    return found


@pytest.mark.parametrize("rule", list(PROBES), ids=lambda rule: rule.__name__)
async def test_the_due_organizations_scan_reads_the_partial_index_by_time(client, rule):
    org = await sign_up(client)
    await configure(
        client,
        org,
        auto_close_after_days=1,
        pending_reminder_after_hours=1,
        pending_auto_resolve_after_days=1,
    )
    ticket = await open_ticket(client, org)
    index, condition = PROBES[rule]
    async with new_session() as session, session.begin():
        await set_system(session)
        await session.execute(text(HISTORY), {"id": ticket["id"]})
        await session.execute(text("ANALYZE tickets"))
        explained = await session.scalar(
            text("EXPLAIN (FORMAT JSON) " + service._DUE_ORGANIZATIONS[rule]), {"now": datetime.now(UTC)}
        )
        # The history was only for the planner's eyes.
        await session.rollback()
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]

    # The time bound is an index condition (a range read), not a filter over every row of the index.
    conditions = index_conditions(plan)
    assert any(name == index and condition in cond for name, cond in conditions), conditions


async def test_a_day_is_24_hours_whatever_the_database_time_zone(client):
    """On a server whose time zone changes its clocks, 2 days after a Saturday of October in Paris were
    49 hours to the scan and 48 to the rule: a resolved ticket waited an hour longer to close."""
    org = await sign_up(client)
    await configure(client, org, auto_close_after_days=2)
    ticket = await open_ticket(client, org)
    await set_status(client, org, ticket["id"], "resolved")
    async with new_session() as session, session.begin():
        await set_system(session)
        await session.execute(
            text("UPDATE tickets SET resolved_at = '2026-10-24T11:30:00+00:00' WHERE id = :id"),
            {"id": ticket["id"]},
        )
        await session.execute(text("ALTER ROLE CURRENT_USER SET timezone = 'Europe/Paris'"))
    await db.dispose()  # new connections take the role's time zone
    try:
        sunday_after = datetime(2026, 10, 26, 12, tzinfo=UTC)  # 2 days 30 minutes after
        due = await service.due_organizations(service.close_resolved_tickets, sunday_after)
    finally:
        async with new_session() as session, session.begin():
            await session.execute(text("ALTER ROLE CURRENT_USER RESET timezone"))
        await db.dispose()
    assert uuid.UUID(org.id) in due
