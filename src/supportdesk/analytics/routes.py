from typing import Annotated

from fastapi import APIRouter, Query

from supportdesk.analytics import service
from supportdesk.analytics.auth import AnalyticsRead
from supportdesk.analytics.schemas import SummaryOut, SummaryWindow
from supportdesk.auth.deps import Session

router = APIRouter(tags=["analytics"])


@router.get("/analytics/summary", response_model=SummaryOut)
async def analytics_summary(
    actor: AnalyticsRead, session: Session, window: Annotated[SummaryWindow, Query()]
) -> SummaryOut:
    return await service.summarize(session, actor, window)
