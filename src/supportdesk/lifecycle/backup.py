"""Backups of the embedded PostgreSQL (PRODUCT.md): a full backup daily, the transaction log (WAL)
archived as each segment fills and at least every 15 minutes, both kept 30 days and encrypted at rest.
Restores are `restore.py`'s.

The backup directory (SUPPORTDESK_BACKUP_DIR, default `<data dir>-backups` beside the data directory):

    base/<time>.tar.age     a full backup (pg_basebackup, tar), taken daily, by `supportdesk backup`, and
                            when a server starts on a history that has none (a new install, a restore)
    base/<time>.json        when it finished, the history it is of, and the WAL segment a restore from it
                            starts at; written last: a backup without one did not finish
    wal/<segment>.age       the archived WAL since the oldest full backup kept
    outbox/<segment>        a segment the server has just archived, until it is encrypted into wal/
    replaced-<time>/        base/ and wal/ as they were before a restore (restores from them: --from)
    recipient.txt           the public key everything here is encrypted to

base/ and wal/ follow one history: a restore moves them aside and starts them anew, with a full backup
of what it restored. (PostgreSQL gives a restored server a new timeline; an archive of one timeline
needs no reasoning about which backup and segments belong to which history.) A history's WAL restores
nothing without a full backup of it to replay onto: a server starting on one the archive has none of
(a new install, a restore that could not take its own) takes one in the background (`take_first`).

The server's archive_command only copies a segment into the outbox, complete or not at all (`.copying`
until then); a job encrypts what is there every minute, and so does a process stopping the server. It
is the server's own system user that runs the command, and that user may not be able to run this
program (pgserver, started by root, runs PostgreSQL as a user of its own, who cannot reach a Python
installed under /root).

Everything is encrypted with age (age-encryption.org) to a public key: SUPPORTDESK_BACKUP_RECIPIENT, or
else one generated once, its private key written beside the data directory
(`<data dir>-backup-identity.txt`) for the operator to move somewhere safe: the server never needs it,
only a restore does.

A server given by DATABASE_URL is backed up by its own operator's tools (pgBackRest, barman, a managed
service's point-in-time recovery); these commands refuse to act on it.
"""

import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import psycopg
import pyrage

from supportdesk.config import get_settings
from supportdesk.lifecycle import BackupError
from supportdesk.lifecycle.keys import new_identity, read_identity, write_replacing, write_whole
from supportdesk.lifecycle.postgres import chown, embedded_server_uri, program

log = logging.getLogger(__name__)

KEEP_DAYS = 30
WAL_AT_LEAST_EVERY = "15min"  # archive_timeout: a quiet server still archives its last changes
COPYING = ".copying"  # a segment the archive_command is still copying into the outbox
TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
_SEALING = threading.Lock()  # see `seal`


@dataclass(frozen=True)
class History:
    """The database a backup is of and which of its timelines: the WAL it can be replayed with. A base
    backup (and so a restore) keeps the system identifier; a restore starts a new timeline."""

    system_identifier: str
    timeline: int


@dataclass(frozen=True)
class Backup:
    archive: Path  # base/<time>.tar.age
    manifest: Path  # base/<time>.json
    finished_at: datetime
    start_wal: str  # the first WAL segment a restore from it replays
    # None for a backup taken before manifests recorded it: of no known history, so never the current one
    history: History | None


@dataclass(frozen=True)
class Archive:
    """Full backups and the WAL since, along one history."""

    path: Path

    @property
    def base(self) -> Path:
        return self.path / "base"

    @property
    def wal(self) -> Path:
        return self.path / "wal"

    def backups(self) -> list[Backup]:
        """Oldest first."""
        found = []
        for manifest in self.base.glob("*.json"):
            data = json.loads(manifest.read_text())
            finished_at, start_wal = datetime.fromisoformat(data["finished_at"]), data["start_wal"]
            system_identifier = data.get("system_identifier")
            history = History(system_identifier, _timeline(start_wal)) if system_identifier else None
            found.append(Backup(manifest.with_suffix(".tar.age"), manifest, finished_at, start_wal, history))
        return sorted(found, key=lambda backup: backup.finished_at)

    def has_backup_of(self, history: History) -> bool:
        """Whether a restore of `history` can start here: its WAL alone restores nothing."""
        return any(backup.history == history for backup in self.backups())


@dataclass(frozen=True)
class Layout:
    root: Path
    identity: Path  # the generated key's file, when SUPPORTDESK_BACKUP_RECIPIENT is not set

    @property
    def archive(self) -> Archive:
        """The one backups go to now."""
        return Archive(self.root)

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def recipient(self) -> Path:
        return self.root / "recipient.txt"

    def replaced(self) -> list[Archive]:
        """The archives restores moved aside, oldest first."""
        return [Archive(path) for path in sorted(self.root.glob("replaced-*"))]


def layout() -> Layout:
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    root = (
        settings.backup_dir.resolve()
        if settings.backup_dir
        else data_dir.with_name(f"{data_dir.name}-backups")
    )
    return Layout(root, data_dir.with_name(f"{data_dir.name}-backup-identity.txt"))


def recipient() -> pyrage.x25519.Recipient:
    """The public key backups are encrypted to, kept with the backups (recipient.txt). Without one
    configured, a key pair is generated the first time, so the private half can be moved away."""
    configured = get_settings().backup_recipient
    paths = layout()
    if configured:
        key = pyrage.x25519.Recipient.from_str(configured)
        if not paths.recipient.exists() or paths.recipient.read_text().strip() != str(key):
            # kept with the backups, for commands run without the setting (`supportdesk backup`)
            paths.root.mkdir(mode=0o711, parents=True, exist_ok=True)
            write_replacing(paths.recipient, f"{key}\n")
        return key
    if not paths.recipient.exists():
        identity = read_identity(paths.identity) if paths.identity.exists() else new_identity(paths.identity)
        write_whole(paths.recipient, f"{identity.to_public()}\n", mode=0o644)
    return pyrage.x25519.Recipient.from_str(paths.recipient.read_text().strip())


def archive_settings() -> dict[str, str]:
    """The embedded server's WAL archiving settings (set by supportdesk.embedded at its start)."""
    if not get_settings().backups:
        return {"archive_mode": "off"}
    outbox = layout().outbox
    command = f'cp "%p" "{outbox}/%f{COPYING}" && mv "{outbox}/%f{COPYING}" "{outbox}/%f"'
    return {"archive_mode": "on", "archive_command": command, "archive_timeout": WAL_AT_LEAST_EVERY}


def prepare(server_user: str | None) -> None:
    """Make the backup directory; the outbox is the server's system user's (when it is not ours)."""
    paths = layout()
    for directory in (paths.archive.base, paths.archive.wal, paths.outbox):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.root.chmod(0o711)  # the server's user passes through to the outbox; nobody else lists it
    if server_user is not None:
        chown(paths.outbox, server_user)


def seal() -> int:
    """Encrypt the segments in the outbox into the archive and remove them; returns how many. The seals of
    one process take turns (the minute's job and a full backup's end met, in two threads, and wrote one
    file at once: a segment that did not decrypt). Safe beside another process's seal: each writes a
    file of its own and renames it into place, and a segment the other sealed and removed is skipped."""
    with _SEALING:
        paths = layout()
        outbox = sorted(paths.outbox.glob("*")) if paths.outbox.exists() else []
        segments = [segment for segment in outbox if segment.suffix != COPYING]  # whole ones only
        if not segments:
            return 0
        key = recipient()
        paths.archive.wal.mkdir(mode=0o700, parents=True, exist_ok=True)
        sealed = 0
        for segment in segments:
            target = paths.archive.wal / f"{segment.name}.age"
            if not target.exists():
                try:
                    plain = segment.open("rb")
                except FileNotFoundError:
                    continue  # another process sealed it meanwhile
                _encrypt_into(plain, target, key)
                sealed += 1
            segment.unlink(missing_ok=True)
        return sealed


def _encrypt_into(plain: BinaryIO, target: Path, key: pyrage.x25519.Recipient) -> None:
    """Encrypt into a file of its own, renamed to `target` once whole; removed if it is not (a full disk
    left one in wal/ at each failed attempt)."""
    with (
        plain,
        tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as file,
    ):
        try:
            pyrage.encrypt_io(plain, file, [key])
            file.flush()
            os.fsync(file.fileno())
        except BaseException:
            Path(file.name).unlink()
            raise
    Path(file.name).rename(target)


def take(now: datetime) -> Path:
    """A full backup of the embedded server, running here; then what no restore needs is pruned."""
    uri = _uri_to_back_up()
    archive = layout().archive
    archive.base.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = now.strftime(TIME_FORMAT)
    target, partial = archive.base / f"{name}.tar.age", archive.base / f".{name}.tar.age.partial"
    with psycopg.connect(uri, autocommit=True) as connection:
        _check_archiving(connection)
        history, start_wal = current_history(connection)
    try:
        _base_backup(uri, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finished = datetime.now(UTC)
    partial.rename(target)
    manifest = {
        "started_at": now.isoformat(),
        "finished_at": finished.isoformat(),
        "start_wal": start_wal,
        "system_identifier": history.system_identifier,
    }
    write_replacing(archive.base / f"{name}.json", json.dumps(manifest))  # last: the backup is whole
    seal()  # the backup's last segment, which pg_basebackup waited for
    log.info("backup %s: %d bytes in %.1f s", target, target.stat().st_size, (finished - now).total_seconds())
    prune(finished)
    return target


def take_first(now: datetime) -> Path | None:
    """A full backup unless the archive holds one of the server's current history (None then). Without
    one, nothing since the history began can be restored: a new install's, or a restore's that could not
    take its own, would wait for the daily backup while its WAL is archived for nothing."""
    with psycopg.connect(_uri_to_back_up(), autocommit=True) as connection:
        history, _ = current_history(connection)
    if layout().archive.has_backup_of(history):
        log.info("backup: the archive holds a full backup of this history (timeline %d)", history.timeline)
        return None
    return take(now)


def current_history(connection: psycopg.Connection) -> tuple[History, str]:
    """The server's history, and the WAL segment it writes now (its name starts with the timeline)."""
    system_identifier, segment = connection.execute(
        "SELECT system_identifier::text, pg_walfile_name(pg_current_wal_lsn()) FROM pg_control_system()"
    ).fetchone()
    return History(system_identifier, _timeline(segment)), segment


def _check_archiving(connection: psycopg.Connection) -> None:
    """Refuse a backup after which the server's WAL is not archived: no restore could replay it. A server
    archives only from the start after archive_mode was switched on, and one in use is not restarted for
    it (backups switched on while a worker runs, a new install started by several processes at once)."""
    (mode,) = connection.execute("SELECT current_setting('archive_mode')").fetchone()
    if mode != "on":
        raise BackupError(
            "the embedded PostgreSQL does not archive its WAL until it restarts (archive_mode takes a"
            " restart): stop every supportdesk process and start again; a full backup now could not be"
            " restored"
        )


def _timeline(segment: str) -> int:
    return int(segment[:8], 16)


def _uri_to_back_up() -> str:
    if not get_settings().backups:
        raise BackupError("backups are off (SUPPORTDESK_BACKUPS=0): the WAL is not archived")
    uri = embedded_server_uri()
    if uri is None:
        raise BackupError(
            "the database is not the embedded PostgreSQL running here: back up a server given by"
            " DATABASE_URL with its own tools"
        )
    return uri


class _Stream:
    """A stream pyrage reads, keeping what interrupted a read (Ctrl-C, SIGTERM's exit): pyrage reports it as
    an EncryptError naming it, and a stop told as an error left the command's traceback (and a restore's
    report unsaid)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.interrupted: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            return self.raw.read(size)
        except BaseException as error:
            self.interrupted = error
            raise


def _base_backup(uri: str, encrypted_to: Path) -> None:
    """pg_basebackup's tar of the server, encrypted into `encrypted_to` as it streams."""
    command = [program("pg_basebackup"), "--dbname", uri, "--pgdata", "-", "--format", "tar"]
    # No WAL inside: the archive has it, and pg_basebackup waits until the backup's last segment is there.
    command += ["--wal-method", "none", "--checkpoint", "fast"]
    with tempfile.TemporaryFile() as errors, encrypted_to.open("wb") as encrypted:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        stream = _Stream(process.stdout)
        try:
            pyrage.encrypt_io(stream, encrypted, [recipient()])
        except BaseException as error:
            process.kill()
            if stream.interrupted is not None and stream.interrupted is not error:
                raise stream.interrupted from None
            raise
        finally:
            process.wait()
        if process.returncode != 0:
            errors.seek(0)
            raise BackupError(f"pg_basebackup failed: {errors.read().decode(errors='replace').strip()}")


def prune(now: datetime) -> None:
    """Forget what no restore to the last KEEP_DAYS needs: the full backups before the newest one that
    finished before them, the WAL only those needed, and the archives moved aside by restores before."""
    paths = layout()
    cutoff = now - timedelta(days=KEEP_DAYS)
    kept = paths.archive.backups()
    while len(kept) > 1 and kept[1].finished_at <= cutoff:
        expired = kept.pop(0)
        expired.archive.unlink()
        expired.manifest.unlink()
    if kept:
        command = [program("pg_archivecleanup"), "-x", ".age", str(paths.archive.wal), kept[0].start_wal]
        subprocess.run(command, check=True, capture_output=True)
    for replaced in paths.replaced():
        moved_at = datetime.strptime(replaced.path.name.removeprefix("replaced-"), TIME_FORMAT).replace(
            tzinfo=UTC
        )
        if moved_at <= cutoff:
            shutil.rmtree(replaced.path)
