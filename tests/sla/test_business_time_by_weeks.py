"""Counting business time by whole weeks gives what counting each opening of each day gives.

`add_business_time` and `business_time_between` skip whole weeks (and days) of a calendar at a time,
count a day one opening at a time only where its UTC offset changes or the end falls, and correct the
weeks for holidays. The straightforward count below, the one the code had before, walks every opening
of every day; both must give the same instants and durations, to the microsecond, on random calendars
in zones with daylight saving time (changes at 02:00 or at midnight, of 30 minutes, two a week apart).
"""

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from supportdesk.sla.business_hours import (
    HORIZON,
    MAX_INTERVALS_PER_DAY,
    MAX_SLA_MINUTES,
    Calendar,
    _open_periods,
    add_business_time,
    business_time_between,
    calendar_from,
)

ZONES = [
    "UTC",
    "Asia/Kolkata",
    "Europe/Paris",
    "America/New_York",
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
    "Australia/Lord_Howe",  # half-hour daylight saving time
    "Asia/Gaza",  # changes a week apart in some coming years
    "Africa/Casablanca",  # an hour less during Ramadan
    "Pacific/Apia",  # skipped a whole day in 2011
]


def straightforward_add(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    start = start.astimezone(UTC)
    remaining, step = abs(duration), 1 if duration >= timedelta(0) else -1
    day = start.astimezone(calendar.tz).date()
    for _ in range(HORIZON.days + 1):
        periods = _open_periods(day, calendar)
        for opens, closes in periods if step > 0 else reversed(periods):
            begin, end = (max(opens, start), closes) if step > 0 else (opens, min(closes, start))
            if end <= begin:
                continue
            if remaining <= end - begin:
                return begin + remaining if step > 0 else end - remaining
            remaining -= end - begin
        day += timedelta(days=step)
    return start + step * HORIZON


def straightforward_between(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if b < a:
        return -straightforward_between(b, a, calendar)
    total = timedelta(0)
    day, last = a.astimezone(calendar.tz).date(), b.astimezone(calendar.tz).date()
    while day <= last:
        for opens, closes in _open_periods(day, calendar):
            total += max(min(closes, b) - max(opens, a), timedelta(0))
        day += timedelta(days=1)
    return total


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def random_calendar(rng: random.Random) -> Calendar:
    weekly_hours = {}
    for day in range(1, 8):
        count = rng.choice([0, 1, 1, 2, 3, MAX_INTERVALS_PER_DAY])
        edges = sorted(rng.sample(range(24 * 60 + 1), 2 * count))  # "24:00" included
        weekly_hours[str(day)] = [[clock(edges[i]), clock(edges[i + 1])] for i in range(0, 2 * count, 2)]
    if not any(weekly_hours.values()):
        weekly_hours["3"] = [["10:00", "10:30"]]
    around = date(2026, 1, 1) + timedelta(days=rng.randrange(-1000, 1000))
    holidays = [around + timedelta(days=rng.randrange(-700, 700)) for _ in range(rng.choice([0, 3, 200]))]
    return calendar_from(rng.choice(ZONES), weekly_hours, holidays)


@pytest.mark.parametrize("seed", range(8))
def test_counting_by_weeks_is_counting_every_opening(seed):
    rng = random.Random(seed)
    for _ in range(12):
        calendar = random_calendar(rng)
        week = sum((end - start for day in calendar.weekly.values() for start, end in day))
        for _ in range(3):
            start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(-(10**8), 10**8))
            minutes = rng.choice([0, 1, 59, week, rng.randrange(1, 40 * week + 2)])
            duration = timedelta(minutes=minutes, microseconds=rng.choice([0, rng.randrange(10**6)]))
            for signed in (duration, -duration):
                expected = straightforward_add(start, signed, calendar)
                assert add_business_time(start, signed, calendar) == expected, (calendar, start, signed)
                assert business_time_between(start, expected, calendar) == straightforward_between(
                    start, expected, calendar
                )
            other = start + timedelta(seconds=rng.randrange(-(10**7), 10**8))
            assert business_time_between(start, other, calendar) == straightforward_between(
                start, other, calendar
            )


@pytest.mark.parametrize("seed", range(4))
def test_a_count_over_two_days_in_a_row_beside_a_holiday_is_counting_every_opening(seed):
    """From a holiday to the next morning counted the holiday's missing day backwards: a day less
    (a deadline recounted in new business hours went a day into the past, breached)."""
    rng = random.Random(seed)
    for _ in range(12):
        calendar = random_calendar(rng)
        if not calendar.holidays:
            continue
        holiday = rng.choice(sorted(calendar.holidays))
        for first, last in ((holiday, holiday + timedelta(days=1)), (holiday - timedelta(days=1), holiday)):
            a = datetime.combine(first, time(rng.randrange(24), rng.randrange(60)), tzinfo=calendar.tz)
            b = datetime.combine(last, time(rng.randrange(24), rng.randrange(60)), tzinfo=calendar.tz)
            for start, end in ((a, b), (b, a)):
                expected = straightforward_between(start, end, calendar)
                assert business_time_between(start, end, calendar) == expected, (calendar, start, end)


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Gaza", "America/Santiago"])
def test_a_year_long_sla_on_the_sparsest_calendars_ends_where_it_did(timezone):
    sparse = calendar_from(timezone, {"3": [["10:00", "10:30"]]}, [])  # past the horizon
    mondays = [date(2026, 1, 5) + timedelta(weeks=week) for week in range(1000)]
    closed_a_thousand_mondays = calendar_from(timezone, {"1": [["09:00", "11:00"]]}, mondays)
    start, sla = datetime(2026, 1, 1, 7, 13, tzinfo=UTC), timedelta(minutes=MAX_SLA_MINUTES)
    for calendar in (sparse, closed_a_thousand_mondays):
        for duration in (sla, -sla):
            due = add_business_time(start, duration, calendar)
            assert due == straightforward_add(start, duration, calendar)
            assert business_time_between(start, due, calendar) == straightforward_between(
                start, due, calendar
            )


def test_a_calendar_stored_before_the_interval_limit_still_counts():
    every_other_minute = [[clock(minute), clock(minute + 1)] for minute in range(0, 24 * 60, 2)]
    calendar = calendar_from("America/New_York", {str(day): every_other_minute for day in range(1, 8)}, [])
    start = datetime(2026, 3, 6, 15, 0, 30, tzinfo=UTC)  # the weekend clocks spring forward
    for minutes in (1, 720 * 3 + 7, 720 * 7 * 5 + 3):
        due = add_business_time(start, timedelta(minutes=minutes), calendar)
        assert due == straightforward_add(start, timedelta(minutes=minutes), calendar)
        assert business_time_between(start, due, calendar) == timedelta(minutes=minutes)
