"""Writing a document's passages and their embeddings: what the indexing job does, and what a
document write changes at once (hiding them when the document is private), so that a private text is
never found by a public search, not even for the moment before the job runs."""

import asyncio
import uuid

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.documents.models import Document
from supportdesk.knowledge import vectors
from supportdesk.knowledge.models import DocumentPassage
from supportdesk.knowledge.passages import Passage, split_passages

_INSERT_PASSAGE = text(
    "INSERT INTO document_passages"
    " (id, organization_id, document_id, position, heading, content, is_public, document_version,"
    " embedding)"
    " VALUES (:id, :organization_id, :document_id, :position, :heading, :content, :is_public,"
    " :document_version, CAST(:embedding AS vector))"
)


async def _embeddings(
    session: AsyncSession, document_id: uuid.UUID, passages: list[Passage]
) -> list[str | None]:
    """The passages' embeddings: those of unchanged passages reused from the rows in place (a re-run,
    or an edit of one section, embeds nothing or only what changed), the rest computed in one batch
    in a thread, so that the worker's other jobs keep running meanwhile."""
    rows = await session.execute(
        text(
            "SELECT heading, content, embedding::text AS embedding FROM document_passages"
            " WHERE document_id = :id AND embedding IS NOT NULL"
        ),
        {"id": document_id},
    )
    known = {(row.heading, row.content): row.embedding for row in rows}
    missing = [passage for passage in passages if (passage.heading, passage.content) not in known]
    computed = await asyncio.to_thread(vectors.embed_passages, [passage.text for passage in missing])
    known.update(
        ((passage.heading, passage.content), vector)
        for passage, vector in zip(missing, computed, strict=True)
    )
    return [known[(passage.heading, passage.content)] for passage in passages]


async def index_document(session: AsyncSession, document_id: uuid.UUID) -> int:
    """Replace the document's passages (and their embeddings) by those of its current text; returns how
    many it has.

    Idempotent: running it again writes the same passages, with the same embeddings. The document's
    row is locked so that two runs for one document (two quick edits) take turns, the later one
    reading the later text, and a deletion cannot slip between reading the document and writing its
    passages.
    """
    document = await session.scalar(
        select(Document).where(Document.id == document_id).with_for_update(),
        execution_options={"populate_existing": True},
    )
    if document is None:  # deleted since: the foreign key's cascade took its passages already
        await session.execute(delete(DocumentPassage).where(DocumentPassage.document_id == document_id))
        return 0
    passages = split_passages(document.title, document.content)
    embedded = await _embeddings(session, document_id, passages)
    await session.execute(delete(DocumentPassage).where(DocumentPassage.document_id == document_id))
    await session.execute(
        _INSERT_PASSAGE,
        [
            {
                "id": uuid.uuid4(),
                "organization_id": document.organization_id,
                "document_id": document.id,
                "position": passage.position,
                "heading": passage.heading,
                "content": passage.content,
                "is_public": bool(document.is_public),
                "document_version": document.updated_at,
                "embedding": embedding,
            }
            for passage, embedding in zip(passages, embedded, strict=True)
        ],
    )
    return len(passages)


async def hide_passages(session: AsyncSession, document_id: uuid.UUID) -> None:
    """The document's passages made private in the caller's transaction. Never the other way: the
    passages in place may hold a text that was private (the write that publishes a document may change
    it too, or an earlier one may have while the job had not run), so only `index_document`, writing
    the current text, makes passages public."""
    await session.execute(
        update(DocumentPassage)
        .where(DocumentPassage.document_id == document_id, DocumentPassage.is_public)
        .values(is_public=False)
    )


# The backfill embeds at most this many passages per transaction (one model batch or two: the rows stay
# locked only that long), and at most BACKFILL_MAX_BATCHES batches per run.
BACKFILL_BATCH = 64
BACKFILL_MAX_BATCHES = 20


async def embed_missing(session: AsyncSession, batch: int = BACKFILL_BATCH) -> int:
    """Embed up to `batch` passages stored without a vector (written while the model was not
    available); returns how many were embedded, 0 when there are none or there is still no model.

    Idempotent and safe beside the indexing job and other backfills: the rows are taken with SKIP
    LOCKED, and a row is only written while it still has no embedding. Passages are never changed in
    place (a re-index deletes and inserts), so the text read is the text embedded. Reads the passages
    the session can see: every organization's in a system session.
    """
    rows = (
        await session.execute(
            text(
                "SELECT id, position, heading, content FROM document_passages WHERE embedding IS NULL"
                " ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED"
            ),
            {"batch": batch},
        )
    ).all()
    if not rows:
        return 0
    texts = [Passage(row.position, row.heading, row.content).text for row in rows]
    computed = await asyncio.to_thread(vectors.embed_passages, texts)
    embedded = [
        {"id": row.id, "embedding": vector} for row, vector in zip(rows, computed, strict=True) if vector
    ]
    if embedded:
        await session.execute(
            text(
                "UPDATE document_passages SET embedding = CAST(:embedding AS vector)"
                " WHERE id = :id AND embedding IS NULL"
            ),
            embedded,
        )
    return len(embedded)
