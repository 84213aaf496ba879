"""SLA clocks: the response and resolution deadlines of a ticket, and whether they are breached.

The response clock is met by the first public reply of a human agent; the resolution clock by
resolving, and it stands still while the ticket waits on the customer or a third party. A clock
counts in its calendar: around the clock (ALWAYS_OPEN), or the organization's business hours for a
category that follows them. A deadline is reached at its due instant: `due_at <= now` is a breach.
"""

import math
from datetime import datetime, timedelta
from typing import Any

from supportdesk.sla.business_hours import ALWAYS_OPEN, Calendar, add_business_time, business_time_between
from supportdesk.tickets.states import PAUSED_STATUSES

# A ticket without a category gets the seed's category defaults.
DEFAULT_RESPONSE_MINUTES = 60
DEFAULT_RESOLUTION_MINUTES = 480


def sla_minutes(category: Any | None) -> tuple[int, int]:
    """A category's (response, resolution) minutes; the defaults without one."""
    if category is None:
        return DEFAULT_RESPONSE_MINUTES, DEFAULT_RESOLUTION_MINUTES
    return category.response_sla_minutes, category.resolution_sla_minutes


def deadline(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    """The one deadline rule: `duration` of the calendar's time after `start` (before, if negative).
    No time at all is `start` itself: a pause in closed hours leaves a deadline at closing time where it
    was, not at the next opening."""
    if not duration:
        return start
    return add_business_time(start, duration, calendar)


def deadlines(
    created_at: datetime, response_minutes: int, resolution_minutes: int, calendar: Calendar = ALWAYS_OPEN
) -> tuple[datetime, datetime]:
    return (
        deadline(created_at, timedelta(minutes=response_minutes), calendar),
        deadline(created_at, timedelta(minutes=resolution_minutes), calendar),
    )


def moved_deadline(
    due_at: datetime,
    reference: datetime,
    extra: timedelta,
    old_calendar: Calendar,
    new_calendar: Calendar,
) -> datetime:
    """A deadline after a category change: the time left at `reference` (in the old calendar, negative
    when overdue), plus the difference between the SLAs, counted from `reference` in the new calendar."""
    left = business_time_between(reference, due_at, old_calendar)
    return deadline(reference, left + extra, new_calendar)


def apply_status_to_clock(
    ticket: Any, new_status: str, now: datetime, calendar: Calendar = ALWAYS_OPEN
) -> dict[str, datetime | None]:
    """The clock fields that change when `ticket` moves to `new_status` at `now`. When a pause ends the
    resolution deadline moves by the calendar time it lasted (business time for a category following
    business hours: a pause over a weekend moves it by nothing). Moving between the two paused statuses
    ends one pause and starts the next: a pending ticket's wait on its customer (which the automations
    measure from `resolution_paused_at`) starts when it became pending, not when it went on hold. A
    breached clock has stopped: its deadline stays the one the breach was recorded against."""
    pausing = new_status in PAUSED_STATUSES
    paused_at = ticket.resolution_paused_at
    if paused_at is None:
        return {"resolution_paused_at": now} if pausing else {}
    if new_status == ticket.status:
        return {}
    shifted = ticket.resolution_due_at
    if shifted is not None and not resolution_breached(ticket, now):
        paused_for = business_time_between(paused_at, now, calendar)
        shifted = deadline(shifted, paused_for, calendar)
    return {"resolution_paused_at": now if pausing else None, "resolution_due_at": shifted}


def readings(ticket: Any, now: datetime) -> dict[str, datetime]:
    """The moment each clock ("response", "resolution") reads at `now`, if it runs: `now`, or for the
    resolution clock on pause the pause's start."""
    return {"response": now, "resolution": ticket.resolution_paused_at or now}


def _running_deadlines(ticket: Any, now: datetime) -> dict[str, datetime]:
    """The deadlines of the clocks ("response", "resolution") still running at `now` (for a resolved
    ticket, when it was resolved): not met, not breached."""
    running: dict[str, datetime] = {}
    if ticket.first_response_at is None and ticket.response_due_at and not response_breached(ticket, now):
        running["response"] = ticket.response_due_at
    if ticket.resolution_due_at and not resolution_breached(ticket, now):
        running["resolution"] = ticket.resolution_due_at
    return running


def time_left_at_resolution(ticket: Any, now: datetime, calendar: Calendar = ALWAYS_OPEN) -> dict[str, int]:
    """What each running clock of `ticket` has left as it is resolved or closed at `now`, in working
    seconds of the calendar it counts in (a paused one from the pause's start), rounded to the nearest
    (rounded up, a resolve and reopen every second would stop the clock) but at least one: a running
    clock has some left. Kept for a reopening (`resume_after_resolution`), as the deadline alone no
    longer says it once the ticket's category, and with it the calendar, has changed."""
    values: dict[str, int] = {}
    reading = readings(ticket, now)
    for name, due_at in _running_deadlines(ticket, now).items():
        left = business_time_between(reading[name], due_at, calendar)
        values[f"{name}_left_seconds"] = max(1, round(left.total_seconds()))
    return values


def resume_after_resolution(ticket: Any, now: datetime, calendar: Calendar = ALWAYS_OPEN) -> dict[str, Any]:
    """The clock fields of a resolved ticket being reopened at `now`: a clock that was still running when
    it was resolved starts again from `now` with the time it had left (`time_left_at_resolution`, and a
    category change since added its SLA difference), counted in `calendar`, the one of the category the
    ticket has now; a met or breached clock keeps its deadline. A ticket resolved in time and reopened a
    week later owes the rest of its SLA, not two breaches. One resolved before the time left was kept
    (migration 0018) has its deadlines moved by the calendar time it stayed resolved."""
    if ticket.resolved_at is None:
        return {}
    values: dict[str, Any] = {"response_left_seconds": None, "resolution_left_seconds": None}
    for name, due_at in _running_deadlines(ticket, now).items():
        left_seconds = getattr(ticket, f"{name}_left_seconds")
        if left_seconds is None:
            resolved_for = business_time_between(ticket.resolved_at, now, calendar)
            values[f"{name}_due_at"] = deadline(due_at, resolved_for, calendar)
        else:
            values[f"{name}_due_at"] = deadline(now, timedelta(seconds=left_seconds), calendar)
    return values


def response_breached(ticket: Any, now: datetime) -> bool:
    if ticket.response_breached:
        return True
    if ticket.response_due_at is None:
        return False
    # Resolving without a reply stops the clock too (the breach scan stops watching it then).
    return (ticket.first_response_at or ticket.resolved_at or now) >= ticket.response_due_at


def resolution_breached(ticket: Any, now: datetime) -> bool:
    if ticket.resolution_breached:
        return True
    if ticket.resolution_due_at is None:
        return False
    # While paused, the clock reads the moment it stopped.
    met_or_now = ticket.resolved_at or ticket.resolution_paused_at or now
    return met_or_now >= ticket.resolution_due_at


def _seconds_until(due_at: datetime, reading: datetime) -> int:
    # Rounded up: 0 or less exactly when the clock is breached.
    return math.ceil((due_at - reading).total_seconds())


def response_remaining_seconds(ticket: Any, now: datetime) -> int | None:
    """Seconds left to the first response (negative once overdue); None when met or closed."""
    if ticket.response_due_at is None or ticket.first_response_at is not None or ticket.resolved_at:
        return None
    return _seconds_until(ticket.response_due_at, now)


def resolution_remaining_seconds(ticket: Any, now: datetime) -> int | None:
    """Seconds left to resolve (negative once overdue); while paused, what was left when it stopped;
    None once resolved."""
    if ticket.resolution_due_at is None or ticket.resolved_at is not None:
        return None
    return _seconds_until(ticket.resolution_due_at, ticket.resolution_paused_at or now)
