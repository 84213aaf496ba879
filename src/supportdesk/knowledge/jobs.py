"""Background jobs of the knowledge domain: splitting a written document into passages."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db, jobs
from supportdesk.jobs import QUEUE, app
from supportdesk.knowledge.indexing import index_document, set_passages_visibility

__all__ = ["app", "document_written", "index_document_passages"]


@app.task(name="index_document_passages", queue=QUEUE, retry=jobs.RETRY)
async def index_document_passages(organization_id: str, document_id: str) -> None:
    async with db.tenant_session(uuid.UUID(organization_id)) as session:
        await index_document(session, uuid.UUID(document_id))


async def document_written(
    session: AsyncSession, organization_id: uuid.UUID, document_id: uuid.UUID, is_public: bool
) -> None:
    """Called in the transaction that creates or changes a document: its visibility reaches its
    passages now, its text when the job has run."""
    await set_passages_visibility(session, document_id, is_public)
    await jobs.defer(
        session, index_document_passages, organization_id=str(organization_id), document_id=str(document_id)
    )
