import uuid
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.customers.models import Customer


async def upsert_customer(
    session: AsyncSession, organization_id: uuid.UUID, email: str, name: str | None
) -> uuid.UUID:
    """The customer with this email in this organization, created on first contact."""
    now = datetime.now(UTC)
    statement = insert(Customer).values(
        id=uuid.uuid4(),
        organization_id=organization_id,
        email=email.lower(),
        name=name,
        created_at=now,
        updated_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[Customer.organization_id, Customer.email],
        set_={"name": func.coalesce(statement.excluded.name, Customer.name)},
    ).returning(Customer.id)
    customer_id = await session.scalar(statement)
    assert customer_id is not None
    return customer_id
