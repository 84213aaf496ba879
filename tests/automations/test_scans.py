"""The automation scans read only the partial indexes' ranges, never resolved or closed history."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from supportdesk.automations import service
from supportdesk.db import new_session, set_system
from tests.automations.helpers import configure
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
