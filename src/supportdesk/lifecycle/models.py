import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.db import Base


class ArchivedRecord(Base):
    __tablename__ = "archived_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(30))  # "deleted" (a person) or "retention"
    # [{"table": name, "rows": [row as JSON, …]}, …], parent first: the order a restore inserts them.
    contents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    archived_at: Mapped[datetime]
