import uuid

from fastapi import APIRouter, Response

from supportdesk.auth.deps import Session
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of
from supportdesk.webhooks import service
from supportdesk.webhooks.auth import WebhookAdmin
from supportdesk.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut

router = APIRouter(tags=["webhooks"])


@router.get("/webhooks", response_model=Page[WebhookOut])
async def list_webhooks(
    actor: WebhookAdmin, session: Session, limit: Limit = LIMIT_DEFAULT, cursor: Cursor = None
) -> Page[WebhookOut]:
    rows = await service.list_webhooks(session, actor, cursor, limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[WebhookOut.model_validate(row) for row in data], next_cursor=next_cursor)


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
async def create_webhook(body: WebhookIn, actor: WebhookAdmin, session: Session) -> WebhookCreated:
    return WebhookCreated.model_validate(await service.create_webhook(session, actor, body))


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: uuid.UUID, actor: WebhookAdmin, session: Session) -> Response:
    await service.delete_webhook(session, actor, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    webhook_id: uuid.UUID,
    actor: WebhookAdmin,
    session: Session,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[DeliveryOut]:
    rows = await service.list_deliveries(session, actor, webhook_id, cursor, limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[DeliveryOut.model_validate(row) for row in data], next_cursor=next_cursor)
