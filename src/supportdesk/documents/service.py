import uuid
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.ai.jobs import defer_answer_model
from supportdesk.audit.service import record, record_update, snapshot
from supportdesk.auth.actor import Actor
from supportdesk.categories.models import Category
from supportdesk.db import organization_row
from supportdesk.documents.models import Document, DocumentCategory
from supportdesk.documents.schemas import DocumentIn, DocumentOut, DocumentPatch
from supportdesk.errors import DomainError
from supportdesk.knowledge.jobs import document_written
from supportdesk.lifecycle.archive import archive
from supportdesk.pagination import paginate
from supportdesk.tickets.bulk import change_tickets
from supportdesk.tickets.models import Ticket


async def _category_ids(
    session: AsyncSession, document_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(
        select(DocumentCategory.document_id, DocumentCategory.category_id)
        .where(DocumentCategory.document_id.in_(document_ids))
        .order_by(DocumentCategory.category_id)
    )
    linked: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for document_id, category_id in rows:
        linked[document_id].append(category_id)
    return linked


async def documents_out(session: AsyncSession, documents: list[Document]) -> list[DocumentOut]:
    linked = await _category_ids(session, [document.id for document in documents])
    return [
        DocumentOut.model_validate({**_columns(document), "category_ids": linked.get(document.id, [])})
        for document in documents
    ]


def _columns(document: Document) -> dict[str, object]:
    return {name: getattr(document, name) for name in DocumentOut.model_fields if name != "category_ids"}


async def get_document(
    session: AsyncSession, actor: Actor, document_id: uuid.UUID, *, lock: bool = False
) -> Document:
    return await organization_row(
        session, Document, document_id, actor.organization_id, "document", lock=lock
    )


async def list_documents(
    session: AsyncSession,
    actor: Actor,
    *,
    is_public: bool | None,
    category_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> list[Document]:
    statement = select(Document).where(Document.organization_id == actor.organization_id)
    if is_public is not None:
        statement = statement.where(Document.is_public == is_public)
    if category_id is not None:
        statement = statement.where(
            Document.id.in_(
                select(DocumentCategory.document_id).where(DocumentCategory.category_id == category_id)
            )
        )
    statement = paginate(statement, Document.created_at, Document.id, cursor, limit)
    return list((await session.scalars(statement)).all())


async def _link_categories(
    session: AsyncSession, actor: Actor, document_id: uuid.UUID, category_ids: list[uuid.UUID]
) -> None:
    wanted = set(category_ids)
    # KEY SHARE before the links are touched: a deletion of one of them comes first (422) or waits.
    found = set(
        await session.scalars(
            select(Category.id)
            .where(Category.id.in_(wanted), Category.organization_id == actor.organization_id)
            .with_for_update(key_share=True, read=True)
        )
    )
    if found != wanted:
        raise DomainError("validation_error", "category_ids: no such category in this organization")
    await session.execute(delete(DocumentCategory).where(DocumentCategory.document_id == document_id))
    if wanted:
        await session.execute(
            insert(DocumentCategory),
            [
                {
                    "document_id": document_id,
                    "category_id": category_id,
                    "organization_id": actor.organization_id,
                }
                for category_id in sorted(wanted)
            ],
        )


async def create_document(session: AsyncSession, actor: Actor, data: DocumentIn) -> DocumentOut:
    now = datetime.now(UTC)
    document = await session.scalar(
        insert(Document)
        .values(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            title=data.title,
            content=data.content,
            is_public=data.is_public,
            created_at=now,
            updated_at=now,
        )
        .returning(Document)
    )
    assert document is not None
    await _link_categories(session, actor, document.id, data.category_ids)
    await document_written(session, actor.organization_id, document.id, bool(document.is_public))
    await defer_answer_model(session, actor.organization_id)
    (out,) = await documents_out(session, [document])
    await record(session, actor, "document.created", "document", document.id, after=snapshot(out))
    return out


async def update_document(
    session: AsyncSession, actor: Actor, document_id: uuid.UUID, patch: DocumentPatch
) -> DocumentOut:
    (before,) = await documents_out(session, [await get_document(session, actor, document_id, lock=True)])
    values = patch.model_dump(exclude_unset=True, exclude={"category_ids"})
    document = await session.scalar(
        update(Document)
        .where(Document.id == document_id, Document.organization_id == actor.organization_id)
        .values(**values, updated_at=func.now())
        .returning(Document),
        execution_options={"populate_existing": True},
    )
    assert document is not None
    if patch.category_ids is not None:
        await _link_categories(session, actor, document_id, patch.category_ids)
    await document_written(session, actor.organization_id, document_id, bool(document.is_public))
    await defer_answer_model(session, actor.organization_id)
    (after,) = await documents_out(session, [document])
    await record_update(
        session, actor, "document.updated", "document", document_id, snapshot(before), snapshot(after)
    )
    return after


async def unlink_category(session: AsyncSession, actor: Actor, category_id: uuid.UUID) -> None:
    """A category's deletion takes it off its documents: each one's changed `category_ids` is audited."""
    documents = list(
        await session.scalars(
            select(Document)
            .join(DocumentCategory, DocumentCategory.document_id == Document.id)
            .where(
                DocumentCategory.category_id == category_id, Document.organization_id == actor.organization_id
            )
            .order_by(Document.id)
        )
    )
    before = await documents_out(session, documents)
    await session.execute(delete(DocumentCategory).where(DocumentCategory.category_id == category_id))
    for old, new in zip(before, await documents_out(session, documents), strict=True):
        await record_update(
            session, actor, "document.updated", "document", new.id, snapshot(old), snapshot(new)
        )


async def delete_document(session: AsyncSession, actor: Actor, document_id: uuid.UUID) -> None:
    (before,) = await documents_out(session, [await get_document(session, actor, document_id, lock=True)])
    await archive(session, actor.organization_id, "document", [document_id], "deleted", datetime.now(UTC))
    # The tickets it answered answer to no document now: audited, as a PATCH of the field would be.
    await change_tickets(session, actor, Ticket.answer_document_id, document_id, None)
    await session.execute(delete(Document).where(Document.id == document_id))  # its passages cascade
    await defer_answer_model(session, actor.organization_id)
    await record(session, actor, "document.deleted", "document", document_id, before=snapshot(before))
