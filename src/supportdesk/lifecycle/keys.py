"""The key files of the backups (age: age-encryption.org): written whole or not at all, and read with an
error that says what is wrong."""

import os
from pathlib import Path

import pyrage

from supportdesk.lifecycle import BackupError


def new_identity(path: Path) -> pyrage.x25519.Identity:
    identity = pyrage.x25519.Identity.generate()
    write_whole(
        path,
        "# The private key that decrypts supportdesk's backups: keep it away from them, and safe.\n"
        f"# public key: {identity.to_public()}\n{identity}\n",
        mode=0o600,
    )
    return read_identity(path)  # another process starting at the same time may have written its own first


def write_whole(path: Path, content: str, mode: int) -> None:
    """Write a file that is either absent or complete, never replacing one that exists."""
    written = path.with_name(f".{path.name}.{os.getpid()}")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with os.fdopen(os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "w") as file:
        file.write(content)
    try:
        os.link(written, path)
    except FileExistsError:
        pass
    finally:
        written.unlink()


def write_replacing(path: Path, content: str) -> None:
    """Write a file that is either absent or complete."""
    written = path.with_name(f".{path.name}.{os.getpid()}")
    written.write_text(content)
    written.replace(path)


def read_identity(path: Path) -> pyrage.x25519.Identity:
    if not path.exists():
        raise BackupError(f"no identity file {path}: give the backups' private key with --identity")
    try:
        (key,) = [
            line.strip() for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-")
        ]
        return pyrage.x25519.Identity.from_str(key)
    except (OSError, ValueError, pyrage.IdentityError) as error:
        raise BackupError(f"{path}: not an age identity file ({error})") from None
