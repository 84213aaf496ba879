import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from supportdesk.auth.deps import Session
from supportdesk.knowledge import service
from supportdesk.knowledge.auth import KnowledgeRead
from supportdesk.knowledge.schemas import PortalSearchResults, SearchQuery, SearchResults

router = APIRouter()


@router.get("/kb/search", response_model=SearchResults, tags=["knowledge base"])
async def search(
    actor: KnowledgeRead, session: Session, query: Annotated[SearchQuery, Query()]
) -> SearchResults:
    return await service.search_knowledge_base(session, actor, query)


# No token: the portal's visitors are anyone. Only public documents, whatever the query.
@router.get(
    "/portal/{organization_id}/kb/search", response_model=PortalSearchResults, tags=["customer portal"]
)
async def portal_search(
    organization_id: uuid.UUID, session: Session, query: Annotated[SearchQuery, Query()]
) -> PortalSearchResults:
    return await service.search_public_knowledge_base(session, organization_id, query)
