"""For tests that race real transactions: wait until one of them waits for another's lock."""

import asyncio

from sqlalchemy import text

from supportdesk import db


async def a_lock_is_waited_for() -> bool:
    async with db.system_session() as session:
        return await session.scalar(text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)"))


async def until_a_lock_is_waited_for(task: asyncio.Task) -> None:
    while not await a_lock_is_waited_for():
        assert not task.done(), "it took no lock the other transaction holds"
        await asyncio.sleep(0.05)
