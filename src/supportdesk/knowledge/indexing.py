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


# An indexing run embeds without the document's lock, then locks it; when the text changed meanwhile it goes
# again with the new one, and on the last attempt embeds while holding the lock (a document edited without
# pause would otherwise never be indexed).
INDEX_ATTEMPTS = 3


async def _embeddings(
    session: AsyncSession,
    document_id: uuid.UUID,
    passages: list[Passage],
    known: dict[tuple[str, str], str | None],
) -> list[str | None]:
    """The passages' embeddings: those of unchanged passages reused from the rows in place (a re-run,
    or an edit of one section, embeds nothing or only what changed) and from `known` (what this run
    embedded already, added to), the rest computed in one batch in a thread, so that the worker's other
    jobs keep running meanwhile."""
    rows = await session.execute(
        text(
            "SELECT heading, content, embedding::text AS embedding FROM document_passages"
            " WHERE document_id = :id AND embedding IS NOT NULL"
        ),
        {"id": document_id},
    )
    known.update({(row.heading, row.content): row.embedding for row in rows})
    missing = [passage for passage in passages if (passage.heading, passage.content) not in known]
    computed = await asyncio.to_thread(vectors.embed_passages, [passage.text for passage in missing])
    known.update(
        ((passage.heading, passage.content), vector)
        for passage, vector in zip(missing, computed, strict=True)
    )
    return [known[(passage.heading, passage.content)] for passage in passages]


async def _document(session: AsyncSession, document_id: uuid.UUID, *, lock: bool) -> Document | None:
    query = select(Document).where(Document.id == document_id)
    return await session.scalar(
        query.with_for_update() if lock else query, execution_options={"populate_existing": True}
    )


async def index_document(session: AsyncSession, document_id: uuid.UUID) -> int:
    """Replace the document's passages (and their embeddings) by those of its current text; returns how
    many it has.

    Idempotent: running it again writes the same passages, with the same embeddings. The passages are
    embedded without the document's lock (seconds for a long document, which an admin's edit would
    wait for), then the row is locked and, when its text changed meanwhile, embedded again (only the
    passages that changed). The passages are written under the lock, from the text read under it: two
    runs for one document (two quick edits) take turns, the later one writing the later text, and a
    deletion cannot slip between reading the document and writing its passages.
    """
    known: dict[tuple[str, str], str | None] = {}
    for attempt in range(1, INDEX_ATTEMPTS + 1):
        document = await _document(session, document_id, lock=attempt == INDEX_ATTEMPTS)
        if document is None:
            break
        read = (document.title, document.content)  # the row object is refreshed by the locking read
        passages = split_passages(*read)
        embedded = await _embeddings(session, document_id, passages, known)
        locked = document if attempt == INDEX_ATTEMPTS else await _document(session, document_id, lock=True)
        if locked is None:
            break
        if (locked.title, locked.content) == read:
            return await _write_passages(session, locked, passages, embedded)
    # deleted since: the foreign key's cascade took its passages already
    await session.execute(delete(DocumentPassage).where(DocumentPassage.document_id == document_id))
    return 0


async def _write_passages(
    session: AsyncSession, document: Document, passages: list[Passage], embedded: list[str | None]
) -> int:
    """The locked document's passages in place of those it had."""
    await session.execute(delete(DocumentPassage).where(DocumentPassage.document_id == document.id))
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
