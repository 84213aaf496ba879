"""Background jobs of the auth domain: failed-login counts that lock nothing any more are deleted hourly."""

import procrastinate

from supportdesk import db
from supportdesk.auth.throttle import forget_expired
from supportdesk.jobs import QUEUE, app

__all__ = ["app"]


@app.periodic(cron="41 * * * *", periodic_id="forget-expired-login-failures")
@app.task(name="forget_expired_login_failures", queue=QUEUE, pass_context=True)
async def forget_expired_login_failures(context: procrastinate.JobContext, timestamp: int) -> None:
    async with db.system_session() as session:
        await forget_expired(session)
