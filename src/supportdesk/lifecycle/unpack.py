"""Reading a backup back for a restore: a full backup decrypted and unpacked into a data directory, and the
WAL after it decrypted, in order, into a staging directory for the replay."""

import shutil
import tarfile
import tempfile
from pathlib import Path

import pyrage

from supportdesk.lifecycle import BackupError
from supportdesk.lifecycle.backup import Archive, Backup


def unpack(archive: Path, identities: list[pyrage.x25519.Identity], data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    with tempfile.TemporaryFile(dir=data_dir.parent) as tar, archive.open("rb") as encrypted:
        try:
            pyrage.decrypt_io(encrypted, tar, identities)
        except pyrage.DecryptError as error:
            if "No matching keys" in str(error):
                raise BackupError(
                    f"the full backup {archive.name}: none of the identities given decrypts it (--identity)"
                ) from None
            raise BackupError(f"the full backup {archive.name}: damaged ({error})") from None
        except OSError as error:  # what pyrage says of a truncated or altered file: "decryption error"
            raise BackupError(
                f"the full backup {archive.name}: cannot be read back ({error}): damaged, or no room for it"
            ) from None
        tar.seek(0)
        with tarfile.open(fileobj=tar) as contents:
            contents.extractall(data_dir, filter="tar")
    # What the server the backup is of had, not this one's: pgserver's count of the processes using it, the
    # lock of its socket (pgserver keeps it in the data directory: naming a live server, another install's
    # or the one replaced if it runs again, it stops this one starting) and its log (a failed replay's
    # error quoted its old lines).
    for name in (".handle_pids.json", "log", *(path.name for path in data_dir.glob(".s.PGSQL.*"))):
        (data_dir / name).unlink(missing_ok=True)


def stage_wal(
    archive: Archive, backup: Backup, identities: list[pyrage.x25519.Identity], staging: Path
) -> str | None:
    """Decrypt the backup's timeline history (which names its ancestors) and, in order from the backup's
    first one, the WAL segments of its timeline into `staging`; returns what stopped them short, if
    anything: a segment missing, or that cannot be decrypted, before the archive's last. Other timelines'
    histories are left out: the replay follows the backup's (a history of another server that reached
    this archive would otherwise be taken for the latest, and refused as no child of this one's)."""
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    archived = {path.name.removesuffix(".age"): path for path in archive.wal.glob("*.age")}
    timeline, first = backup.start_wal[:8], _number(backup.start_wal)
    if f"{timeline}.history" in archived:
        (staging / f"{timeline}.history").write_bytes(decrypt(archived[f"{timeline}.history"], identities))
    numbers = [_number(name) for name in archived if len(name) == 24 and name.startswith(timeline)]
    for number in range(first, max(numbers, default=first - 1) + 1):
        name = f"{timeline}{number >> 8:08X}{number & 0xFF:08X}"
        if name not in archived:
            return f"the archive lacks the WAL segment {name}"
        try:
            (staging / name).write_bytes(pyrage.decrypt(archived[name].read_bytes(), identities))
        except pyrage.DecryptError:
            return f"the WAL segment {archived[name]} cannot be decrypted (damaged, or another key's)"
    return None


def _number(segment: str) -> int:
    """A WAL segment's place in the log (16 MB segments: 256 to each of the name's log numbers)."""
    return (int(segment[8:16], 16) << 8) + int(segment[16:24], 16)


def decrypt(path: Path, identities: list[pyrage.x25519.Identity]) -> bytes:
    try:
        return pyrage.decrypt(path.read_bytes(), identities)
    except pyrage.DecryptError:
        raise BackupError(f"{path}: none of the identities given decrypts it (--identity)") from None
