from typing import Annotated

from fastapi import APIRouter, Query

from supportdesk.audit import service
from supportdesk.audit.auth import AuditRead
from supportdesk.audit.schemas import AuditEntryOut, AuditFilters
from supportdesk.auth.deps import Session
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of

router = APIRouter(tags=["audit"])


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
