"""Searching the knowledge base: staff search every document of their organization; the portal,
with no token, only ever the public ones."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.documents.models import Document
from supportdesk.documents.service import documents_out
from supportdesk.knowledge.schemas import PortalDocumentOut, PortalSearchHitOut, SearchHitOut, SearchQuery
from supportdesk.knowledge.search import PassageHit, PassageSearch, search_passages, snippets
from supportdesk.organizations.service import enter_as_public


async def _found_documents(
    session: AsyncSession, organization_id: uuid.UUID, search: PassageSearch, *, public_only: bool
) -> list[tuple[Document, PassageHit, str]]:
    """The hits' documents, in the hits' order, with their hits and snippets."""
    statement = select(Document).where(
        Document.organization_id == organization_id, Document.id.in_([hit.document_id for hit in search.hits])
    )
    if public_only:  # the passages say public already; the document has the last word
        statement = statement.where(Document.is_public.is_(True))
    documents = {document.id: document for document in await session.scalars(statement)}
    quoted = await snippets(session, search)
    return [
        (documents[hit.document_id], hit, quoted.get(hit.passage_id, ""))
        for hit in search.hits
        if hit.document_id in documents
    ]


async def search_knowledge_base(
    session: AsyncSession, actor: Actor, query: SearchQuery
) -> list[SearchHitOut]:
    search = await search_passages(
        session,
        actor.organization_id,
        query.q,
        category_id=query.category_id,
        public_only=False,
        limit=query.limit,
    )
    found = await _found_documents(session, actor.organization_id, search, public_only=False)
    outs = await documents_out(session, [document for document, _, _ in found])
    return [
        SearchHitOut(document=out, score=hit.score, snippet=snippet, passage_id=hit.passage_id)
        for out, (_, hit, snippet) in zip(outs, found, strict=True)
    ]


async def search_public_knowledge_base(
    session: AsyncSession, organization_id: uuid.UUID, query: SearchQuery
) -> list[PortalSearchHitOut]:
    """The portal's search, for anyone: public documents of an active organization only."""
    await enter_as_public(session, organization_id)
    search = await search_passages(
        session, organization_id, query.q, category_id=query.category_id, public_only=True, limit=query.limit
    )
    found = await _found_documents(session, organization_id, search, public_only=True)
    return [
        PortalSearchHitOut(
            document=PortalDocumentOut.model_validate(document), score=hit.score, snippet=snippet
        )
        for document, hit, snippet in found
    ]
