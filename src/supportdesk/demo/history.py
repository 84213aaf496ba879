"""The demo's history moved into the past: its tickets were played through the services just now, and
each `Timeline` says when, in the script, every step really happened. One statement per table moves
tickets, messages and audit entries there; then what the past implies is written as it would have been
(breaches, the organization's setup before its first ticket, the monthly usage counters)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.messages.models import Message
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.states import Status
from supportdesk.tickets.transitions import status_change


class Timeline:
    """One ticket's real (just now) and scripted (in the past) times.

    The deadlines move with the creation time. The clock fields are replayed with `status_change` at
    the scripted times, so pauses last as long as the script says rather than the milliseconds they
    took to load, and a resolve keeps the time left the script gives, not the loader's."""

    def __init__(self, ticket: Ticket, started: datetime, created_at: datetime) -> None:
        self.ticket_id = ticket.id
        shift = created_at - ticket.created_at
        self.clock = Ticket(
            status=Status.NEW,
            resolved_at=None,
            resolution_paused_at=None,
            first_response_at=None,
            response_due_at=ticket.response_due_at and ticket.response_due_at + shift,
            resolution_due_at=ticket.resolution_due_at and ticket.resolution_due_at + shift,
        )
        self.created_at = self.at = created_at
        self.messages: list[tuple[uuid.UUID, datetime]] = []
        self.periods = [(started, created_at)]  # audit entries written since [0] happened at [1]

    def advance(self, minutes: float) -> None:
        self.at += timedelta(minutes=minutes)
        self.periods.append((datetime.now(UTC), self.at))

    def message(self, message: Message) -> None:
        self.messages.append((message.id, self.at))
        if message.sender_id and not message.is_internal and self.clock.first_response_at is None:
            self.clock.first_response_at = self.at

    def status(self, new_status: str) -> None:
        if new_status != self.clock.status:
            for name, value in status_change(self.clock, new_status, self.at).items():
                setattr(self.clock, name, value)

    def ticket_row(self) -> tuple[Any, ...]:
        """The values of `HISTORY_COLUMNS`."""
        clock = self.clock
        return (
            self.ticket_id,
            self.created_at,
            self.at,
            clock.response_due_at,
            clock.resolution_due_at,
            clock.resolution_paused_at,
            clock.resolved_at,
            clock.first_response_at,
            clock.response_left_seconds,
            clock.resolution_left_seconds,
        )

    def audit_rows(self, loaded_at: datetime) -> list[tuple[Any, ...]]:
        ends = [since for since, _at in self.periods[1:]] + [loaded_at]
        return [(self.ticket_id, since, end, at) for (since, at), end in zip(self.periods, ends, strict=True)]


# The ticket columns `Timeline` writes, after the ticket's id, with their types: its times moved into
# the past, and the time left its clocks had at a scripted resolve.
HISTORY_COLUMNS = {
    "id": "uuid",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "response_due_at": "timestamptz",
    "resolution_due_at": "timestamptz",
    "resolution_paused_at": "timestamptz",
    "resolved_at": "timestamptz",
    "first_response_at": "timestamptz",
    "response_left_seconds": "integer",
    "resolution_left_seconds": "integer",
}


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


async def write_history(session: AsyncSession, organization_id: uuid.UUID, timelines: list[Timeline]) -> None:
    """Move every ticket, message and ticket audit entry to its scripted time, one statement each."""
    tickets = _columns([timeline.ticket_row() for timeline in timelines])
    written = list(HISTORY_COLUMNS)[1:]
    arrays = [f"CAST(:{name} AS {kind}[])" for name, kind in HISTORY_COLUMNS.items()]
    await session.execute(
        text(
            f"UPDATE tickets t SET {', '.join(f'{name} = r.{name}' for name in written)}"
            f" FROM unnest({', '.join(arrays)}) AS r({', '.join(HISTORY_COLUMNS)}) WHERE t.id = r.id"
        ),
        dict(zip(HISTORY_COLUMNS, tickets, strict=True)),
    )
    messages = _columns([row for timeline in timelines for row in timeline.messages])
    await session.execute(
        text(
            "UPDATE messages m SET created_at = r.at"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[])) AS r(id, at) WHERE m.id = r.id"
        ),
        {"ids": messages[0], "ats": messages[1]},
    )
    loaded_at = datetime.now(UTC) + timedelta(seconds=1)
    audit = _columns([row for timeline in timelines for row in timeline.audit_rows(loaded_at)])
    await session.execute(
        text(
            "UPDATE audit_logs a SET created_at = r.at"
            " FROM unnest(CAST(:tickets AS uuid[]), CAST(:since AS timestamptz[]),"
            " CAST(:until AS timestamptz[]), CAST(:ats AS timestamptz[])) AS r(ticket, since, until, at)"
            " WHERE a.organization_id = :org AND a.entity_type = 'ticket' AND a.entity_id = r.ticket"
            " AND a.created_at >= r.since AND a.created_at < r.until"
        ),
        {"org": organization_id, "tickets": audit[0], "since": audit[1], "until": audit[2], "ats": audit[3]},
    )


# (flag, deadline, when it was met) of each SLA clock of a resolved ticket: sla/clock.py's rule.
_PAST_CLOCKS = (
    ("response_breached", "response_due_at", "coalesce(first_response_at, resolved_at)"),
    ("resolution_breached", "resolution_due_at", "resolved_at"),
)


async def record_past_breaches(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """The deadlines of the resolved tickets' history came in the past, not while the breach scan
    watched: record the breaches their times imply, as the scan would have when each came (the open
    tickets' are the scan's own to find, within a minute). Analytics read these records."""
    for flag, due, met in _PAST_CLOCKS:
        await session.execute(
            text(
                f"WITH breached AS (UPDATE tickets SET {flag} = true WHERE organization_id = :org"
                f" AND resolved_at IS NOT NULL AND {due} IS NOT NULL AND {met} >= {due} AND NOT {flag}"
                f" RETURNING id, {due} AS due_at)"
                " INSERT INTO sla_events (id, organization_id, ticket_id, kind, due_at, occurred_at)"
                f" SELECT gen_random_uuid(), :org, id, '{flag}', due_at, due_at FROM breached"
            ),
            {"org": organization_id},
        )


async def backdate_setup(session: AsyncSession, organization_id: uuid.UUID, when: datetime) -> None:
    """The organization, its team, categories and knowledge base predate its first ticket."""
    params = {"org": organization_id, "when": when}
    await session.execute(
        text("UPDATE organizations SET created_at = :when, updated_at = :when WHERE id = :org"), params
    )
    for table in ("users", "categories", "documents"):
        await session.execute(
            text(f"UPDATE {table} SET created_at = :when, updated_at = :when WHERE organization_id = :org"),
            params,
        )
    await session.execute(
        text(
            "UPDATE audit_logs SET created_at = :when WHERE organization_id = :org"
            " AND entity_type IN ('organization', 'user', 'category', 'document')"
        ),
        params,
    )
    # A customer exists from their first ticket on.
    await session.execute(
        text(
            "UPDATE customers c SET created_at = first.at, updated_at = first.at"
            " FROM (SELECT customer_id, min(created_at) AS at FROM tickets WHERE organization_id = :org"
            "       GROUP BY customer_id) first"
            " WHERE c.id = first.customer_id"
        ),
        params,
    )


async def recount_monthly_usage(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Every ticket was counted in this month while loading; count each in the month it was opened."""
    params = {"org": organization_id}
    await session.execute(
        text("UPDATE usage_counters SET tickets_created = 0 WHERE organization_id = :org"), params
    )
    await session.execute(
        text(
            "INSERT INTO usage_counters (organization_id, month, tickets_created)"
            " SELECT organization_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date, count(*)"
            " FROM tickets WHERE organization_id = :org GROUP BY 1, 2"
            " ON CONFLICT (organization_id, month) DO UPDATE SET tickets_created = excluded.tickets_created"
        ),
        params,
    )
