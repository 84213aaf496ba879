import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.service import record
from supportdesk.auth.actor import Actor
from supportdesk.db import organization_row
from supportdesk.lifecycle.archive import archive
from supportdesk.pagination import paginate
from supportdesk.users.service import lock_as_admin
from supportdesk.webhooks.limit import ensure_room_for_a_webhook
from supportdesk.webhooks.models import Webhook, WebhookDelivery
from supportdesk.webhooks.schemas import WebhookIn
from supportdesk.webhooks.ssrf import ensure_allowed


async def get_webhook(
    session: AsyncSession, actor: Actor, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook:
    return await organization_row(session, Webhook, webhook_id, actor.organization_id, "webhook", lock=lock)


async def list_webhooks(session: AsyncSession, actor: Actor, cursor: str | None, limit: int) -> list[Webhook]:
    statement = select(Webhook).where(Webhook.organization_id == actor.organization_id)
    return list(
        (await session.scalars(paginate(statement, Webhook.created_at, Webhook.id, cursor, limit))).all()
    )


async def create_webhook(session: AsyncSession, actor: Actor, data: WebhookIn) -> Webhook:
    url = str(data.url)
    await ensure_allowed(url)
    await lock_as_admin(session, actor)  # a deactivated admin's waiting creation got the secret
    await ensure_room_for_a_webhook(session, actor.organization_id)
    webhook = await session.scalar(
        insert(Webhook)
        .values(
            id=uuid.uuid4(),
            organization_id=actor.organization_id,
            url=url,
            events=sorted({event.value for event in data.events}),
            # Kept as is: the server needs it to sign each delivery. It leaves the server once.
            secret="whsec_" + secrets.token_urlsafe(32),
            created_at=datetime.now(UTC),
        )
        .returning(Webhook)
    )
    assert webhook is not None
    await record(
        session, actor, "webhook.created", "webhook", webhook.id, after={"url": url, "events": webhook.events}
    )
    return webhook


async def delete_webhook(session: AsyncSession, actor: Actor, webhook_id: uuid.UUID) -> None:
    webhook = await get_webhook(session, actor, webhook_id, lock=True)  # of two racing deletions, one 404s
    await archive(session, actor.organization_id, "webhook", [webhook.id], "deleted", datetime.now(UTC))
    await session.execute(delete(Webhook).where(Webhook.id == webhook.id))
    await record(
        session,
        actor,
        "webhook.deleted",
        "webhook",
        webhook.id,
        before={"url": webhook.url, "events": webhook.events},
    )


async def list_deliveries(
    session: AsyncSession, actor: Actor, webhook_id: uuid.UUID, cursor: str | None, limit: int
) -> list[WebhookDelivery]:
    webhook = await get_webhook(session, actor, webhook_id)
    statement = select(WebhookDelivery).where(
        WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.organization_id == actor.organization_id
    )
    statement = paginate(statement, WebhookDelivery.created_at, WebhookDelivery.id, cursor, limit)
    return list((await session.scalars(statement)).all())
