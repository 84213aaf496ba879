"""Searching the knowledge base: staff search every document of their organization; the portal,
with no token, only ever the public ones."""

import uuid
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.documents.models import Document
from supportdesk.documents.service import documents_out
from supportdesk.knowledge.schemas import (
    SEARCH_DEPTH,
    PortalDocumentOut,
    PortalSearchHitOut,
    PortalSearchResults,
    SearchHitOut,
    SearchQuery,
    SearchResults,
)
from supportdesk.knowledge.search import PassageHit, PassageSearch, search_passages
from supportdesk.knowledge.snippets import snippets
from supportdesk.organizations.service import enter_as_public
from supportdesk.pagination import decode_offset, encode_offset


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
    quoted = await snippets(session, search, public_only=public_only)
    return [
        (documents[hit.document_id], hit, quoted.get(hit.passage_id, ""))
        for hit in search.hits
        if hit.document_id in documents
    ]


async def _page(
    session: AsyncSession, organization_id: uuid.UUID, query: SearchQuery, *, public_only: bool
) -> tuple[PassageSearch, str | None]:
    """The query's page of hits, and the cursor of the next page (None on the last one)."""
    offset = decode_offset(query.cursor, SEARCH_DEPTH - 1) if query.cursor else 0
    end = min(offset + query.limit, SEARCH_DEPTH)
    search = await search_passages(
        session,
        organization_id,
        query.q,
        category_id=query.category_id,
        public_only=public_only,
        limit=end + 1,  # one more: is there a next page?
    )
    more = len(search.hits) > end and end < SEARCH_DEPTH
    return replace(search, hits=search.hits[offset:end]), encode_offset(end) if more else None


async def search_knowledge_base(session: AsyncSession, actor: Actor, query: SearchQuery) -> SearchResults:
    search, next_cursor = await _page(session, actor.organization_id, query, public_only=False)
    found = await _found_documents(session, actor.organization_id, search, public_only=False)
    outs = await documents_out(session, [document for document, _, _ in found])
    hits = [
        SearchHitOut(document=out, score=hit.score, snippet=snippet, passage_id=hit.passage_id)
        for out, (_, hit, snippet) in zip(outs, found, strict=True)
    ]
    return SearchResults(data=hits, next_cursor=next_cursor)


async def search_public_knowledge_base(
    session: AsyncSession, organization_id: uuid.UUID, query: SearchQuery
) -> PortalSearchResults:
    """The portal's search, for anyone: public documents of an active organization only."""
    await enter_as_public(session, organization_id)
    search, next_cursor = await _page(session, organization_id, query, public_only=True)
    found = await _found_documents(session, organization_id, search, public_only=True)
    hits = [
        PortalSearchHitOut(
            document=PortalDocumentOut.model_validate(document), score=hit.score, snippet=snippet
        )
        for document, hit, snippet in found
    ]
    return PortalSearchResults(data=hits, next_cursor=next_cursor)
