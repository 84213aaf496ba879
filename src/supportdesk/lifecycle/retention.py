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

from sqlalchemy import Select, delete, select, text

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
        # Calendar years, as PostgreSQL counts them.
        tickets_before, audit_logs_before, deliveries_before = (
            await session.execute(
                text(
                    f"SELECT CAST(:now AS timestamptz) - interval '{TICKETS_KEPT}',"
                    f" CAST(:now AS timestamptz) - interval '{AUDIT_LOGS_KEPT}',"
                    f" CAST(:now AS timestamptz) - interval '{DELIVERIES_KEPT}'"
                ),
                {"now": now},
            )
        ).one()
    for organization_id in organization_ids:
        tickets, customers = await _purge_tickets(organization_id, tickets_before, now)
        audit_logs = await _delete_in_batches(
            AuditLog,
            select(AuditLog.id).where(
                AuditLog.organization_id == organization_id, AuditLog.created_at < audit_logs_before
            ),
        )
        deliveries = await _delete_in_batches(
            WebhookDelivery,
            select(WebhookDelivery.id)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                Webhook.organization_id == organization_id, WebhookDelivery.created_at < deliveries_before
            ),
        )
        purged.webhook_deliveries += deliveries
        if tickets or audit_logs:
            async with db.system_session() as session:
                await record(
                    session,
                    None,
                    "retention.applied",
                    "organization",
                    organization_id,
                    organization_id=organization_id,
                    after={"tickets": tickets, "customers": customers, "audit_logs": audit_logs},
                )
            purged.tickets += tickets
            purged.customers += customers
            purged.audit_logs += audit_logs
            purged.organizations.append(organization_id)
    async with db.system_session() as session:
        purged.archived_records = await archive.purge(session, now)
    log.info(
        "retention: %d tickets, %d customers and %d audit entries of %d organizations purged,"
        " %d webhook deliveries, %d archived records expired",
        purged.tickets,
        purged.customers,
        purged.audit_logs,
        len(purged.organizations),
        purged.webhook_deliveries,
        purged.archived_records,
    )
    return purged


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
