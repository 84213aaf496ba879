"""A change of an organization's business hours, and what follows from it: the open tickets of the
categories that follow them count their running clocks in the new hours, each with the time it had
left (a holiday added for today moves a deadline due today to the next open day; the tickets opened
before it breached on the holiday, with nobody at work, while those opened after it waited)."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.categories.models import Category
from supportdesk.sla.business_hours import calendar_from
from supportdesk.sla.schemas import BusinessHoursIn, BusinessHoursOut
from supportdesk.sla.service import organization_calendar, set_business_hours
from supportdesk.tickets.assignment import lock_assignments
from supportdesk.tickets.system_changes import recount_clocks


async def change_business_hours(
    session: AsyncSession, actor: Actor, data: BusinessHoursIn
) -> BusinessHoursOut:
    # First the lock every ticket creation takes before it reads the calendar (a ticket created meanwhile
    # kept the hours replaced), then the hours replaced, read under the lock the change takes: two changes
    # at once recount one after the other, each from what the one before left.
    await lock_assignments(session, actor.organization_id)
    replaced = await organization_calendar(session, actor.organization_id, lock=True)
    hours = await set_business_hours(session, actor, data)
    new = calendar_from(hours.timezone, hours.weekly_hours, hours.holidays)
    if new == replaced:  # the same hours again: no deadline moves
        return hours
    following = await session.scalars(
        select(Category.id)
        .where(Category.organization_id == actor.organization_id, Category.uses_business_hours.is_(True))
        .order_by(Category.id)
    )
    now = datetime.now(UTC)
    for category_id in following.all():
        await recount_clocks(session, actor, category_id, replaced, new, now)
    return hours
