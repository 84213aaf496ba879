"""Background jobs of the knowledge domain: splitting a written document into passages, and every few
minutes embedding the passages that were stored without a vector (the model was not available then)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db, jobs
from supportdesk.jobs import QUEUE, app
from supportdesk.knowledge.indexing import (
    BACKFILL_MAX_BATCHES,
    embed_missing,
    hide_passages,
    index_document,
)

__all__ = [
    "app",
    "backfill_embeddings",
    "document_written",
    "embed_missing_passages",
    "index_document_passages",
]


@app.task(name="index_document_passages", queue=QUEUE, retry=jobs.RETRY)
async def index_document_passages(organization_id: str, document_id: str) -> None:
    async with db.tenant_session(uuid.UUID(organization_id)) as session:
        await index_document(session, uuid.UUID(document_id))


async def backfill_embeddings(max_batches: int = BACKFILL_MAX_BATCHES) -> int:
    """Embed passages without a vector, a small batch per transaction, until none is left (or the model
    is still unavailable, or `max_batches` ran: the next run goes on); returns how many."""
    total = 0
    for _ in range(max_batches):
        # Every organization's passages: the backfill is one queue over all tenants, like the indexing.
        async with db.system_session() as session:
            done = await embed_missing(session)
        if not done:
            break
        total += done
    return total


@app.periodic(cron="*/5 * * * *", periodic_id="embed-missing-passages")
@app.task(name="embed_missing_passages", queue=QUEUE)
async def embed_missing_passages(timestamp: int) -> None:
    await backfill_embeddings()


async def document_written(
    session: AsyncSession, organization_id: uuid.UUID, document_id: uuid.UUID, is_public: bool
) -> None:
    """Called in the transaction that creates or changes a document: a private document's passages
    leave public searches now; its text, and a publication, reach them when the job has run."""
    if not is_public:
        await hide_passages(session, document_id)
    await jobs.defer(
        session, index_document_passages, organization_id=str(organization_id), document_id=str(document_id)
    )
