"""Customers: created on first contact (a ticket's), and listed for staff. Deleting one: `erasure`."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor
from supportdesk.customers.models import Customer
from supportdesk.db import organization_row
from supportdesk.pagination import paginate


async def upsert_customer(
    session: AsyncSession, organization_id: uuid.UUID, email: str, name: str | None
) -> uuid.UUID:
    """The customer with this email in this organization, created on first contact. The name is taken
    while none is known, never replaced: anyone may open a portal ticket with anyone's address."""
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
        set_={
            "name": func.coalesce(Customer.name, statement.excluded.name),
            "updated_at": case(
                (Customer.name.is_(None) & statement.excluded.name.is_not(None), now),
                else_=Customer.updated_at,
            ),
        },
    ).returning(Customer.id)
    customer_id = await session.scalar(statement)
    assert customer_id is not None
    return customer_id


async def get_customer(
    session: AsyncSession, actor: Actor, customer_id: uuid.UUID, *, lock: bool = False
) -> Customer:
    return await organization_row(
        session, Customer, customer_id, actor.organization_id, "customer", lock=lock
    )


async def list_customers(
    session: AsyncSession, actor: Actor, *, email: str | None, cursor: str | None, limit: int
) -> list[Customer]:
    """Newest first."""
    statement = select(Customer).where(Customer.organization_id == actor.organization_id)
    if email is not None:
        statement = statement.where(Customer.email == email)
    statement = paginate(statement, Customer.created_at, Customer.id, cursor, limit)
    return list((await session.scalars(statement)).all())
