"""`GET /healthz`: the service answers, and so does its database. Outside /api/v1, and no token."""

from fastapi import APIRouter
from sqlalchemy import text

from supportdesk import db

router = APIRouter(tags=["service"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    async with db.transaction() as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ok"}
