"""Password guessing is throttled, per email and the address guessing, and per email from anywhere:
after MAX_FAILURES wrong passwords for one email from one address, or MAX_FAILURES_PER_EMAIL from any
addresses, each less than WINDOW after the one before, those logins are refused (429
`too_many_login_attempts`, with Retry-After) without checking the password, until WINDOW has passed since
the last failure. A correct password clears both counts.

The address is what keeps a guesser from locking the account's owner out: one address's guesses lock
that address only; it takes guesses from many (MAX_FAILURES_PER_EMAIL, five addresses' worth) to lock
the email everywhere. An address counts toward the email's count for its first MAX_FAILURES failures
only: a burst of guesses from one address, however many it has in flight past the limit, never locks
the owner out (before, 600 at once counted 163 toward it and locked the email everywhere). Behind a reverse
proxy, the server must see the client's address (uvicorn takes it from X-Forwarded-For when the proxy's
address is in FORWARDED_ALLOW_IPS, 127.0.0.1 and ::1 by default).

Counted per email whether or not an account has it, so a refusal says nothing about which emails
exist; only SHA-256 digests are stored (of the email, and of the email with the address). Each failure
is counted by one upsert in a transaction of its own (the login's own transaction rolls back with its
error), so parallel guesses are all counted; guesses already checking their password when the limit is
reached still get their answer, so a burst can pass the limit by the number of guesses in flight.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db
from supportdesk.errors import DomainError

# Far more than a person mistyping ever reaches; an online guesser gets under 2,000 guesses a day from
# one address, under 10,000 from any number.
MAX_FAILURES = 20
MAX_FAILURES_PER_EMAIL = 100
WINDOW = timedelta(minutes=15)

# (Table `login_failures`, column `email_hash`: a key's digest, of an email alone or with an address.)
_SECONDS_LOCKED = text(
    "SELECT max(extract(epoch FROM last_failed_at + :window - now())) FROM login_failures"
    " WHERE last_failed_at > now() - :window"
    " AND (email_hash = :here AND failures >= :max"
    " OR email_hash = :anywhere AND failures >= :max_anywhere)"
)
_COUNT_FAILURE = (
    " ON CONFLICT (email_hash) DO UPDATE SET last_failed_at = now(), failures = CASE"
    " WHEN login_failures.last_failed_at > now() - :window THEN login_failures.failures + 1 ELSE 1 END"
)
# The email's count from anywhere grows with this address's first MAX_FAILURES only (racing failures
# take the address's row one after another: each sees its own count).
_RECORD_FAILURE = text(
    "WITH here AS (INSERT INTO login_failures (email_hash, failures, last_failed_at)"
    f" VALUES (:here, 1, now()) {_COUNT_FAILURE} RETURNING failures)"
    " INSERT INTO login_failures (email_hash, failures, last_failed_at)"
    f" SELECT :anywhere, 1, now() FROM here WHERE here.failures <= :max {_COUNT_FAILURE}"
)


@dataclass(frozen=True)
class Keys:
    here: str  # the email from this address
    anywhere: str  # the email from any address


def keys(email: str, address: str | None) -> Keys:
    email = email.strip().lower()
    return Keys(
        here=hashlib.sha256(f"{email}\n{address or ''}".encode()).hexdigest(),
        anywhere=hashlib.sha256(email.encode()).hexdigest(),
    )


def _values(key: Keys) -> dict:
    return {"here": key.here, "anywhere": key.anywhere, "window": WINDOW}


async def refuse_if_locked(session: AsyncSession, key: Keys) -> None:
    """Raise `too_many_login_attempts` while the email is locked out here (`session` in system mode)."""
    seconds = await session.scalar(
        _SECONDS_LOCKED, _values(key) | {"max": MAX_FAILURES, "max_anywhere": MAX_FAILURES_PER_EMAIL}
    )
    if seconds is not None:
        retry_after = max(1, math.ceil(seconds))
        raise DomainError(
            "too_many_login_attempts",
            f"too many wrong passwords for this email; try again in {retry_after} s",
            retry_after=retry_after,
        )


async def record_failure(key: Keys) -> None:
    async with db.system_session() as session:
        await session.execute(_RECORD_FAILURE, _values(key) | {"max": MAX_FAILURES})


async def clear(session: AsyncSession, key: Keys) -> None:
    await session.execute(
        text("DELETE FROM login_failures WHERE email_hash IN (:here, :anywhere)"), _values(key)
    )


async def forget_expired(session: AsyncSession) -> int:
    """Delete the counts that no longer lock anything; returns how many (`session` in system mode)."""
    result = await session.execute(
        text("DELETE FROM login_failures WHERE last_failed_at <= now() - :window"), {"window": WINDOW}
    )
    return result.rowcount
