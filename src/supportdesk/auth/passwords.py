"""Argon2id password hashes; hashing runs in a worker thread so it never stalls the event loop."""

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the email is unknown, so that a miss costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("supportdesk-timing-equaliser")
# Each hash takes 64 MiB and a core for tens of milliseconds: a few at once use the cores, and a flood of
# logins waits here rather than taking a thread and its memory each.
_HASHING = CapacityLimiter(4)


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_hasher.hash, password, limiter=_HASHING)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await to_thread.run_sync(verify, limiter=_HASHING)
