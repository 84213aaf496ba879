from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, StringConstraints

from supportdesk.auth import service
from supportdesk.auth.deps import Session, Staff, StaffLoggingOut, raw_token
from supportdesk.schemas import PASSWORD_MAX, Email, RequestModel
from supportdesk.users.schemas import UserOut
from supportdesk.users.service import get_user

router = APIRouter(tags=["auth"])


class TokenRequest(RequestModel):
    email: Email
    # Checked against the hash exactly as typed; no minimum here, so that a rule change never locks
    # out an account made before it.
    password: Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=PASSWORD_MAX)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/auth/token", response_model=TokenOut)
async def issue_token(body: TokenRequest, request: Request) -> TokenOut:
    address = request.client.host if request.client else None
    return TokenOut(access_token=await service.login(body.email, body.password, address))


@router.post("/auth/logout", status_code=204)
async def logout(
    actor: StaffLoggingOut, session: Session, token: Annotated[str, Depends(raw_token)]
) -> Response:
    """The token stops working at once, in an inactive organization too (API.md)."""
    await service.revoke(session, token)
    return Response(status_code=204)


@router.get("/me", response_model=UserOut)
async def me(actor: Staff, session: Session) -> UserOut:
    assert actor.user_id is not None
    return UserOut.model_validate(await get_user(session, actor, actor.user_id))
