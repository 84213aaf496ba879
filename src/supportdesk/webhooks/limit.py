"""How many webhooks an organization may have: checked by a creation and by an archived webhook's restore."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.errors import DomainError
from supportdesk.organizations.models import locking
from supportdesk.webhooks.models import Webhook

# Every event is delivered once per subscribed webhook: the cap bounds what one event costs.
WEBHOOKS_PER_ORGANIZATION = 25


async def ensure_room_for_a_webhook(session: AsyncSession, organization_id: uuid.UUID) -> None:
    await session.execute(locking(organization_id))  # two creations at once count one after the other
    count = await session.scalar(select(func.count()).where(Webhook.organization_id == organization_id))
    if count >= WEBHOOKS_PER_ORGANIZATION:
        raise DomainError(
            "webhook_limit_reached",
            f"an organization has at most {WEBHOOKS_PER_ORGANIZATION} webhooks: delete one first",
        )
