"""The audit log's query filters and response body."""

import uuid
from typing import Any

from pydantic import Field

from supportdesk.schemas import QueryModel, ResponseModel, Timestamp


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
