import uuid

from fastapi import APIRouter, Response

from supportdesk.auth.deps import Session
from supportdesk.documents import service
from supportdesk.documents.auth import DocumentRead, DocumentWrite
from supportdesk.documents.schemas import DocumentIn, DocumentOut, DocumentPatch
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of

router = APIRouter(tags=["knowledge base"])


@router.get("/documents", response_model=Page[DocumentOut])
async def list_documents(
    actor: DocumentRead,
    session: Session,
    is_public: bool | None = None,
    category_id: uuid.UUID | None = None,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[DocumentOut]:
    rows = await service.list_documents(
        session, actor, is_public=is_public, category_id=category_id, cursor=cursor, limit=limit
    )
    data, next_cursor = page_of(rows, limit)
    return Page(data=await service.documents_out(session, data), next_cursor=next_cursor)


@router.post("/documents", response_model=DocumentOut, status_code=201)
async def create_document(body: DocumentIn, actor: DocumentWrite, session: Session) -> DocumentOut:
    return await service.create_document(session, actor, body)


@router.get("/documents/{document_id}", response_model=DocumentOut)
async def get_document(document_id: uuid.UUID, actor: DocumentRead, session: Session) -> DocumentOut:
    (document,) = await service.documents_out(
        session, [await service.get_document(session, actor, document_id)]
    )
    return document


@router.patch("/documents/{document_id}", response_model=DocumentOut)
async def update_document(
    document_id: uuid.UUID, body: DocumentPatch, actor: DocumentWrite, session: Session
) -> DocumentOut:
    return await service.update_document(session, actor, document_id, body)


@router.delete("/documents/{document_id}", status_code=204)
async def delete_document(document_id: uuid.UUID, actor: DocumentWrite, session: Session) -> Response:
    await service.delete_document(session, actor, document_id)
    return Response(status_code=204)
