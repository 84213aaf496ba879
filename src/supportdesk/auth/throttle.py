"""Password guessing is throttled: after MAX_FAILURES wrong passwords for one email, each less than
WINDOW after the one before, that email's logins are refused (429 `too_many_login_attempts`, with
Retry-After) without checking the password, until WINDOW has passed since the last failure. A correct
password clears the count.

Counted per email whether or not an account has it, so a refusal says nothing about which emails
exist; the email is stored as its SHA-256 only. Each failure is counted by one upsert in a transaction
of its own (the login's own transaction rolls back with its error), so parallel guesses are all
counted; guesses already checking their password when the limit is reached still get their answer,
so a burst can pass the limit by the number of guesses in flight.
"""

import hashlib
import math
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db
from supportdesk.errors import DomainError

# Far more than a person mistyping ever reaches; an online guesser gets under 2,000 guesses a day.
MAX_FAILURES = 20
WINDOW = timedelta(minutes=15)

_SECONDS_LOCKED = text(
    "SELECT extract(epoch FROM last_failed_at + :window - now()) FROM login_failures"
    " WHERE email_hash = :key AND failures >= :max AND last_failed_at > now() - :window"
)
_RECORD_FAILURE = text(
    "INSERT INTO login_failures (email_hash, failures, last_failed_at) VALUES (:key, 1, now())"
    " ON CONFLICT (email_hash) DO UPDATE SET last_failed_at = now(), failures = CASE"
    " WHEN login_failures.last_failed_at > now() - :window THEN login_failures.failures + 1 ELSE 1 END"
)


def email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


async def refuse_if_locked(session: AsyncSession, key: str) -> None:
    """Raise `too_many_login_attempts` while the email is locked out (`session` in system mode)."""
    seconds = await session.scalar(_SECONDS_LOCKED, {"key": key, "window": WINDOW, "max": MAX_FAILURES})
    if seconds is not None:
        retry_after = max(1, math.ceil(seconds))
        raise DomainError(
            "too_many_login_attempts",
            f"too many wrong passwords for this email; try again in {retry_after} s",
            retry_after=retry_after,
        )


async def record_failure(key: str) -> None:
    async with db.system_session() as session:
        await session.execute(_RECORD_FAILURE, {"key": key, "window": WINDOW})


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(text("DELETE FROM login_failures WHERE email_hash = :key"), {"key": key})


async def forget_expired(session: AsyncSession) -> int:
    """Delete the counts that no longer lock anything; returns how many (`session` in system mode)."""
    result = await session.execute(
        text("DELETE FROM login_failures WHERE last_failed_at <= now() - :window"), {"window": WINDOW}
    )
    return result.rowcount
