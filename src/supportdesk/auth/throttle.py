"""Password guessing is throttled, per email and the address guessing, and per email from anywhere:
after MAX_FAILURES wrong passwords for one email from one address, or MAX_FAILURES_PER_EMAIL from any
addresses, each less than WINDOW after the one before, those logins are refused (429
`too_many_login_attempts`, with Retry-After) without checking the password, until WINDOW has passed since
the last failure. A correct password clears both counts.

The address is what keeps a guesser from locking the account's owner out: one address's guesses lock
that address only; it takes guesses from many (MAX_FAILURES_PER_EMAIL, five addresses' worth) to lock
the email everywhere. An address counts toward the email's count for its first MAX_FAILURES failures
only: a burst of guesses from one address, however many it has in flight, never locks the owner out.
Behind a reverse proxy, the server must see the client's address (uvicorn takes it from X-Forwarded-For
when the proxy's address is in FORWARDED_ALLOW_IPS, 127.0.0.1 and ::1 by default).

Counted per email whether or not an account has it, so a refusal says nothing about which emails
exist; only SHA-256 digests are stored (of the email, and of the email with the address). Every attempt
is counted before its password is checked, as a failure until a right password clears the counts: one
upsert that counts it unless the count is at its limit, committed before the check, so the limit is
exact however many guesses arrive at once (the 21st of a burst is refused unchecked; before, when a
failure was counted after its check, 100 parallel guesses from one address were all checked).
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.errors import DomainError

# Far more than a person mistyping ever reaches; an online guesser gets under 2,000 guesses a day from
# one address, under 10,000 from any number.
MAX_FAILURES = 20
MAX_FAILURES_PER_EMAIL = 100
WINDOW = timedelta(minutes=15)

# (Table `login_failures`, column `email_hash`: a key's digest, of an email alone or with an address;
# `last_failed_at`: when the last attempt was counted.)


def _count_unless_at(limit: str) -> str:
    """The upsert's conflict clause: one more within WINDOW, 1 after it, nothing (the row only locked,
    as a refusal) while the count is at `limit` within WINDOW."""
    return (
        " ON CONFLICT (email_hash) DO UPDATE SET last_failed_at = now(), failures = CASE"
        " WHEN login_failures.last_failed_at > now() - :window THEN login_failures.failures + 1 ELSE 1 END"
        f" WHERE login_failures.last_failed_at <= now() - :window OR login_failures.failures < {limit}"
    )


# Racing attempts take the address's row, then the email's, one after another: each sees the count the
# one before left. The email's count grows only with an attempt this address's count took, so with its
# first MAX_FAILURES at most. A count that is NULL was at its limit: the attempt is refused.
_COUNT_ATTEMPT = text(
    "WITH here AS (INSERT INTO login_failures (email_hash, failures, last_failed_at)"
    f" VALUES (:here, 1, now()) {_count_unless_at(':max')} RETURNING failures),"
    " anywhere AS (INSERT INTO login_failures (email_hash, failures, last_failed_at)"
    f" SELECT :anywhere, 1, now() FROM here {_count_unless_at(':max_anywhere')} RETURNING failures)"
    " SELECT (SELECT failures FROM here) AS here, (SELECT failures FROM anywhere) AS anywhere"
)
_SECONDS_LOCKED = text(
    "SELECT extract(epoch FROM last_failed_at + :window - now()) FROM login_failures WHERE email_hash = :key"
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


async def count_attempt(session: AsyncSession, key: Keys) -> None:
    """Count a login attempt as a failure, before its password is checked, or raise
    `too_many_login_attempts` and count nothing (the raise rolls `session`, in system mode, back). The
    count must be committed before the check, for racing attempts to see it."""
    counted = (
        await session.execute(
            _COUNT_ATTEMPT, _values(key) | {"max": MAX_FAILURES, "max_anywhere": MAX_FAILURES_PER_EMAIL}
        )
    ).one()
    if counted.here is None or counted.anywhere is None:
        locked = key.here if counted.here is None else key.anywhere
        seconds = await session.scalar(_SECONDS_LOCKED, {"key": locked, "window": WINDOW})
        retry_after = max(1, math.ceil(seconds or 0))
        raise DomainError(
            "too_many_login_attempts",
            f"too many wrong passwords for this email; try again in {retry_after} s",
            retry_after=retry_after,
        )


async def clear(session: AsyncSession, key: Keys) -> None:
    """After a right password (`session` in system mode). The address's row first, as an attempt takes
    them: two transactions taking both in opposite orders could deadlock."""
    for email_hash in (key.here, key.anywhere):
        await session.execute(text("DELETE FROM login_failures WHERE email_hash = :key"), {"key": email_hash})


async def forget_expired(session: AsyncSession) -> int:
    """Delete the counts that no longer lock anything; returns how many (`session` in system mode)."""
    result = await session.execute(
        text("DELETE FROM login_failures WHERE last_failed_at <= now() - :window"), {"window": WINDOW}
    )
    return result.rowcount
