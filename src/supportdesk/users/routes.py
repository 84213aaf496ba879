import uuid

from fastapi import APIRouter

from supportdesk.auth.actor import Role
from supportdesk.auth.deps import Session
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of
from supportdesk.users import service
from supportdesk.users.auth import UserRead, UserWrite
from supportdesk.users.schemas import UserIn, UserOut, UserPatch, UserStatus

router = APIRouter(tags=["users"])


@router.get("/users", response_model=Page[UserOut])
async def list_users(
    actor: UserRead,
    session: Session,
    role: Role | None = None,
    status: UserStatus | None = None,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[UserOut]:
    rows = await service.list_users(session, actor, role=role, status=status, cursor=cursor, limit=limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[UserOut.model_validate(row) for row in data], next_cursor=next_cursor)


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(body: UserIn, actor: UserWrite, session: Session) -> UserOut:
    return UserOut.model_validate(await service.create_user(session, actor, body))


@router.get("/users/{user_id}", response_model=UserOut)
async def get_user(user_id: uuid.UUID, actor: UserRead, session: Session) -> UserOut:
    return UserOut.model_validate(await service.get_user(session, actor, user_id))


@router.patch("/users/{user_id}", response_model=UserOut)
async def update_user(user_id: uuid.UUID, body: UserPatch, actor: UserWrite, session: Session) -> UserOut:
    return UserOut.model_validate(await service.update_user(session, actor, user_id, body))
