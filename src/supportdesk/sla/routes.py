from typing import Annotated

from fastapi import APIRouter, Depends

from supportdesk.auth.actor import Actor
from supportdesk.auth.deps import ADMINS, ANY_ROLE, Session, allow
from supportdesk.sla import service
from supportdesk.sla.schemas import BusinessHoursIn, BusinessHoursOut

router = APIRouter(tags=["sla"])
BusinessHoursRead = Annotated[Actor, Depends(allow(*ANY_ROLE))]
BusinessHoursWrite = Annotated[Actor, Depends(allow(*ADMINS))]


@router.get("/business-hours", response_model=BusinessHoursOut)
async def get_business_hours(actor: BusinessHoursRead, session: Session) -> BusinessHoursOut:
    return await service.get_business_hours(session, actor)


@router.put("/business-hours", response_model=BusinessHoursOut)
async def set_business_hours(
    body: BusinessHoursIn, actor: BusinessHoursWrite, session: Session
) -> BusinessHoursOut:
    return await service.set_business_hours(session, actor, body)
