"""Writing a document's passages: what the indexing job does, and what a document write changes at
once (its visibility), so that a private document is never found by a public search, not even for
the moment before the job runs."""

import uuid

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.documents.models import Document
from supportdesk.knowledge.models import DocumentPassage
from supportdesk.knowledge.passages import split_passages


async def index_document(session: AsyncSession, document_id: uuid.UUID) -> int:
    """Replace the document's passages by those of its current text; returns how many it has.

    Idempotent: running it again writes the same passages. The document's row is locked so that
    two runs for one document (two quick edits) take turns, the later one reading the later text,
    and a deletion cannot slip between reading the document and writing its passages.
    """
    document = await session.scalar(
        select(Document).where(Document.id == document_id).with_for_update(),
        execution_options={"populate_existing": True},
    )
    await session.execute(delete(DocumentPassage).where(DocumentPassage.document_id == document_id))
    if document is None:  # deleted since: the foreign key's cascade took its passages already
        return 0
    passages = split_passages(document.title, document.content)
    await session.execute(
        insert(DocumentPassage),
        [
            {
                "id": uuid.uuid4(),
                "organization_id": document.organization_id,
                "document_id": document.id,
                "position": passage.position,
                "heading": passage.heading,
                "content": passage.content,
                "is_public": bool(document.is_public),
            }
            for passage in passages
        ],
    )
    return len(passages)


async def set_passages_visibility(session: AsyncSession, document_id: uuid.UUID, is_public: bool) -> None:
    """The document's visibility, copied to its passages in the caller's transaction."""
    await session.execute(
        update(DocumentPassage)
        .where(DocumentPassage.document_id == document_id, DocumentPassage.is_public != is_public)
        .values(is_public=is_public)
    )
