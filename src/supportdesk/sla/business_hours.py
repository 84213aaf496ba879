"""Business time: the hours an organization's calendar is open, and durations counted in them.

A calendar is a time zone, opening intervals per ISO weekday (several per day, "24:00" closes at
midnight) and holidays (whole local dates). Intervals are read in local wall time and measured in
real elapsed time, so a day that loses or gains an hour to daylight saving time counts it as it
happened. Pure functions: no database, no clock.

They run in the event loop of every request that sets a deadline, so they count whole weeks at a time
(`_skip_whole_days`, `_open_time_of_whole_days`): the weekly hours' wall-clock total, corrected on the
few days it does not hold (holidays, changes of UTC offset). Only the days where a count starts or ends
are read one opening at a time; a year's SLA costs milliseconds however sparse the calendar.
"""

import bisect
import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
ONE_DAY = timedelta(days=1)
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

    @functools.cached_property
    def wall_open_time(self) -> dict[int, timedelta]:
        """Open time per ISO weekday as a wall clock reads it: a day's real open time, unless its UTC
        offset changes that day."""
        return {
            day: timedelta(minutes=sum(end - start for start, end in self.weekly.get(day, ())))
            for day in range(1, 8)
        }

    @functools.cached_property
    def open_per_week(self) -> timedelta:
        return sum(self.wall_open_time.values(), timedelta(0))

    @functools.cached_property
    def holiday_ordinals(self) -> tuple[int, ...]:
        return tuple(sorted(day.toordinal() for day in self.holidays))

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


@functools.lru_cache(maxsize=16_384)  # a year a key: a century each for 80 zones
def _offset_changes(tz: tzinfo, year: int) -> tuple[int, ...]:
    """The local dates of `year` (as ordinals) whose midnight and next midnight have different UTC
    offsets: the days a change to or from daylight saving time (or of standard time) shortens or lengthens.
    A day whose two midnights have the same offset keeps it all day, and one whose midnights differ
    changes once: no zone changes its offset twice within a day (in the tz database two changes are
    almost 4 days apart at the least, Freetown in 1939, and a change and its reversal 7 in Gaza's coming
    years: looking at a week's two ends would not do)."""
    midnight = datetime(year, 1, 1)
    offset = tz.utcoffset(midnight)
    changes = []
    while midnight.year == year:
        following = midnight + ONE_DAY
        following_offset = tz.utcoffset(following)
        if following_offset != offset:
            changes.append(midnight.toordinal())
        midnight, offset = following, following_offset
    return tuple(changes)


def _nearest(ordinals: tuple[int, ...], ordinal: int, step: int) -> int | None:
    """The first of the sorted `ordinals` from `ordinal` on (step 1) or back (step -1), None if none."""
    if step > 0:
        index = bisect.bisect_left(ordinals, ordinal)
        return ordinals[index] if index < len(ordinals) else None
    index = bisect.bisect_right(ordinals, ordinal)
    return ordinals[index - 1] if index else None


def _irregular_days(first: date, last: date, calendar: Calendar) -> tuple[int, ...]:
    """The holidays and the days whose UTC offset changes from `first` to `last` (in either order), as
    sorted ordinals: the days whose open time the calendar's weekly hours do not say."""
    low, high = sorted((first.toordinal(), last.toordinal()))
    holidays = calendar.holiday_ordinals
    days = set(holidays[bisect.bisect_left(holidays, low) : bisect.bisect_right(holidays, high)])
    for year in range(date.fromordinal(low).year, date.fromordinal(high).year + 1):
        days.update(ordinal for ordinal in _offset_changes(calendar.tz, year) if low <= ordinal <= high)
    return tuple(sorted(days))


def _open_time_of_day(day: date, calendar: Calendar) -> timedelta:
    """A whole local day's open time as `_open_periods` measures it, without building its instants. The
    day's wall times (fold=0) read one UTC offset up to a change and another from it, so only the opening
    the change falls in differs from its wall-clock length (one turned inside out counts nothing)."""
    if day in calendar.holidays:
        return timedelta(0)
    wall = calendar.wall_open_time[day.isoweekday()]
    intervals = calendar.weekly.get(day.isoweekday(), ())
    midnight, offset = datetime.combine(day, time()), calendar.tz.utcoffset
    before = offset(midnight)

    def offset_after(minute: int) -> bool:
        return offset(midnight + timedelta(minutes=minute)) != before

    changed_in = bisect.bisect_left(range(len(intervals)), True, key=lambda i: offset_after(intervals[i][1]))
    if changed_in == len(intervals) or offset_after(intervals[changed_in][0]):
        return wall
    opens, closes = (midnight + timedelta(minutes=minute) for minute in intervals[changed_in])
    real = closes - opens - (offset(closes) - offset(opens))
    return wall - (closes - opens) + max(real, timedelta(0))


def _skip_whole_days(
    day: date, remaining: timedelta, step: int, stop: int, irregular: tuple[int, ...], calendar: Calendar
) -> tuple[date, timedelta]:
    """Skips whole local days from `day` on (step 1) or back (step -1), up to the `stop` ordinal, while
    their open time is less than `remaining`: weeks at a time between the `irregular` days, those one by
    one. Returns the day the end falls in (or `stop`'s) and the time still left at its start."""
    week, wall = calendar.open_per_week, calendar.wall_open_time
    ordinal = day.toordinal()
    while ordinal != stop:
        following = _nearest(irregular, ordinal, step)
        next_irregular = stop if following is None or (following - stop) * step > 0 else following
        weeks = min((next_irregular - ordinal) * step // 7, (remaining - timedelta.resolution) // week)
        ordinal += step * 7 * max(weeks, 0)
        remaining -= max(weeks, 0) * week
        for clean in range(ordinal, next_irregular, step):  # fewer than a week's days
            open_time = wall[date.fromordinal(clean).isoweekday()]
            if open_time >= remaining:
                return date.fromordinal(clean), remaining
            remaining -= open_time
        if next_irregular == stop:
            break
        open_time = _open_time_of_day(date.fromordinal(next_irregular), calendar)
        if open_time >= remaining:
            return date.fromordinal(next_irregular), remaining
        remaining -= open_time
        ordinal = next_irregular + step
    return date.fromordinal(stop), remaining


def _open_time_of_whole_days(first: date, end: date, calendar: Calendar) -> timedelta:
    """The open time of the local days from `first` to the day before `end`: wall-clock weeks, corrected
    for holidays and the days whose UTC offset changes."""
    wall = calendar.wall_open_time
    days = (end - first).days
    if days <= 0:  # none (two days in a row): the irregular days "from first to end - 1" would run back
        return timedelta(0)
    total = days // 7 * calendar.open_per_week
    total += sum((wall[(first + timedelta(days=n)).isoweekday()] for n in range(days % 7)), timedelta(0))
    for ordinal in _irregular_days(first, end - ONE_DAY, calendar):
        day = date.fromordinal(ordinal)
        total += _open_time_of_day(day, calendar) - wall[day.isoweekday()]
    return total


def _walk_forward(
    day: date, start: datetime, remaining: timedelta, calendar: Calendar
) -> datetime | timedelta:
    """The instant `remaining` of open time after `start` if it ends on local `day`, else what is left."""
    for opens, closes in _open_periods(day, calendar):
        begin = max(opens, start)
        if closes <= begin:
            continue
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
    return remaining


def _walk_backward(
    day: date, start: datetime, remaining: timedelta, calendar: Calendar
) -> datetime | timedelta:
    """The instant `remaining` of open time before `start` if it ends on local `day`, else what is left."""
    for opens, closes in reversed(_open_periods(day, calendar)):
        end = min(closes, start)
        if end <= opens:
            continue
        if remaining <= end - opens:
            return end - remaining
        remaining -= end - opens
    return remaining


def add_business_time(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    """The instant `duration` of open time after `start` (before it, if negative), in UTC. Local days
    from `start`'s up to the horizon are counted: its own one by one, whole ones in weeks where they can
    be (`_skip_whole_days`), a day whose time of day reaches the end one opening at a time."""
    # In UTC: arithmetic on a zoned datetime is wall-clock arithmetic, wrong across DST.
    start = start.astimezone(UTC)
    if calendar.always_open:
        return start + duration
    if not any(calendar.weekly.values()):
        raise ValueError("a calendar that never opens has no business time")
    step, walk = (1, _walk_forward) if duration >= timedelta(0) else (-1, _walk_backward)
    remaining = abs(duration)
    first = start.astimezone(calendar.tz).date()
    bound = first + timedelta(days=step * HORIZON.days)  # the last day counted
    stop = bound.toordinal() + step
    irregular = _irregular_days(first, bound, calendar)
    day = first
    while (day - bound).days * step <= 0:
        if day != first:
            day, remaining = _skip_whole_days(day, remaining, step, stop, irregular, calendar)
            if day.toordinal() == stop:
                break
        reached = walk(day, start, remaining, calendar)
        if isinstance(reached, datetime):
            return reached
        remaining = reached
        day += timedelta(days=step)
    return start + step * HORIZON


def business_time_between(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    """Open time from `a` to `b` (negative when b is before a): the days at either end one opening at a
    time, the whole days between them in weeks (`_open_time_of_whole_days`)."""
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if b < a:
        return -business_time_between(b, a, calendar)
    if calendar.always_open:
        return b - a
    first, last = a.astimezone(calendar.tz).date(), b.astimezone(calendar.tz).date()
    total = timedelta(0)
    for day in {first, last}:
        for opens, closes in _open_periods(day, calendar):
            overlap = min(closes, b) - max(opens, a)
            if overlap > timedelta(0):
                total += overlap
    if last > first:
        total += _open_time_of_whole_days(first + timedelta(days=1), last, calendar)
    return total


def add_business_minutes(start: datetime, minutes: float, calendar: Calendar) -> datetime:
    return add_business_time(start, timedelta(minutes=minutes), calendar)


def business_minutes_between(a: datetime, b: datetime, calendar: Calendar) -> float:
    return business_time_between(a, b, calendar) / timedelta(minutes=1)
