"""Business time: the hours an organization's calendar is open, and durations counted in them.

A calendar is a time zone, opening intervals per ISO weekday (several per day, "24:00" closes at
midnight) and holidays (whole local dates). Intervals are read in local wall time and measured in
real elapsed time, so a day that loses or gains an hour to daylight saving time counts it as it
happened. Pure functions: no database, no clock.
"""

import functools
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# Deadlines are never pushed further than this, and no ticket lives that long.
HORIZON = timedelta(days=366 * 100)
# The longest SLA a category may have (a year of minutes). A calendar given to an organization must let
# it end within the horizon (`fits_the_longest_sla`): open an hour a week (or two, closed on 1,000
# holidays), a year's SLA hit the horizon, and a category change measured the time left against it:
# moved to a 30-minute SLA, both deadlines went years into the past.
MAX_SLA_MINUTES = 525_600
# A team's shifts, with room to spare: a calendar of many short openings made every deadline a walk
# through them (720 one-minute openings a day: 3.5 s per ticket creation, in the event loop).
MAX_INTERVALS_PER_DAY = 12
MAX_HOLIDAYS = 1000


@dataclass(frozen=True)
class Calendar:
    tz: tzinfo
    # ISO weekday (1 = Monday … 7 = Sunday) -> sorted, disjoint (start, end) minutes after local midnight.
    weekly: dict[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return not self.holidays and all(
            self.weekly.get(day) == ((0, MINUTES_PER_DAY),) for day in range(1, 8)
        )


ALWAYS_OPEN = Calendar(UTC, {day: ((0, MINUTES_PER_DAY),) for day in range(1, 8)})


def parse_clock(value: str) -> int:
    """ "HH:MM" as minutes after midnight; "24:00" is the end of the day."""
    if not re.fullmatch(r"[0-9]{2}:[0-9]{2}", value):  # not str.isdigit(): "٠٩" is digits to it
        raise ValueError(f"{value!r} is not a HH:MM time")
    hours, minutes = value.split(":")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or total > MINUTES_PER_DAY:
        raise ValueError(f"{value!r} is not a time of day")
    return total


@functools.cache
def _named_zones() -> frozenset[str]:
    # the IANA names, not the server's own ("localtime") nor a placeholder ("Factory")
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def named_time_zone(name: str) -> ZoneInfo:
    """A time zone an organization may choose: an IANA name ("Europe/Paris", "UTC"). The files beside
    them that ZoneInfo also reads ("localtime", "posixrules", "right/UTC") would make a calendar depend
    on the server it runs on, or count leap seconds."""
    if name not in _named_zones():
        raise ValueError(f"timezone: unknown time zone {name!r}")
    return time_zone(name)


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # unknown, malformed, or a directory of zones
        raise ValueError(f"timezone: unknown time zone {name!r}") from None


def calendar_from(timezone: str, weekly_hours: dict[str, list[list[str]]], holidays: list[date]) -> Calendar:
    """A calendar from its stored (or submitted) form; ValueError says what is wrong with it."""
    tz = time_zone(timezone)
    weekly: dict[int, tuple[tuple[int, int], ...]] = {}
    for key, intervals in weekly_hours.items():
        if key not in {str(day) for day in range(1, 8)}:
            raise ValueError(f"weekday {key!r} is not 1 (Monday) to 7 (Sunday)")
        parsed = sorted((parse_clock(start), parse_clock(end)) for start, end in intervals)
        for start, end in parsed:
            if start >= end:
                raise ValueError(f"weekday {key}: an interval must start before it ends")
        for (_, end), (next_start, _) in zip(parsed, parsed[1:], strict=False):
            if next_start < end:
                raise ValueError(f"weekday {key}: intervals overlap")
        weekly[int(key)] = tuple(parsed)
    if not any(weekly.values()):
        raise ValueError("the calendar must be open at least once a week")
    return Calendar(tz, weekly, frozenset(holidays))


def fits_the_longest_sla(calendar: Calendar, start: datetime) -> bool:
    """Whether MAX_SLA_MINUTES of open time from `start` end within the horizon (holidays counted)."""
    return add_business_time(start, timedelta(minutes=MAX_SLA_MINUTES), calendar) < start + HORIZON


def _local_instant(day: date, minute: int, tz: tzinfo) -> datetime:
    """The UTC instant of a wall time; one skipped by DST (fold=0) reads with the offset before the gap,
    as far past it as it was into it (02:30 on a night that skips 02:00–03:00 is 03:30)."""
    day += timedelta(days=minute // MINUTES_PER_DAY)
    minute %= MINUTES_PER_DAY
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(UTC)


def _open_periods(day: date, calendar: Calendar) -> list[tuple[datetime, datetime]]:
    """The UTC instants a local `day` is open, in order."""
    if day in calendar.holidays:
        return []
    return [
        (_local_instant(day, start, calendar.tz), _local_instant(day, end, calendar.tz))
        for start, end in calendar.weekly.get(day.isoweekday(), ())
    ]


def _days(start: datetime, calendar: Calendar, step: int) -> Iterator[date]:
    """Local dates from `start`'s onwards (step 1) or backwards (step -1), up to the horizon."""
    day = start.astimezone(calendar.tz).date()
    for _ in range(HORIZON.days + 1):
        yield day
        day += timedelta(days=step)


def add_business_time(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    """The instant `duration` of open time after `start` (before it, if negative), in UTC."""
    # In UTC: arithmetic on a zoned datetime is wall-clock arithmetic, wrong across DST.
    start = start.astimezone(UTC)
    if calendar.always_open:
        return start + duration
    if not any(calendar.weekly.values()):
        raise ValueError("a calendar that never opens has no business time")
    remaining = abs(duration)
    if duration >= timedelta(0):
        for day in _days(start, calendar, 1):
            for opens, closes in _open_periods(day, calendar):
                begin = max(opens, start)
                if closes <= begin:
                    continue
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        return start + HORIZON
    for day in _days(start, calendar, -1):
        for opens, closes in reversed(_open_periods(day, calendar)):
            end = min(closes, start)
            if end <= opens:
                continue
            if remaining <= end - opens:
                return end - remaining
            remaining -= end - opens
    return start - HORIZON


def business_time_between(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    """Open time from `a` to `b` (negative when b is before a)."""
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if b < a:
        return -business_time_between(b, a, calendar)
    if calendar.always_open:
        return b - a
    total = timedelta(0)
    day, last = a.astimezone(calendar.tz).date(), b.astimezone(calendar.tz).date()
    while day <= last:
        for opens, closes in _open_periods(day, calendar):
            overlap = min(closes, b) - max(opens, a)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def add_business_minutes(start: datetime, minutes: float, calendar: Calendar) -> datetime:
    return add_business_time(start, timedelta(minutes=minutes), calendar)


def business_minutes_between(a: datetime, b: datetime, calendar: Calendar) -> float:
    return business_time_between(a, b, calendar) / timedelta(minutes=1)
