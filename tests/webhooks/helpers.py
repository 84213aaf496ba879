import uuid

from sqlalchemy import text

from supportdesk import db


async def add_webhook(client, org, url: str, events=("ticket.created",)) -> dict:
    response = await client.post("/webhooks", headers=org.headers, json={"url": url, "events": list(events)})
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries_of(webhook_id: str) -> list[dict]:
    async with db.system_session() as session:
        rows = await session.execute(
            text("SELECT * FROM webhook_deliveries WHERE webhook_id = :id ORDER BY created_at, id"),
            {"id": uuid.UUID(webhook_id)},
        )
        return [dict(row._mapping) for row in rows]


async def jobs_of(delivery_ids) -> list[dict]:
    async with db.system_session() as session:
        rows = await session.execute(
            text(
                "SELECT id, status, attempts, scheduled_at FROM procrastinate_jobs"
                " WHERE task_name = 'deliver_webhook' AND args->>'delivery_id' = ANY(:ids) ORDER BY id"
            ),
            {"ids": [str(delivery_id) for delivery_id in delivery_ids]},
        )
        return [dict(row._mapping) for row in rows]


async def make_retries_due(delivery_ids) -> None:
    """Procrastinate schedules a retry in the future; bring it forward instead of sleeping."""
    async with db.system_session() as session:
        await session.execute(
            text(
                "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = 'deliver_webhook'"
                " AND status = 'todo' AND args->>'delivery_id' = ANY(:ids)"
            ),
            {"ids": [str(delivery_id) for delivery_id in delivery_ids]},
        )


async def discard_jobs(delivery_ids) -> None:
    """Leave no retries behind for later tests' workers."""
    async with db.system_session() as session:
        await session.execute(
            text(
                "DELETE FROM procrastinate_jobs WHERE task_name = 'deliver_webhook'"
                " AND args->>'delivery_id' = ANY(:ids)"
            ),
            {"ids": [str(delivery_id) for delivery_id in delivery_ids]},
        )
