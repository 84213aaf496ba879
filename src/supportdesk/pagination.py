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

Limit = Annotated[int, Query(ge=1, le=100, description="page size, at most 100")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; anything but a cursor this server issued is a 422."""
    invalid = DomainError("invalid_cursor", "cursor is not one this server issued")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as error:  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
        raise invalid from error
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
