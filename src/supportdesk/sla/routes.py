from fastapi import APIRouter

from supportdesk.auth.deps import Session
from supportdesk.sla import service
from supportdesk.sla.auth import BusinessHoursRead, BusinessHoursWrite
from supportdesk.sla.hours_change import change_business_hours
from supportdesk.sla.schemas import BusinessHoursIn, BusinessHoursOut

router = APIRouter(tags=["sla"])


@router.get("/business-hours", response_model=BusinessHoursOut)
async def get_business_hours(actor: BusinessHoursRead, session: Session) -> BusinessHoursOut:
    return await service.get_business_hours(session, actor)


@router.put("/business-hours", response_model=BusinessHoursOut)
async def set_business_hours(
    body: BusinessHoursIn, actor: BusinessHoursWrite, session: Session
) -> BusinessHoursOut:
    return await change_business_hours(session, actor, body)
