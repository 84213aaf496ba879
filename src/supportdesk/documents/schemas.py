import uuid

from pydantic import Field

from supportdesk.schemas import (
    DOCUMENT_MAX,
    NAME_MAX,
    PatchModel,
    RequestModel,
    ResponseModel,
    StrictBool,
    Timestamp,
)


class DocumentIn(RequestModel):
    title: str = Field(min_length=1, max_length=NAME_MAX)
    content: str = Field(min_length=1, max_length=DOCUMENT_MAX)
    is_public: StrictBool = False
    category_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)


class DocumentPatch(PatchModel):
    title: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    content: str | None = Field(default=None, min_length=1, max_length=DOCUMENT_MAX)
    is_public: StrictBool | None = None
    category_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)


class DocumentOut(ResponseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    title: str
    content: str
    is_public: bool | None
    category_ids: list[uuid.UUID]
    created_at: Timestamp
    updated_at: Timestamp
