"""Background jobs of the sla domain: the breach scan every minute, the counter self-check every ten."""

from datetime import UTC, datetime

import procrastinate

from supportdesk import db
from supportdesk.jobs import CLOCK_QUEUE, app
from supportdesk.sla.selfcheck import repair_ticket_counts
from supportdesk.sla.service import scan_breaches

__all__ = ["app"]


@app.periodic(cron="* * * * *", periodic_id="sla-breach-scan")
@app.task(name="scan_sla_breaches", queue=CLOCK_QUEUE, pass_context=True)
async def scan_sla_breaches(context: procrastinate.JobContext, timestamp: int) -> None:
    # The real time, not the tick's: a late run still sees every deadline that has come.
    await scan_breaches(db.system_session, datetime.now(UTC))


@app.periodic(cron="*/10 * * * *", periodic_id="ticket-count-self-check")
@app.task(name="check_ticket_counts", queue=CLOCK_QUEUE, pass_context=True)
async def check_ticket_counts(context: procrastinate.JobContext, timestamp: int) -> None:
    async with db.system_session() as session:
        await repair_ticket_counts(session)
