"""Keyset (cursor) pagination: a list never pays for the rows before the page it shows."""

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from supportdesk.errors import DomainError

T = TypeVar("T")

LIMIT_DEFAULT, LIMIT_MAX = 50, 100  # API.md: every list
CURSOR_MAX = 200
Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description=f"page size, at most {LIMIT_MAX}")]
Cursor = Annotated[str | None, Query(max_length=CURSOR_MAX, description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


def _invalid_cursor() -> DomainError:
    return DomainError("invalid_cursor", "cursor is not one this server issued")


def _encode(position: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as error:  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
        raise _invalid_cursor() from error


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return _encode([created_at.isoformat(), str(row_id)])


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; anything but a cursor this server issued is a 422."""
    invalid = _invalid_cursor()
    decoded = _decode(cursor)
    # Checked by shape rather than by catching whatever a forged value makes the parsers raise.
    if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(v, str) for v in decoded)):
        raise invalid
    try:
        created_at, row_id = datetime.fromisoformat(decoded[0]), uuid.UUID(decoded[1])
    except ValueError as error:
        raise invalid from error
    # Issued cursors carry a UTC offset; one without, or at the edges of the calendar, is forged.
    if created_at.utcoffset() is None or not 1 < created_at.year < 9999:
        raise invalid
    return created_at, row_id


def paginate(
    statement: Select[Any],
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool = True,
) -> Select[Any]:
    """Order by (created_at, id) and start after the cursor; fetches one extra row to know if more."""
    if cursor:
        key, after = tuple_(created_at, row_id), tuple_(*decode_cursor(cursor))
        statement = statement.where(key < after if newest_first else key > after)
    order = (created_at.desc(), row_id.desc()) if newest_first else (created_at.asc(), row_id.asc())
    return statement.order_by(*order).limit(limit + 1)


def page_of(rows: Sequence[Any], limit: int) -> tuple[list[Any], str | None]:
    """The rows of this page and the cursor of the next one (None on the last page)."""
    if len(rows) <= limit:
        return list(rows), None
    last = rows[limit - 1]
    return list(rows[:limit]), encode_cursor(last.created_at, last.id)


# A ranked list (a search) has no key to start after: its cursor is how many results came before.
def encode_offset(offset: int) -> str:
    return _encode([offset])


def decode_offset(cursor: str, most: int) -> int:
    """The offset an offset cursor names, 1 to `most`; anything else is a 422."""
    decoded = _decode(cursor)
    # bool is an int to Python; no issued cursor holds one
    if not (isinstance(decoded, list) and len(decoded) == 1 and type(decoded[0]) is int):
        raise _invalid_cursor()
    if not 1 <= decoded[0] <= most:
        raise _invalid_cursor()
    return decoded[0]
