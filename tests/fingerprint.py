"""A digest of everything one organization has in the database, to prove a request wrote nothing."""

import uuid

from sqlalchemy import text

from supportdesk import db


async def fingerprint(organization_id: str) -> dict[str, str]:
    """Table name → digest of all that organization's rows (row-level security picks them)."""
    async with db.tenant_session(uuid.UUID(organization_id)) as session:
        tables = await session.scalars(
            text(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name = 'organization_id' ORDER BY table_name"
            )
        )
        digests = {}
        for table in ["organizations", *tables]:
            digests[table] = await session.scalar(
                text(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t")
            )
        return digests
