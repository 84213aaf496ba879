import uuid

from fastapi import APIRouter, Response

from supportdesk.auth.deps import Session
from supportdesk.categories import service
from supportdesk.categories.auth import CategoryRead, CategoryWrite
from supportdesk.categories.schemas import CategoryIn, CategoryOut, CategoryPatch
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of

router = APIRouter(tags=["categories"])


@router.get("/categories", response_model=Page[CategoryOut])
async def list_categories(
    actor: CategoryRead,
    session: Session,
    is_active: bool | None = None,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[CategoryOut]:
    rows = await service.list_categories(session, actor, is_active=is_active, cursor=cursor, limit=limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[CategoryOut.model_validate(row) for row in data], next_cursor=next_cursor)


@router.post("/categories", response_model=CategoryOut, status_code=201)
async def create_category(body: CategoryIn, actor: CategoryWrite, session: Session) -> CategoryOut:
    return CategoryOut.model_validate(await service.create_category(session, actor, body))


@router.get("/categories/{category_id}", response_model=CategoryOut)
async def get_category(category_id: uuid.UUID, actor: CategoryRead, session: Session) -> CategoryOut:
    return CategoryOut.model_validate(await service.get_category(session, actor, category_id))


@router.patch("/categories/{category_id}", response_model=CategoryOut)
async def update_category(
    category_id: uuid.UUID, body: CategoryPatch, actor: CategoryWrite, session: Session
) -> CategoryOut:
    return CategoryOut.model_validate(await service.update_category(session, actor, category_id, body))


@router.delete("/categories/{category_id}", status_code=204)
async def delete_category(category_id: uuid.UUID, actor: CategoryWrite, session: Session) -> Response:
    await service.delete_category(session, actor, category_id)
    return Response(status_code=204)
