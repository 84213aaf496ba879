from fastapi import APIRouter

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import Session
from supportdesk.organizations import service
from supportdesk.organizations.auth import OrganizationRead, OrganizationWrite
from supportdesk.organizations.schemas import (
    OrganizationOut,
    OrganizationPatch,
    OrganizationWithUsage,
    SignupIn,
    SignupOut,
)
from supportdesk.users.schemas import UserOut

router = APIRouter(tags=["organizations"])


@router.post("/organizations", response_model=SignupOut, status_code=201)
async def sign_up(body: SignupIn, session: Session) -> SignupOut:
    organization, admin, token = await service.sign_up(session, body)
    return SignupOut(
        organization=OrganizationOut.model_validate(organization),
        user=UserOut.model_validate(admin),
        access_token=token,
    )


async def _with_usage(session: Session, actor: Actor, organization: object) -> OrganizationWithUsage:
    base = OrganizationOut.model_validate(organization).model_dump()
    return OrganizationWithUsage(**base, usage=await service.usage(session, actor))


@router.get("/organization", response_model=OrganizationWithUsage)
async def get_organization(actor: OrganizationRead, session: Session) -> OrganizationWithUsage:
    return await _with_usage(session, actor, await service.get_organization(session, actor))


@router.patch("/organization", response_model=OrganizationWithUsage)
async def update_organization(
    body: OrganizationPatch, actor: OrganizationWrite, session: Session
) -> OrganizationWithUsage:
    return await _with_usage(session, actor, await service.update_organization(session, actor, body))
