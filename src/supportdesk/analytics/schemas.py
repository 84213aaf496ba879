import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from supportdesk.schemas import QueryModel, ResponseModel, Timestamp

DEFAULT_WINDOW = timedelta(days=30)
# A longer window would read more history than a report needs, and the retention period is 2 years.
MAX_WINDOW = timedelta(days=2 * 366)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class SummaryWindow(QueryModel):
    """`from` inclusive, `to` exclusive. A date alone, or a timestamp without an offset, is read as
    UTC. Without `to` the window ends now; without `from` it starts 30 days before `to`."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _iso_8601_only(cls, value: Any) -> Any:
        # pydantic would read "1700000000" or "0.5" as seconds since 1970: not what a reader of the URL
        # expects.
        if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
            raise ValueError("must be an ISO 8601 date or timestamp")
        return value

    @field_validator("from_", "to")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range") from None

    @model_validator(mode="after")
    def _a_window(self) -> "SummaryWindow":
        try:
            self.to = self.to or datetime.now(UTC)
            self.from_ = self.from_ or self.to - DEFAULT_WINDOW
        except OverflowError:
            raise ValueError("to: too early to start a 30-day window before it") from None
        if self.from_ >= self.to:
            raise ValueError("from must be before to")
        if self.to - self.from_ > MAX_WINDOW:
            raise ValueError("the window may be at most 2 years long")
        return self

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        assert self.from_ is not None and self.to is not None  # set by _a_window
        return self.from_, self.to


class CategorySummaryOut(ResponseModel):
    category_id: uuid.UUID | None
    name: str | None
    tickets_created: int
    tickets_resolved: int


class AgentSummaryOut(ResponseModel):
    agent_id: uuid.UUID
    name: str
    tickets_assigned: int
    tickets_resolved: int
    median_first_response_minutes: float | None
    open_tickets: int


class AutoAnswersSummaryOut(ResponseModel):
    answered: int
    followed_up: int
    suggested: int


class SummaryOut(ResponseModel):
    from_: Timestamp = Field(serialization_alias="from")
    to: Timestamp
    tickets_created: int
    tickets_resolved: int
    median_first_response_minutes: float | None
    median_resolution_minutes: float | None
    response_sla_compliance: float | None
    resolution_sla_compliance: float | None
    auto_resolved: int
    auto_answers: AutoAnswersSummaryOut
    by_category: list[CategorySummaryOut]
    by_agent: list[AgentSummaryOut]
