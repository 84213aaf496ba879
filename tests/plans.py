"""What the planner does with a query under row-level security, as an organization's request runs it."""

import uuid

from sqlalchemy import text

from supportdesk import db


async def plan_as_tenant(organization_id: str, query: str) -> str:
    """EXPLAIN of `query` in the organization's tenant session, sequential scans off: the test tables are
    tiny, and the planner would rightly prefer a scan, which would say nothing about the indexes."""
    async with db.tenant_session(uuid.UUID(organization_id)) as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(await session.scalars(text(f"EXPLAIN {query}")))
