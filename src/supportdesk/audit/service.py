"""The audit log: every change to users, categories, documents, plans, settings and ticket fields,
written in the same transaction as the change itself."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit.models import AuditLog
from supportdesk.auth.actor import Actor
from supportdesk.pagination import paginate


def snapshot(model: BaseModel) -> dict[str, Any]:
    """What an entity looked like, as JSON-ready values (its public response shape)."""
    return model.model_dump(mode="json")


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, on both sides."""
    keys = [key for key in after if before.get(key) != after[key] and key != "updated_at"]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


async def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    *,
    organization_id: uuid.UUID | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one entry. `actor` None means the system itself (a job, an automation)."""
    org = organization_id or (actor.organization_id if actor else None)
    assert org is not None, "an audit entry belongs to an organization"
    await session.execute(
        insert(AuditLog).values(
            id=uuid.uuid4(),
            organization_id=org,
            actor_id=actor.user_id if actor else None,
            actor_customer_id=actor.customer_id if actor else None,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            created_at=datetime.now(UTC),
        )
    )


async def record_update(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Append the fields an update changed; an update that changed nothing leaves no entry."""
    before, after = changed(before, after)
    if after:
        await record(session, actor, action, entity_type, entity_id, before=before, after=after)


async def record_same_change(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_ids: list[uuid.UUID],
    *,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """One entry per entity for a change made to many at once, in one statement."""
    if not entity_ids:
        return
    await session.execute(
        text(
            "INSERT INTO audit_logs (id, organization_id, actor_id, actor_customer_id, action, entity_type,"
            " entity_id, before, after, created_at)"
            " SELECT gen_random_uuid(), :organization_id, :actor_id, :actor_customer_id, :action,"
            " :entity_type, entity_id, :before, :after, :created_at"
            " FROM unnest(CAST(:entity_ids AS uuid[])) AS entity_id"
        ).bindparams(bindparam("before", type_=JSONB), bindparam("after", type_=JSONB)),
        {
            "organization_id": actor.organization_id,
            "actor_id": actor.user_id,
            "actor_customer_id": actor.customer_id,
            "action": action,
            "entity_type": entity_type,
            "entity_ids": entity_ids,
            "before": before,
            "after": after,
            "created_at": datetime.now(UTC),
        },
    )


async def list_entries(
    session: AsyncSession,
    actor: Actor,
    *,
    entity_type: str | None,
    entity_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> list[AuditLog]:
    statement = select(AuditLog).where(AuditLog.organization_id == actor.organization_id)
    if entity_type:
        statement = statement.where(AuditLog.entity_type == entity_type)
    if entity_id:
        statement = statement.where(AuditLog.entity_id == entity_id)
    statement = paginate(statement, AuditLog.created_at, AuditLog.id, cursor, limit)
    return list((await session.scalars(statement)).all())
