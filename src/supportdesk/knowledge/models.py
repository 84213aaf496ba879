import uuid
from datetime import datetime

from sqlalchemy import Computed, ForeignKey
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from supportdesk.db import Base


class DocumentPassage(Base):
    """A passage of a document (see passages.py). The database generates search_vector from the
    heading (weight A) and the content (B). embedding (vector(384), NULL until a model fills it) is
    left unmapped until the code that writes it arrives."""

    __tablename__ = "document_passages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    position: Mapped[int]
    heading: Mapped[str]
    content: Mapped[str]
    is_public: Mapped[bool]
    # The document's updated_at when the passage was split from it: a passage of an older version may
    # hold a sentence the document no longer has (search shows it until the job runs; answers never).
    document_version: Mapped[datetime]
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', heading), 'A')"
            " || setweight(to_tsvector('english', content), 'B')",
            persisted=True,
        ),
    )
    created_at: Mapped[datetime]
