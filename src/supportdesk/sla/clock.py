"""SLA clocks: the response and resolution deadlines of a ticket, and whether they are breached.

The response clock is met by the first public reply of a human agent; the resolution clock by
resolving, and it stands still while the ticket waits on the customer or a third party.
"""

from datetime import datetime, timedelta

from supportdesk.tickets.models import Ticket
from supportdesk.tickets.states import PAUSED_STATUSES

# A ticket without a category gets the seed's category defaults.
DEFAULT_RESPONSE_MINUTES = 60
DEFAULT_RESOLUTION_MINUTES = 480


def deadlines(
    created_at: datetime, response_minutes: int, resolution_minutes: int
) -> tuple[datetime, datetime]:
    return created_at + timedelta(minutes=response_minutes), created_at + timedelta(
        minutes=resolution_minutes
    )


def apply_status_to_clock(ticket: Ticket, new_status: str, now: datetime) -> dict[str, datetime | None]:
    """The clock fields that change when `ticket` moves to `new_status` at `now`."""
    pausing = new_status in PAUSED_STATUSES
    paused = ticket.resolution_paused_at is not None
    if pausing and not paused:
        return {"resolution_paused_at": now}
    if paused and not pausing:
        assert ticket.resolution_paused_at is not None
        shifted = None
        if ticket.resolution_due_at is not None:
            shifted = ticket.resolution_due_at + (now - ticket.resolution_paused_at)
        return {"resolution_paused_at": None, "resolution_due_at": shifted}
    return {}


def response_breached(ticket: Ticket, now: datetime) -> bool:
    if ticket.response_breached:
        return True
    if ticket.response_due_at is None:
        return False
    return (ticket.first_response_at or now) > ticket.response_due_at


def resolution_breached(ticket: Ticket, now: datetime) -> bool:
    if ticket.resolution_breached:
        return True
    if ticket.resolution_due_at is None:
        return False
    # While paused, the clock reads the moment it stopped.
    met_or_now = ticket.resolved_at or ticket.resolution_paused_at or now
    return met_or_now > ticket.resolution_due_at


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
