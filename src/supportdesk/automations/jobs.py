"""Background jobs of the automations domain: every few minutes, every rule over every organization.

Once per period however many workers run (procrastinate's periodic lock), and safe if two runs
overlap anyway: the rules lock the tickets they change with SKIP LOCKED and re-check under the lock.
One job runs the rules in order, so a ticket due on several at once meets them in that order.
"""

from datetime import UTC, datetime

from supportdesk.automations import service
from supportdesk.jobs import CLOCK_QUEUE, app


@app.periodic(cron="*/5 * * * *", periodic_id="run-automations")
@app.task(name="run_automations", queue=CLOCK_QUEUE)
async def run_automations(timestamp: int) -> None:
    # The real clock, not the tick's: a retried run acts on what is due when it runs.
    await service.run_all(datetime.now(UTC))
