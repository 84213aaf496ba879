"""Business time: weekly hours in a time zone, holidays, DST, and the calendar an admin sets."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.sla.business_hours import (
    MAX_INTERVALS_PER_DAY,
    add_business_minutes,
    business_minutes_between,
    calendar_from,
)
from tests.factories import add_user, sign_up

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(1, 6)}
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(1, 8)}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_open_time_skips_the_weekend():
    calendar = calendar_from("Europe/Paris", WEEKDAYS_9_TO_5, [])
    friday_4pm = paris(2026, 12, 4, 16, 0)
    due = add_business_minutes(friday_4pm, 120, calendar)
    assert due == paris(2026, 12, 7, 10, 0)  # Monday 10:00
    assert business_minutes_between(friday_4pm, due, calendar) == 120


def test_open_time_skips_a_holiday_and_the_weekend_after_it():
    calendar = calendar_from("Europe/Paris", WEEKDAYS_9_TO_5, [date(2026, 12, 25)])
    thursday_4pm = paris(2026, 12, 24, 16, 0)
    assert add_business_minutes(thursday_4pm, 120, calendar) == paris(2026, 12, 28, 10, 0)


def test_several_intervals_a_day_leave_the_lunch_break_out():
    calendar = calendar_from("Europe/Paris", {"1": [["13:00", "17:00"], ["09:00", "12:00"]]}, [])
    monday_11am = paris(2026, 12, 7, 11, 0)
    assert add_business_minutes(monday_11am, 90, calendar) == paris(2026, 12, 7, 13, 30)
    # Monday 16:00 + 2 h: one hour today, the next opens a week later.
    assert add_business_minutes(paris(2026, 12, 7, 16, 0), 120, calendar) == paris(2026, 12, 14, 10, 0)


def test_starting_while_closed_counts_from_the_next_opening():
    calendar = calendar_from("Europe/Paris", WEEKDAYS_9_TO_5, [])
    saturday = paris(2026, 12, 5, 11, 0)
    assert add_business_minutes(saturday, 30, calendar) == paris(2026, 12, 7, 9, 30)
    assert business_minutes_between(saturday, paris(2026, 12, 7, 9, 0), calendar) == 0


def test_a_day_that_loses_an_hour_to_dst_counts_23_hours():
    # Europe/Paris springs forward on Sunday 29 March 2026, 02:00 -> 03:00.
    calendar = calendar_from("Europe/Paris", ALL_DAY, [])
    saturday_noon, sunday_noon = paris(2026, 3, 28, 12, 0), paris(2026, 3, 29, 12, 0)
    assert business_minutes_between(saturday_noon, sunday_noon, calendar) == 23 * 60
    assert add_business_minutes(saturday_noon, 24 * 60, calendar) == paris(2026, 3, 29, 13, 0)


def test_an_interval_across_the_dst_gap_is_as_long_as_it_really_is():
    calendar = calendar_from("Europe/Paris", {"7": [["01:00", "04:00"]]}, [])
    assert business_minutes_between(paris(2026, 3, 29, 0, 0), paris(2026, 3, 29, 5, 0), calendar) == 120
    # Autumn: 02:00-03:00 happens twice, so the same wall hours hold four real hours.
    assert business_minutes_between(paris(2026, 10, 25, 0, 0), paris(2026, 10, 25, 5, 0), calendar) == 240


def test_business_hours_are_read_in_the_calendars_time_zone():
    calendar = calendar_from("America/New_York", WEEKDAYS_9_TO_5, [])
    # Monday 14:00 UTC is 09:00 in New York (EST, UTC-5).
    start = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert add_business_minutes(start, 60, calendar) == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_going_back_in_business_time_is_the_inverse_of_going_forward():
    calendar = calendar_from("Europe/Paris", WEEKDAYS_9_TO_5, [date(2026, 12, 25)])
    start = paris(2026, 12, 23, 15, 17)
    for minutes in (1, 100, 480, 2_000, 20_000):
        due = add_business_minutes(start, minutes, calendar)
        assert add_business_minutes(due, -minutes, calendar) == start
        assert business_minutes_between(start, due, calendar) == minutes


@pytest.mark.parametrize(
    ("weekly_hours", "timezone", "message"),
    [
        ({"1": []}, "UTC", "open at least once"),
        ({}, "UTC", "open at least once"),
        ({"1": [["10:00", "09:00"]]}, "UTC", "start before"),
        ({"1": [["09:00", "09:00"]]}, "UTC", "start before"),
        ({"1": [["09:00", "12:00"], ["11:00", "13:00"]]}, "UTC", "overlap"),
        ({"1": [["9:00", "12:00"]]}, "UTC", "HH:MM"),
        ({"1": [["\u0660\u0669:00", "12:00"]]}, "UTC", "HH:MM"),  # Arabic-Indic digits
        ({"1": [["09:00", "24:01"]]}, "UTC", "time of day"),
        ({"1": [["09:60", "10:00"]]}, "UTC", "time of day"),
        ({"8": [["09:00", "10:00"]]}, "UTC", "weekday"),
        (WEEKDAYS_9_TO_5, "Mars/Olympus_Mons", "unknown time zone"),
    ],
)
def test_a_calendar_that_makes_no_sense_is_refused(weekly_hours, timezone, message):
    with pytest.raises(ValueError, match=message):
        calendar_from(timezone, weekly_hours, [])


async def test_without_business_hours_an_organization_is_open_around_the_clock(client):
    org = await sign_up(client)
    _, analyst = await add_user(client, org, "analyst")
    response = await client.get("/business-hours", headers=analyst)
    assert response.status_code == 200, response.text
    assert response.json() == {"timezone": "UTC", "weekly_hours": ALL_DAY, "holidays": [], "updated_at": None}


async def test_an_admin_sets_business_hours_and_the_change_is_audited(client):
    org = await sign_up(client)
    body = {
        "timezone": "Europe/Paris",
        "weekly_hours": {"1": [["13:00", "17:00"], ["09:00", "12:00"]], "2": [["09:00", "17:00"]]},
        "holidays": ["2026-12-25", "2026-01-01"],
    }
    response = await client.put("/business-hours", headers=org.headers, json=body)
    assert response.status_code == 200, response.text
    saved = (await client.get("/business-hours", headers=org.headers)).json()
    assert saved["timezone"] == "Europe/Paris"
    assert saved["weekly_hours"]["1"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert saved["holidays"] == ["2026-01-01", "2026-12-25"]
    assert saved["updated_at"] is not None

    again = await client.put("/business-hours", headers=org.headers, json=body)  # the same: no change
    assert again.status_code == 200, again.text

    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_type": "business_hours"})
    (entry,) = audit.json()["data"]
    assert entry["action"] == "business_hours.updated"
    assert entry["before"]["timezone"] == "UTC" and entry["after"]["timezone"] == "Europe/Paris"
    assert "updated_at" not in entry["after"]


async def test_only_admins_set_business_hours(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org)
    response = await client.put(
        "/business-hours", headers=agent, json={"timezone": "UTC", "weekly_hours": WEEKDAYS_9_TO_5}
    )
    assert response.status_code == 403


def half_hours(count: int) -> list[list[str]]:
    """`count` openings of half an hour, one an hour from midnight."""
    return [[f"{hour:02d}:00", f"{hour:02d}:30"] for hour in range(count)]


async def test_more_openings_a_day_than_the_limit_are_refused_and_nothing_is_written(client):
    org = await sign_up(client)
    shifts = {"timezone": "UTC", "weekly_hours": {**WEEKDAYS_9_TO_5, "1": half_hours(MAX_INTERVALS_PER_DAY)}}
    accepted = await client.put("/business-hours", headers=org.headers, json=shifts)
    assert accepted.status_code == 200, accepted.text

    too_many = {"timezone": "Europe/Paris", "weekly_hours": {"2": half_hours(MAX_INTERVALS_PER_DAY + 1)}}
    response = await client.put("/business-hours", headers=org.headers, json=too_many)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["detail"].startswith("body.weekly_hours.2: ")
    assert f"at most {MAX_INTERVALS_PER_DAY} items" in problem["detail"]
    saved = (await client.get("/business-hours", headers=org.headers)).json()
    assert saved["timezone"] == "UTC" and saved["weekly_hours"]["1"] == half_hours(MAX_INTERVALS_PER_DAY)
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_type": "business_hours"})
    assert len(audit.json()["data"]) == 1  # the accepted calendar's


NEXT_MONDAYS = [
    (date.today() + timedelta(days=7 - date.today().weekday() + 7 * week)).isoformat() for week in range(1000)
]


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Nowhere/Else", "weekly_hours": WEEKDAYS_9_TO_5},
        # files ZoneInfo reads that are no place: the server's own zone, a placeholder, leap seconds
        {"timezone": "localtime", "weekly_hours": WEEKDAYS_9_TO_5},
        {"timezone": "Factory", "weekly_hours": WEEKDAYS_9_TO_5},
        {"timezone": "posixrules", "weekly_hours": WEEKDAYS_9_TO_5},
        {"timezone": "right/UTC", "weekly_hours": WEEKDAYS_9_TO_5},
        {"timezone": "UTC", "weekly_hours": {"1": [["17:00", "09:00"]]}},
        {"timezone": "UTC", "weekly_hours": {"1": [["09:00", "12:00"], ["10:00", "11:00"]]}},
        {"timezone": "UTC", "weekly_hours": {"1": [["nine", "five"]]}},
        {"timezone": "UTC", "weekly_hours": {"1": [["09:00"]]}},
        {"timezone": "UTC", "weekly_hours": {str(day): [] for day in range(1, 8)}},
        # open an hour a week, or two closed on the next 1,000 Mondays: a year's SLA would not end within
        # the horizon
        {"timezone": "UTC", "weekly_hours": {"1": [["09:00", "10:00"]]}},
        {"timezone": "UTC", "weekly_hours": {"1": [["09:00", "11:00"]]}, "holidays": NEXT_MONDAYS},
        {"timezone": "UTC", "weekly_hours": WEEKDAYS_9_TO_5, "holidays": ["not a date"]},
        {"timezone": "UTC", "weekly_hours": WEEKDAYS_9_TO_5, "holidays": [0]},  # not the 1st of January 1970
    ],
)
async def test_bad_business_hours_are_a_422(client, body):
    org = await sign_up(client)
    response = await client.put("/business-hours", headers=org.headers, json=body)
    assert response.status_code == 422, response.text
    assert (await client.get("/business-hours", headers=org.headers)).json()["timezone"] == "UTC"


def test_a_year_long_sla_on_a_sparse_calendar_ends():
    calendar = calendar_from("UTC", {"3": [["10:00", "10:30"]]}, [])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    due = add_business_minutes(start, 525_600, calendar)
    assert due > start + timedelta(days=365 * 300) or due == start + timedelta(days=366 * 100)
