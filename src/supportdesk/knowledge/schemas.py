import uuid

from pydantic import ConfigDict, Field

from supportdesk.documents.schemas import DocumentOut
from supportdesk.pagination import CURSOR_MAX, LIMIT_DEFAULT, LIMIT_MAX
from supportdesk.schemas import QueryModel, ResponseModel, Timestamp

QUERY_MAX = 500
# A search pages through this many documents at most: deeper than that, relevance is noise.
SEARCH_DEPTH = 200


class SearchQuery(QueryModel):
    """Query string of the knowledge-base searches; a blank q is refused like an empty one."""

    model_config = ConfigDict(str_strip_whitespace=True)

    q: str = Field(min_length=1, max_length=QUERY_MAX)
    category_id: uuid.UUID | None = None
    limit: int = Field(default=LIMIT_DEFAULT, ge=1, le=LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=CURSOR_MAX)


class SearchHitOut(ResponseModel):
    document: DocumentOut
    score: float
    snippet: str
    passage_id: uuid.UUID


class PortalDocumentOut(ResponseModel):
    """A public document as a customer sees it."""

    id: uuid.UUID
    title: str
    content: str
    updated_at: Timestamp


class PortalSearchHitOut(ResponseModel):
    document: PortalDocumentOut
    score: float
    snippet: str


class SearchResults(ResponseModel):
    data: list[SearchHitOut]
    next_cursor: str | None


class PortalSearchResults(ResponseModel):
    data: list[PortalSearchHitOut]
    next_cursor: str | None
