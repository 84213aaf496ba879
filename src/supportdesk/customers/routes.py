import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from supportdesk.auth.deps import Session
from supportdesk.customers import erasure, service
from supportdesk.customers.auth import CustomerRead, CustomerWrite
from supportdesk.customers.schemas import CustomerOut
from supportdesk.pagination import LIMIT_DEFAULT, Cursor, Limit, Page, page_of
from supportdesk.schemas import Email

router = APIRouter(tags=["customers"])


@router.get("/customers", response_model=Page[CustomerOut])
async def list_customers(
    actor: CustomerRead,
    session: Session,
    email: Annotated[Email | None, Query(description="the customer with this address")] = None,
    limit: Limit = LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[CustomerOut]:
    rows = await service.list_customers(session, actor, email=email, cursor=cursor, limit=limit)
    data, next_cursor = page_of(rows, limit)
    return Page(data=[CustomerOut.model_validate(row) for row in data], next_cursor=next_cursor)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: uuid.UUID, actor: CustomerRead, session: Session) -> CustomerOut:
    return CustomerOut.model_validate(await service.get_customer(session, actor, customer_id))


@router.delete("/customers/{customer_id}", status_code=204)
async def delete_customer(customer_id: uuid.UUID, actor: CustomerWrite, session: Session) -> Response:
    await erasure.delete_customer(session, actor, customer_id)
    return Response(status_code=204)
