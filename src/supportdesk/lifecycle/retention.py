"""Retention (PRODUCT.md): a ticket and its messages are kept 2 years after it was resolved or closed,
an audit entry 1 year, an archived record ARCHIVE_DAYS. Run daily by a job and by
`supportdesk retention`.

Each organization is purged in batches of its own transactions, through the indexes its lists use
(`idx_tickets_organization_resolved`, `idx_audit_logs_organization_created`), so a run holds no lock
for long and reads only what it removes. Purged tickets go to the archive like any deletion, and each
organization's audit log says what a run removed.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, text

from supportdesk import db
from supportdesk.audit.models import AuditLog
from supportdesk.audit.service import record
from supportdesk.lifecycle import archive
from supportdesk.organizations.models import Organization
from supportdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

TICKETS_KEPT = "2 years"
AUDIT_LOGS_KEPT = "1 year"
BATCH = 500


@dataclass
class Purged:
    tickets: int = 0
    audit_logs: int = 0
    archived_records: int = 0
    organizations: list[uuid.UUID] = field(default_factory=list)


async def apply_retention(now: datetime) -> Purged:
    """Purge what the retention periods have passed, as of `now`; returns what it removed."""
    purged = Purged()
    async with db.system_session() as session:
        organization_ids = list(await session.scalars(select(Organization.id).order_by(Organization.id)))
        # Calendar years, as PostgreSQL counts them.
        tickets_before, audit_logs_before = (
            await session.execute(
                text(
                    f"SELECT CAST(:now AS timestamptz) - interval '{TICKETS_KEPT}',"
                    f" CAST(:now AS timestamptz) - interval '{AUDIT_LOGS_KEPT}'"
                ),
                {"now": now},
            )
        ).one()
    for organization_id in organization_ids:
        tickets = await _purge_tickets(organization_id, tickets_before, now)
        audit_logs = await _purge_audit_logs(organization_id, audit_logs_before)
        if tickets or audit_logs:
            async with db.system_session() as session:
                await record(
                    session,
                    None,
                    "retention.applied",
                    "organization",
                    organization_id,
                    organization_id=organization_id,
                    after={"tickets": tickets, "audit_logs": audit_logs},
                )
            purged.tickets += tickets
            purged.audit_logs += audit_logs
            purged.organizations.append(organization_id)
    async with db.system_session() as session:
        purged.archived_records = await archive.purge(session, now)
    log.info(
        "retention: %d tickets and %d audit entries of %d organizations purged, %d archived records expired",
        purged.tickets,
        purged.audit_logs,
        len(purged.organizations),
        purged.archived_records,
    )
    return purged


async def _purge_tickets(organization_id: uuid.UUID, resolved_before: datetime, now: datetime) -> int:
    total = 0
    while True:
        async with db.system_session() as session:
            # Locked and re-checked: a ticket reopened meanwhile has lost its resolved_at and stays.
            ids = list(
                await session.scalars(
                    select(Ticket.id)
                    .where(
                        Ticket.organization_id == organization_id,
                        Ticket.resolved_at < resolved_before,
                        Ticket.status.in_(("resolved", "closed")),
                    )
                    .order_by(Ticket.resolved_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return total
            await archive.archive(session, organization_id, "ticket", ids, "retention", now)
            await session.execute(delete(Ticket).where(Ticket.id.in_(ids)))  # messages and the rest cascade
            total += len(ids)


async def _purge_audit_logs(organization_id: uuid.UUID, created_before: datetime) -> int:
    total = 0
    while True:
        async with db.system_session() as session:
            expired = (
                select(AuditLog.id)
                .where(
                    AuditLog.organization_id == organization_id,
                    AuditLog.created_at < created_before,
                )
                .limit(BATCH * 10)
            )
            result = await session.execute(delete(AuditLog).where(AuditLog.id.in_(expired)))
            total += result.rowcount
            if result.rowcount < BATCH * 10:
                return total
