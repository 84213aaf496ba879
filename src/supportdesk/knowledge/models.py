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
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', heading), 'A')"
            " || setweight(to_tsvector('english', content), 'B')",
            persisted=True,
        ),
    )
    created_at: Mapped[datetime]
