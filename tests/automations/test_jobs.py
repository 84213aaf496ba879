"""The automations run by themselves: one periodic job, run by the real job queue on the real clock."""

from datetime import UTC, datetime

import pytest

from supportdesk import jobs
from supportdesk.automations import service
from supportdesk.automations.jobs import run_automations
from supportdesk.db import system_session
from tests.automations.helpers import automatic_messages, configure, set_status
from tests.factories import add_user, open_ticket, sign_up
from tests.tickets.helpers import assert_counts_are_true, execute_as_system, get_ticket


@pytest.fixture
async def job_app(app):
    async with jobs.app.open_async():
        yield jobs.app


def test_the_automations_are_a_registered_periodic_task():
    periodic = {task.task.name: task for task in jobs.app.periodic_registry.periodic_tasks.values()}

    assert "run_automations" in jobs.app.tasks
    assert periodic["run_automations"].periodic_id == "run-automations"
    # Every five minutes at most: reminders and closes are due to the minute, not to the day.
    assert periodic["run_automations"].cron == "*/5 * * * *"


async def test_the_job_applies_every_due_rule_with_the_real_clock(client, job_app):
    org = await sign_up(client)
    await add_user(client, org)
    await configure(
        client,
        org,
        auto_close_after_days=3,
        pending_reminder_after_hours=24,
        pending_auto_resolve_after_days=7,
    )
    to_close, to_remind, to_resolve, not_due = [await open_ticket(client, org) for _ in range(4)]
    await set_status(client, org, to_close["id"], "resolved")
    for ticket in (to_remind, to_resolve, not_due):
        await set_status(client, org, ticket["id"], "pending")
    await execute_as_system(
        "UPDATE tickets SET resolved_at = now() - interval '4 days' WHERE id = :id", id=to_close["id"]
    )
    for ticket, waited in ((to_remind, "2 days"), (to_resolve, "8 days"), (not_due, "23 hours")):
        await execute_as_system(
            f"UPDATE tickets SET resolution_paused_at = now() - interval '{waited}' WHERE id = :id",
            id=ticket["id"],
        )

    async with system_session() as session:
        await jobs.defer(session, run_automations, timestamp=int(datetime.now(UTC).timestamp()))
    await jobs.run_worker(wait=False)

    statuses = [(await get_ticket(client, org, t["id"]))["status"] for t in (to_close, to_remind, to_resolve)]
    assert statuses == ["closed", "pending", "resolved"]
    assert [m["content"] for m in await automatic_messages(to_remind["id"])] == [service.REMINDER_TEXT]
    # Resolved for lack of reply, and so no reminder besides.
    assert [m["content"] for m in await automatic_messages(to_resolve["id"])] == [service.AUTO_RESOLVED_TEXT]
    assert await automatic_messages(not_due["id"]) == []
    await assert_counts_are_true(client, org)
