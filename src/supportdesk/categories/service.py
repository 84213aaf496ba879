import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import record, record_update, snapshot
from supportdesk.auth.actor import Actor
from supportdesk.categories.models import Category
from supportdesk.categories.schemas import CategoryIn, CategoryOut, CategoryPatch
from supportdesk.db import organization_row
from supportdesk.documents.service import unlink_category
from supportdesk.lifecycle.archive import archive
from supportdesk.pagination import paginate
from supportdesk.sla.business_hours import ALWAYS_OPEN
from supportdesk.sla.service import clock_calendar
from supportdesk.tickets.bulk import change_tickets
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.system_changes import recount_clocks


async def get_category(
    session: AsyncSession, actor: Actor, category_id: uuid.UUID, *, lock: bool = False
) -> Category:
    return await organization_row(
        session, Category, category_id, actor.organization_id, "category", lock=lock
    )


async def list_categories(
    session: AsyncSession, actor: Actor, *, is_active: bool | None, cursor: str | None, limit: int
) -> list[Category]:
    statement = select(Category).where(Category.organization_id == actor.organization_id)
    if is_active is not None:
        statement = statement.where(Category.is_active == is_active)
    statement = paginate(statement, Category.created_at, Category.id, cursor, limit, newest_first=False)
    return list((await session.scalars(statement)).all())


async def create_category(session: AsyncSession, actor: Actor, data: CategoryIn) -> Category:
    now = datetime.now(UTC)
    category = await session.scalar(
        insert(Category)
        .values(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            created_at=now,
            updated_at=now,
            **data.model_dump(),
        )
        .returning(Category)
    )
    assert category is not None
    after = snapshot(CategoryOut.model_validate(category))
    await record(session, actor, "category.created", "category", category.id, after=after)
    return category


async def update_category(
    session: AsyncSession, actor: Actor, category_id: uuid.UUID, patch: CategoryPatch
) -> Category:
    # Locked: a deletion racing this change comes before it (404) or after it, never in between.
    old = await get_category(session, actor, category_id, lock=True)
    before = snapshot(CategoryOut.model_validate(old))
    old_calendar = await clock_calendar(session, actor.organization_id, old)
    values = patch.model_dump(exclude_unset=True)  # null clears the description (only it may be null)
    category = await session.scalar(
        update(Category)
        .where(Category.id == category_id, Category.organization_id == actor.organization_id)
        .values(**values, updated_at=func.now())
        .returning(Category),
        execution_options={"populate_existing": True},
    )
    assert category is not None
    after = snapshot(CategoryOut.model_validate(category))
    await record_update(session, actor, "category.updated", "category", category.id, before, after)
    if after["uses_business_hours"] != before["uses_business_hours"]:
        new_calendar = await clock_calendar(session, actor.organization_id, category)
        await recount_clocks(session, actor, category_id, old_calendar, new_calendar, datetime.now(UTC))
    return category


async def delete_category(
    session: AsyncSession, actor: Actor, category_id: uuid.UUID, now: datetime | None = None
) -> None:
    """Delete a category; its tickets keep their history and become uncategorized (on business hours,
    their clocks then count around the clock with the time they had left). Locked first: a ticket being
    given this category meanwhile is then uncategorized too, never left to break the deletion."""
    now = now or datetime.now(UTC)
    category = await get_category(session, actor, category_id, lock=True)
    before = snapshot(CategoryOut.model_validate(category))
    await archive(session, actor.organization_id, "category", [category_id], "deleted", now)
    # Ticket fields are audited whoever changes them, a deletion included.
    if category.uses_business_hours:  # its open tickets' clocks change calendar
        calendar = await clock_calendar(session, actor.organization_id, category)
        uncategorized = {"category_id": None}
        await recount_clocks(session, actor, category_id, calendar, ALWAYS_OPEN, now, uncategorized)
    await change_tickets(session, actor, Ticket.category_id, category_id, None)
    await unlink_category(session, actor, category_id)  # documents are audited whoever changes them too
    await session.execute(delete(Category).where(Category.id == category_id))
    await record(session, actor, "category.deleted", "category", category_id, before=before)
