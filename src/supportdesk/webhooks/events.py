"""Events that leave the server through webhooks.

`emit_event` is called by the change that causes an event, in that change's transaction: the
deliveries and their jobs exist only if the change commits. It never sends anything itself (the
`deliver_webhook` job does, later, outside the request), so it never blocks the request.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import jobs
from supportdesk.webhooks.jobs import DELIVERY_RETRY, deliver_webhook
from supportdesk.webhooks.schemas import Event

# One statement finds the organization's subscribers (idx_webhooks_organization narrows it to the
# organization; the events array is filtered on those few rows) and records a delivery for each. For an
# organization without webhooks it is one index probe that inserts and returns nothing. The webhooks are
# locked as their deliveries' foreign key would lock them, but first: one deleted meanwhile is skipped (its
# deletion committed while the statement ran made the insert's key check fail, and with it the change
# that caused the event: a new ticket), and one being deleted waits for this change.
_RECORD_DELIVERIES = text(
    """
    INSERT INTO webhook_deliveries (id, organization_id, webhook_id, event, payload, attempts, created_at)
    SELECT gen_random_uuid(), w.organization_id, w.id, :event, :payload, 0, :created_at
    FROM webhooks w
    WHERE w.organization_id = :organization_id AND CAST(:event AS VARCHAR(40)) = ANY(w.events)
    FOR KEY SHARE OF w
    RETURNING id
    """
).bindparams(bindparam("payload", type_=JSONB))


# Fairness between organizations: a delivery's job gets the priority minus the number of deliveries its
# organization already has waiting (counted up to WAITING_COUNTED), and a worker takes the highest
# priority first, so one organization's backlog (slow receivers, a burst of events) never holds up
# another organization's first delivery. Waiting: not delivered, tries left, and less than two days old
# (retries span about one), read on idx_webhook_deliveries_waiting.
WAITING_COUNTED = 1_000
_WAITING = text(
    f"""
    SELECT count(*) FROM (
        SELECT 1 FROM webhook_deliveries
        WHERE organization_id = :organization_id AND delivered_at IS NULL
            AND created_at > now() - interval '2 days' AND attempts <= :attempts
        LIMIT {WAITING_COUNTED}
    ) AS waiting
    """
)


def _as_json(value: Any) -> Any:
    """`value` in JSON's types: a timestamp as the API writes one (isoformat's "+00:00"; pydantic's JSON
    wrote sla.breached's "Z"), an id as its string."""
    if isinstance(value, dict):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return to_jsonable_python(value)


async def has_subscribers(session: AsyncSession, organization_id: uuid.UUID, event: str) -> bool:
    """Whether a webhook of the organization subscribes to `event`: what a change of many tickets at once
    asks before it reads each one for its payload (a category of 20,000 tickets took 16 s to delete)."""
    return bool(
        await session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM webhooks WHERE organization_id = :organization_id"
                " AND CAST(:event AS VARCHAR(40)) = ANY(events))"
            ),
            {"organization_id": organization_id, "event": Event(event).value},
        )
    )


async def emit_event(session: AsyncSession, organization_id: uuid.UUID, event: str, data: dict) -> None:
    """Record one delivery per webhook of the organization subscribed to `event`, and defer its job,
    in the caller's transaction. `data` may hold UUIDs and datetimes; they are sent as JSON strings."""
    event = Event(event).value  # an unknown event name is a programming error: fail loudly
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "event": event,
        "created_at": now.isoformat(),
        "data": _as_json(data),
    }
    delivery_ids = (
        await session.scalars(
            _RECORD_DELIVERIES,
            {"organization_id": organization_id, "event": event, "payload": payload, "created_at": now},
        )
    ).all()
    if not delivery_ids:
        return
    waiting = await session.scalar(
        _WAITING, {"organization_id": organization_id, "attempts": DELIVERY_RETRY.max_attempts}
    )
    before = max(0, waiting - len(delivery_ids))  # the organization's deliveries waiting before these
    for n, delivery_id in enumerate(delivery_ids):
        await jobs.defer(session, deliver_webhook, priority=-(before + n), delivery_id=str(delivery_id))
