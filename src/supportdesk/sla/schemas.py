from datetime import UTC, date, datetime
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from supportdesk.schemas import IsoDate, RequestModel, ResponseModel, Timestamp
from supportdesk.sla.business_hours import (
    MAX_HOLIDAYS,
    MAX_INTERVALS_PER_DAY,
    calendar_from,
    fits_the_longest_sla,
    named_time_zone,
)

Interval = tuple[str, str]
DayHours = Annotated[list[Interval], Field(max_length=MAX_INTERVALS_PER_DAY)]


class BusinessHoursIn(RequestModel):
    timezone: str = Field(min_length=1, max_length=64)
    # ISO weekday ("1" = Monday … "7" = Sunday) -> [["09:00", "17:00"], …]; a missing day is closed.
    weekly_hours: dict[str, DayHours] = Field(max_length=7)
    holidays: list[IsoDate] = Field(default_factory=list, max_length=MAX_HOLIDAYS)

    @model_validator(mode="after")
    def _valid_calendar(self) -> Self:
        named_time_zone(self.timezone)
        calendar = calendar_from(self.timezone, self.as_stored()["weekly_hours"], self.holidays)
        if not fits_the_longest_sla(calendar, datetime.now(UTC)):
            raise ValueError(
                "the calendar is open too little: a year's SLA must end within a hundred years"
                " (about 2 hours a week, holidays counted)"
            )
        return self

    def as_stored(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "weekly_hours": {
                day: [list(interval) for interval in sorted(intervals)]
                for day, intervals in sorted(self.weekly_hours.items())
            },
            "holidays": sorted(set(self.holidays)),
        }


class BusinessHoursOut(ResponseModel):
    timezone: str
    weekly_hours: dict[str, list[Interval]]
    holidays: list[date]
    updated_at: Timestamp | None


class SlaBreachOut(ResponseModel):
    kind: str
    due_at: Timestamp
    occurred_at: Timestamp
