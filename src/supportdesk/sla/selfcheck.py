"""The self-check: every user's current_ticket_count against the truth (their tickets not resolved
or closed). The trigger of migration 0002 keeps the counter under the assignment lock, so this
should never find anything; when it does, it repairs the counter and says so loudly."""

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.tickets.assignment import lock_assignments

log = logging.getLogger(__name__)

_TRUTH = """
    SELECT u.id, u.organization_id, u.current_ticket_count AS recorded, coalesce(load.open, 0) AS actual
    FROM users u
    LEFT JOIN (
        SELECT assigned_agent_id, count(*) AS open FROM tickets
        WHERE assigned_agent_id IS NOT NULL AND status NOT IN ('resolved', 'closed')
        GROUP BY assigned_agent_id
    ) load ON load.assigned_agent_id = u.id
    WHERE u.current_ticket_count IS DISTINCT FROM coalesce(load.open, 0)
"""


@dataclass(frozen=True)
class Drift:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    recorded: int | None
    actual: int


async def repair_ticket_counts(session: AsyncSession) -> list[Drift]:
    """Find and repair drifted counters (in a system session); returns what was repaired."""
    suspects = (await session.execute(text(_TRUTH))).all()
    if not suspects:
        return []
    # A suspect may only be a change committing right now: under its organization's assignment
    # lock (which every load change holds) the truth cannot move, so read it again there.
    organizations = sorted({row.organization_id for row in suspects})
    for organization_id in organizations:
        await lock_assignments(session, organization_id)
    repaired = (
        await session.execute(
            text(
                f"""
                WITH truth AS ({_TRUTH} AND u.organization_id = ANY(:orgs))
                UPDATE users SET current_ticket_count = truth.actual
                FROM truth WHERE users.id = truth.id
                RETURNING users.id, users.organization_id, truth.recorded, truth.actual
                """
            ),
            {"orgs": organizations},
        )
    ).all()
    drifts = [Drift(row.id, row.organization_id, row.recorded, row.actual) for row in repaired]
    for drift in drifts:
        log.error(
            "self-check: user %s of organization %s had current_ticket_count %s but %s open tickets;"
            " repaired",
            drift.user_id,
            drift.organization_id,
            drift.recorded,
            drift.actual,
        )
    return drifts
