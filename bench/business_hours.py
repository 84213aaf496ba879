"""Business-time arithmetic on the worst calendars an organization may set, against an everyday one.

Every ticket creation, status change and category change of a category on business hours runs this
arithmetic in the server's event loop, so its worst case is a stall of every organization's requests.
For each calendar it times, in process (no server, no database), with the longest SLA a category may
have (MAX_SLA_MINUTES, a year of minutes) from the same `now`:

  put        validating a `PUT /business-hours` body (BusinessHoursIn: the calendar must let the longest
             SLA end within the horizon), or refusing it;
  create     a ticket's two deadlines (`clock.deadlines`);
  time left  the business time from `now` to that deadline (a category change, a resolution);
  back       the deadline moved back by the SLA (an overdue clock's category change).

The baseline, in the same run, is the everyday calendar (Monday to Friday 09:00-17:00, New York): each
operation prints its best time of --repeat runs and its ratio to the baseline's same operation (the
first run of a time zone in a process also reads its changes of UTC offset, ~4 ms, cached after). The
calendars: the most intervals a day allowed (MAX_INTERVALS_PER_DAY, every day), as little open time as
the horizon allows, with and without 1,000 holidays; and the outside tester's 720 one-minute openings a
day, refused at `put` since the limit, built here directly as one stored before it would read.

    .venv/bin/python bench/business_hours.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from supportdesk.sla.business_hours import (
    MAX_INTERVALS_PER_DAY,
    MAX_SLA_MINUTES,
    Calendar,
    add_business_time,
    business_time_between,
    calendar_from,
)
from supportdesk.sla.clock import deadlines
from supportdesk.sla.schemas import BusinessHoursIn

TIMEZONE = "America/New_York"
SLA = timedelta(minutes=MAX_SLA_MINUTES)
PER_DAY = MAX_INTERVALS_PER_DAY


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def sparse_day(minutes_open: int) -> list[list[str]]:
    """PER_DAY short openings spread over the day, `minutes_open` in all (one or more minutes each)."""
    lengths = [minutes_open // PER_DAY + (i < minutes_open % PER_DAY) for i in range(PER_DAY)]
    step = 24 * 60 // PER_DAY
    return [[clock(i * step + 5), clock(i * step + 5 + length)] for i, length in enumerate(lengths)]


def calendars(today: date) -> dict[str, dict[str, Any]]:
    every_other_day = [(today + timedelta(days=2 * n)).isoformat() for n in range(1000)]
    return {
        "everyday: Mon-Fri 09:00-17:00 (baseline)": {
            "weekly_hours": {str(day): [["09:00", "17:00"]] for day in range(1, 6)},
        },
        f"{PER_DAY} a day, 15 min a day": {
            "weekly_hours": {str(day): sparse_day(15) for day in range(1, 8)},
        },
        f"{PER_DAY} a day, 1,000 holidays": {
            "weekly_hours": {str(day): sparse_day(16) for day in range(1, 8)},
            "holidays": every_other_day,
        },
        "720 one-minute a day (over the limit)": {
            "weekly_hours": {
                str(day): [[clock(m), clock(m + 1)] for m in range(0, 24 * 60, 2)] for day in range(1, 8)
            },
        },
    }


def timed(operation: Callable[[], object], repeat: int) -> float:
    """The best of `repeat` runs, in ms: on a shared machine the others measure the neighbours."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        operation()
        runs.append(time.perf_counter() - started)
    return min(runs) * 1000


def put(body: dict[str, Any]) -> str:
    try:
        BusinessHoursIn.model_validate(body)
    except ValidationError:
        return "refused"
    return "accepted"


def measure(body: dict[str, Any], now: datetime, repeat: int) -> tuple[str, dict[str, float]]:
    calendar: Calendar = calendar_from(
        TIMEZONE, body["weekly_hours"], [date.fromisoformat(day) for day in body.get("holidays", [])]
    )
    due, _ = deadlines(now, MAX_SLA_MINUTES, MAX_SLA_MINUTES, calendar)
    verdict = put(body)
    return verdict, {
        "put": timed(lambda: put(body), repeat),
        "create": timed(lambda: deadlines(now, MAX_SLA_MINUTES, MAX_SLA_MINUTES, calendar), repeat),
        "time left": timed(lambda: business_time_between(now, due, calendar), repeat),
        "back": timed(lambda: add_business_time(due, -SLA, calendar), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7, help="runs of each operation (the best counts)")
    args = parser.parse_args()
    now = datetime.now(UTC)
    results = {
        name: measure({"timezone": TIMEZONE, **body}, now, args.repeat)
        for name, body in calendars(now.date()).items()
    }
    baseline = next(iter(results.values()))[1]
    operations = list(baseline)
    print(f"best of {args.repeat} runs, ms (ratio to the baseline); SLA {MAX_SLA_MINUTES:,} minutes")
    print(f"{'calendar':42} {'verdict':>9} " + " ".join(f"{op:>20}" for op in operations))
    for name, (verdict, times) in results.items():
        cells = " ".join(f"{times[op]:9.2f} ({times[op] / baseline[op]:7.1f}×)" for op in operations)
        print(f"{name:42} {verdict:>9} {cells}")


if __name__ == "__main__":
    main()
