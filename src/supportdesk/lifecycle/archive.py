"""The archive: what a deletion removes is kept for ARCHIVE_DAYS, restorable by an operator
(`supportdesk archive restore`), and then purged.

An entry holds an entity's rows as JSON, table by table, parent first: a document with its category
links, a ticket with its messages. Derived rows are not kept: a restored document's passages are indexed
again. A restore puts back what still fits: a link to a category deleted since is left out, and a
ticket whose category is gone comes back without one. A ticket whose customer was archived brings the
customer back first, or goes to the customer who has their address now.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.ai.jobs import defer_answer_model
from supportdesk.audit.service import record
from supportdesk.customers.models import Customer
from supportdesk.errors import DomainError
from supportdesk.knowledge.jobs import document_written
from supportdesk.lifecycle.models import ArchivedRecord
from supportdesk.webhooks.limit import ensure_room_for_a_webhook

ARCHIVE_DAYS = 30


@dataclass(frozen=True)
class Part:
    """The rows of one table that go with an archived entity."""

    table: str
    key: str  # the column that names the entity
    # (column, table): a reference that may have been deleted since; restored as NULL then.
    optional: tuple[tuple[str, str], ...] = ()
    # (column, table): a reference without which the row is left out of a restore.
    required: tuple[tuple[str, str], ...] = ()


_LINK = (("document_id", "documents"), ("category_id", "categories"))
PARTS: dict[str, tuple[Part, ...]] = {
    "category": (Part("categories", "id"), Part("document_categories", "category_id", required=_LINK)),
    "document": (Part("documents", "id"), Part("document_categories", "document_id", required=_LINK)),
    "webhook": (Part("webhooks", "id"),),
    "customer": (Part("customers", "id"),),
    "ticket": (
        Part("tickets", "id", optional=(("category_id", "categories"), ("answer_document_id", "documents"))),
        Part("messages", "ticket_id"),
        Part("sla_events", "ticket_id"),
        Part("auto_answers", "ticket_id"),
    ),
}
# What a list (and the audit entry of a restore) shows of an entity: never a webhook's secret.
SUMMARY_FIELDS = ("name", "title", "url", "status", "email")


class RestoreError(Exception):
    """An entry that cannot be restored, with a reason an operator can act on."""


def summary(entry: ArchivedRecord) -> dict[str, Any]:
    (row,) = entry.contents[0]["rows"]
    return {field: row[field] for field in SUMMARY_FIELDS if field in row}


async def archive(
    session: AsyncSession,
    organization_id: uuid.UUID,
    entity_type: str,
    entity_ids: list[uuid.UUID],
    reason: str,
    now: datetime,
) -> None:
    """Keep these entities' rows, in the transaction that is about to delete them."""
    contents: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for part in PARTS[entity_type]:
        rows = await session.execute(
            text(
                f"SELECT t.{part.key}, jsonb_agg(to_jsonb(t)) FROM {part.table} t"
                f" WHERE t.{part.key} = ANY(:ids) GROUP BY t.{part.key}"
            ),
            {"ids": entity_ids},
        )
        for entity_id, part_rows in rows:
            contents[entity_id].append({"table": part.table, "rows": part_rows})
    await session.execute(
        insert(ArchivedRecord),
        [
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "reason": reason,
                "contents": contents[entity_id],
                "archived_at": now,
            }
            for entity_id in entity_ids
        ],
    )


async def restore(session: AsyncSession, entry_id: uuid.UUID) -> ArchivedRecord:
    """Put an entry's rows back (in a system session) and forget the entry; audited as the system's."""
    entry = await session.get(ArchivedRecord, entry_id, with_for_update=True)
    if entry is None:
        raise RestoreError(f"no archived record {entry_id}: restored already, purged, or never archived")
    if entry.entity_type == "webhook":
        await _ensure_room_for_a_webhook(session, entry.organization_id)
    if entry.entity_type == "ticket":
        await _restore_customer_of(session, entry)
    parts = {part.table: part for part in PARTS[entry.entity_type]}
    try:
        for item in entry.contents:
            await _insert(session, parts[item["table"]], item["rows"])
    except IntegrityError as error:
        reason = str(error.orig).splitlines()[0]
        raise RestoreError(f"{entry.entity_type} {entry.entity_id} cannot be restored: {reason}") from error
    await session.execute(delete(ArchivedRecord).where(ArchivedRecord.id == entry.id))
    if entry.entity_type == "document":
        (document,) = entry.contents[0]["rows"]
        await document_written(session, entry.organization_id, entry.entity_id, bool(document["is_public"]))
        await defer_answer_model(session, entry.organization_id)
    await record(
        session,
        None,
        f"{entry.entity_type}.restored",
        entry.entity_type,
        entry.entity_id,
        organization_id=entry.organization_id,
        after=summary(entry),
    )
    return entry


async def _restore_customer_of(session: AsyncSession, ticket_entry: ArchivedRecord) -> None:
    """A ticket's customer, when archived too (deleted, or with their last ticket), comes back first.
    When their address belongs to a customer again (they wrote in since), that customer, the same
    person as addresses tell them apart, takes the ticket and its messages."""
    (ticket,) = ticket_entry.contents[0]["rows"]
    customer_entry = await session.scalar(
        select(ArchivedRecord).where(
            ArchivedRecord.organization_id == ticket_entry.organization_id,
            ArchivedRecord.entity_type == "customer",
            ArchivedRecord.entity_id == uuid.UUID(ticket["customer_id"]),
        )
    )
    if customer_entry is None:
        return
    (customer,) = customer_entry.contents[0]["rows"]
    current = await session.scalar(
        select(Customer.id).where(
            Customer.organization_id == ticket_entry.organization_id, Customer.email == customer["email"]
        )
    )
    if current is None:
        await restore(session, customer_entry.id)
        return
    for item in ticket_entry.contents:
        for row in item["rows"]:
            if row.get("customer_id") == customer["id"]:
                row["customer_id"] = str(current)


async def _ensure_room_for_a_webhook(session: AsyncSession, organization_id: uuid.UUID) -> None:
    try:
        await ensure_room_for_a_webhook(session, organization_id)
    except DomainError as error:
        raise RestoreError(f"webhook not restored: {error.detail}") from None


async def _insert(session: AsyncSession, part: Part, rows: list[dict[str, Any]]) -> None:
    # A column added since the rows were archived takes its default.
    columns = [quoted for name, quoted in await _insertable_columns(session, part.table) if name in rows[0]]
    optional = dict(part.optional)
    values = [
        f"(SELECT id FROM {optional[name]} WHERE id = r.{name})" if name in optional else f"r.{name}"
        for name in columns
    ]
    required = [f"EXISTS (SELECT 1 FROM {table} WHERE id = r.{name})" for name, table in part.required]
    statement = text(
        f"INSERT INTO {part.table} ({', '.join(columns)})"
        f" SELECT {', '.join(values)} FROM jsonb_populate_recordset(NULL::{part.table}, :rows) r"
        f" WHERE {' AND '.join(required) or 'true'}"
    ).bindparams(bindparam("rows", type_=JSONB))
    await session.execute(statement, {"rows": rows})


async def _insertable_columns(session: AsyncSession, table: str) -> list[tuple[str, str]]:
    """The table's columns now, as named and as SQL quotes them, but for generated ones: a ticket's
    search vector is computed again."""
    result = await session.execute(
        text(
            "SELECT column_name, quote_ident(column_name) FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = :table AND is_generated = 'NEVER'"
            " ORDER BY ordinal_position"
        ),
        {"table": table},
    )
    return [(name, quoted) for name, quoted in result]


async def entries(
    session: AsyncSession, organization_id: uuid.UUID | None = None, limit: int = 100
) -> list[ArchivedRecord]:
    """The newest entries first, of one organization or all (in a system session)."""
    statement = select(ArchivedRecord).order_by(ArchivedRecord.archived_at.desc(), ArchivedRecord.id)
    if organization_id is not None:
        statement = statement.where(ArchivedRecord.organization_id == organization_id)
    return list(await session.scalars(statement.limit(limit)))


async def purge(session: AsyncSession, now: datetime) -> int:
    """Forget the entries older than ARCHIVE_DAYS; returns how many."""
    result = await session.execute(
        delete(ArchivedRecord).where(ArchivedRecord.archived_at < now - timedelta(days=ARCHIVE_DAYS))
    )
    return result.rowcount
