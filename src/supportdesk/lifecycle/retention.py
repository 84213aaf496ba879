"""Retention (PRODUCT.md): a ticket and its messages are kept 2 years after it was resolved or closed,
an audit entry 1 year, an archived record ARCHIVE_DAYS. A customer (an address and a name) goes with
their last ticket, and the record of a webhook delivery (which carries a copy of what it sent) after
DELIVERIES_KEPT. Run daily by a job and by `supportdesk retention`.

Each organization is purged in batches of its own transactions, through the indexes its lists use
(`idx_tickets_organization_resolved`, `idx_audit_logs_organization_created`, each webhook's
`idx_webhook_deliveries_webhook`), so a run holds no lock for long and reads only what it removes.
Purged tickets and customers go to the archive like any deletion, and each organization's audit log says
what a run removed.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Row, Select, delete, select, text

from supportdesk import db
from supportdesk.audit.models import AuditLog
from supportdesk.audit.service import record
from supportdesk.customers.erasure import delete_customers_without_tickets
from supportdesk.lifecycle import archive
from supportdesk.organizations.models import Organization
from supportdesk.tickets.models import Ticket
from supportdesk.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

TICKETS_KEPT = "2 years"
AUDIT_LOGS_KEPT = "1 year"
DELIVERIES_KEPT = "30 days"  # as long as the archive: enough to look into a receiver's failures
BATCH = 500
# What is older than these is removed (calendar years, as PostgreSQL counts them).
_CUTOFFS = text(
    f"SELECT CAST(:now AS timestamptz) - interval '{TICKETS_KEPT}' AS tickets,"
    f" CAST(:now AS timestamptz) - interval '{AUDIT_LOGS_KEPT}' AS audit_logs,"
    f" CAST(:now AS timestamptz) - interval '{DELIVERIES_KEPT}' AS webhook_deliveries"
)


@dataclass
class Purged:
    tickets: int = 0
    customers: int = 0
    audit_logs: int = 0
    webhook_deliveries: int = 0
    archived_records: int = 0
    organizations: list[uuid.UUID] = field(default_factory=list)


async def apply_retention(now: datetime) -> Purged:
    """Purge what the retention periods have passed, as of `now`; returns what it removed."""
    purged = Purged()
    async with db.system_session() as session:
        organization_ids = list(await session.scalars(select(Organization.id).order_by(Organization.id)))
        cutoffs = (await session.execute(_CUTOFFS, {"now": now})).one()
    for organization_id in organization_ids:
        removed = await _purge_organization(organization_id, cutoffs, now)
        if any(removed.values()):
            async with db.system_session() as session:
                await record(
                    session,
                    None,
                    "retention.applied",
                    "organization",
                    organization_id,
                    organization_id=organization_id,
                    after=removed,
                )
            purged.organizations.append(organization_id)
        for name, count in removed.items():
            setattr(purged, name, getattr(purged, name) + count)
    async with db.system_session() as session:
        purged.archived_records = await archive.purge(session, now)
    log.info(
        "retention: %d tickets, %d customers, %d audit entries and %d webhook deliveries of %d organizations"
        " purged, %d archived records expired",
        purged.tickets,
        purged.customers,
        purged.audit_logs,
        purged.webhook_deliveries,
        len(purged.organizations),
        purged.archived_records,
    )
    return purged


async def _purge_organization(organization_id: uuid.UUID, cutoffs: Row, now: datetime) -> dict[str, int]:
    """What one organization keeps no longer (older than `cutoffs`), removed; how many of each."""
    tickets, customers = await _purge_tickets(organization_id, cutoffs.tickets, now)
    audit_logs = await _delete_in_batches(
        AuditLog,
        select(AuditLog.id).where(
            AuditLog.organization_id == organization_id, AuditLog.created_at < cutoffs.audit_logs
        ),
    )
    deliveries = await _delete_in_batches(
        WebhookDelivery,
        select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            Webhook.organization_id == organization_id,
            WebhookDelivery.created_at < cutoffs.webhook_deliveries,
        ),
    )
    return {
        "tickets": tickets,
        "customers": customers,
        "audit_logs": audit_logs,
        "webhook_deliveries": deliveries,
    }


async def _purge_tickets(
    organization_id: uuid.UUID, resolved_before: datetime, now: datetime
) -> tuple[int, int]:
    """How many tickets, and customers left without one, were purged."""
    tickets = customers = 0
    while True:
        async with db.system_session() as session:
            # Locked and re-checked: a ticket reopened meanwhile has lost its resolved_at and stays.
            rows = (
                await session.execute(
                    select(Ticket.id, Ticket.customer_id)
                    .where(
                        Ticket.organization_id == organization_id,
                        Ticket.resolved_at < resolved_before,
                        Ticket.status.in_(("resolved", "closed")),
                    )
                    .order_by(Ticket.resolved_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return tickets, customers
            ids = [row.id for row in rows]
            await archive.archive(session, organization_id, "ticket", ids, "retention", now)
            await session.execute(delete(Ticket).where(Ticket.id.in_(ids)))  # messages and the rest cascade
            tickets += len(ids)
            customer_ids = list({row.customer_id for row in rows})
            customers += await delete_customers_without_tickets(session, organization_id, customer_ids, now)


async def _delete_in_batches(model: type[AuditLog | WebhookDelivery], expired: Select) -> int:
    """Delete the rows whose ids `expired` selects, BATCH * 10 to a transaction; returns how many."""
    total = 0
    while True:
        async with db.system_session() as session:
            result = await session.execute(delete(model).where(model.id.in_(expired.limit(BATCH * 10))))
        total += result.rowcount
        if result.rowcount < BATCH * 10:
            return total
