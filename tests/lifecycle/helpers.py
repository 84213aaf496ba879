"""Lifecycle test helpers: an organization's archived records, read as an operator would."""

import uuid

from supportdesk import db
from supportdesk.lifecycle import archive
from supportdesk.lifecycle.models import ArchivedRecord
from tests.factories import Org


async def archived(org: Org) -> list[ArchivedRecord]:
    async with db.system_session() as session:
        return await archive.entries(session, uuid.UUID(org.id))


async def restore(entry: ArchivedRecord) -> None:
    async with db.system_session() as session:
        await archive.restore(session, entry.id)
