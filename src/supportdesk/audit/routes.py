import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from supportdesk.audit import service
from supportdesk.audit.auth import AuditRead
from supportdesk.auth.deps import Session
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of
from supportdesk.schemas import QueryModel, ResponseModel, Timestamp

router = APIRouter(tags=["audit"])


class AuditFilters(QueryModel):
    """Query-string filters of GET /audit-logs."""

    entity_type: str | None = Field(default=None, max_length=50)
    entity_id: uuid.UUID | None = None


class AuditEntryOut(ResponseModel):
    id: uuid.UUID
    actor_id: uuid.UUID | None
    actor_customer_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: Timestamp


@router.get("/audit-logs", response_model=Page[AuditEntryOut])
async def list_audit_logs(
    actor: AuditRead,
    session: Session,
    filters: Annotated[AuditFilters, Query()],
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[AuditEntryOut]:
    rows = await service.list_entries(
        session,
        actor,
        entity_type=filters.entity_type,
        entity_id=filters.entity_id,
        cursor=cursor,
        limit=limit,
    )
    data, next_cursor = page_of(rows, limit)
    return Page(data=[AuditEntryOut.model_validate(row) for row in data], next_cursor=next_cursor)
