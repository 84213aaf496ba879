from typing import Annotated

from fastapi import APIRouter, Depends, Query

from supportdesk.analytics import service
from supportdesk.analytics.schemas import SummaryOut, SummaryWindow
from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.deps import Session, allow

router = APIRouter(tags=["analytics"])
AnalyticsRead = Annotated[Actor, Depends(allow(Role.ADMIN, Role.ANALYST))]


@router.get("/analytics/summary", response_model=SummaryOut)
async def analytics_summary(
    actor: AnalyticsRead, session: Session, window: Annotated[SummaryWindow, Query()]
) -> SummaryOut:
    return await service.summarize(session, actor, window)
