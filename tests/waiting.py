"""For tests that race real transactions: wait until one of them waits for another's lock."""

import asyncio

from sqlalchemy import text

from supportdesk import db


async def until_a_lock_is_waited_for(task: asyncio.Task) -> None:
    async with db.system_session() as session:
        while not await session.scalar(text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")):
            assert not task.done(), "it took no lock the other transaction holds"
            await asyncio.sleep(0.05)
