"""Backups of the embedded PostgreSQL (PRODUCT.md): a full backup daily, the transaction log (WAL)
archived as each segment fills and at least every 15 minutes, both kept 30 days and encrypted at rest;
and a restore to any point in time of those 30 days (`supportdesk restore --to TIME`).

The backup directory (SUPPORTDESK_BACKUP_DIR, default `<data dir>-backups` beside the data directory):

    base/<time>.tar.age   a full backup (pg_basebackup, tar), taken by the daily job or `supportdesk backup`
    base/<time>.json      when it started and finished, and where in the WAL (timeline, positions)
    wal/<segment>.age     the archived WAL, and each timeline's history (a restore starts a new timeline)
    outbox/<segment>      a segment the server has just archived, until a job encrypts it into wal/
    recipient.txt         the public key everything here is encrypted to

The server's archive_command only copies a segment into the outbox (complete, or not at all); a job
encrypts what is there every minute, and so does a process stopping the server. It is the server's own
system user that runs the command, and that user may not be able to run this program (pgserver, started
by root, runs PostgreSQL as a user of its own, who cannot reach a Python installed under /root).

Everything is encrypted with age (age-encryption.org) to a public key: SUPPORTDESK_BACKUP_RECIPIENT, or
else one generated once, its private key written beside the data directory
(`<data dir>-backup-identity.txt`) for the operator to move somewhere safe: the server never needs it,
only a restore does (`--identity`, as many as the backups were encrypted to over time).

A server given by DATABASE_URL is backed up by its own operator's tools (pgBackRest, barman, a managed
service's point-in-time recovery); these commands refuse to act on it.
"""

import fcntl
import json
import logging
import os
import pwd
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import psycopg
import pyrage
from psycopg.conninfo import conninfo_to_dict

from supportdesk import db, embedded
from supportdesk.config import get_settings

log = logging.getLogger(__name__)

KEEP_DAYS = 30
WAL_AT_LEAST_EVERY = "15min"  # archive_timeout: a quiet server still archives its last changes
RECOVERY_SETTINGS = ("restore_command", "recovery_target_time", "recovery_target_action")
TARGET_NOT_REACHED = "recovery ended before configured recovery target was reached"


class BackupError(Exception):
    """A backup or restore that cannot be done, with a reason an operator can act on."""


@dataclass(frozen=True)
class Layout:
    root: Path
    identity: Path  # the generated key's file, when SUPPORTDESK_BACKUP_RECIPIENT is not set

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def wal(self) -> Path:
        return self.root / "wal"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def recipient(self) -> Path:
        return self.root / "recipient.txt"


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
    """The public key backups are encrypted to. Without one configured, a key pair is generated the first
    time; its public half is kept with the backups, so the private half can be moved away."""
    configured = get_settings().backup_recipient
    paths = layout()
    if configured:
        return pyrage.x25519.Recipient.from_str(configured)
    if not paths.recipient.exists():
        identity = read_identity(paths.identity) if paths.identity.exists() else _new_identity(paths.identity)
        _write_whole(paths.recipient, f"{identity.to_public()}\n", mode=0o644)
    return pyrage.x25519.Recipient.from_str(paths.recipient.read_text().strip())


def _new_identity(path: Path) -> pyrage.x25519.Identity:
    identity = pyrage.x25519.Identity.generate()
    _write_whole(
        path,
        "# The private key that decrypts supportdesk's backups: keep it away from them, and safe.\n"
        f"# public key: {identity.to_public()}\n{identity}\n",
        mode=0o600,
    )
    return read_identity(path)  # another process starting at the same time may have written its own first


def _write_whole(path: Path, content: str, mode: int) -> None:
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


def read_identity(path: Path) -> pyrage.x25519.Identity:
    try:
        (key,) = [
            line.strip() for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-")
        ]
        return pyrage.x25519.Identity.from_str(key)
    except (OSError, ValueError, pyrage.IdentityError) as error:
        raise BackupError(f"{path}: not an age identity file ({error})") from None


def archive_settings() -> dict[str, str]:
    """The embedded server's WAL archiving settings (set by supportdesk.embedded at its start)."""
    if not get_settings().backups:
        return {"archive_mode": "off"}
    outbox = layout().outbox
    command = f'cp "%p" "{outbox}/%f.partial" && mv "{outbox}/%f.partial" "{outbox}/%f"'
    return {"archive_mode": "on", "archive_command": command, "archive_timeout": WAL_AT_LEAST_EVERY}


def prepare(server_user: str | None) -> None:
    """Make the backup directory; the outbox is the server's system user's (when it is not ours)."""
    paths = layout()
    for directory in (paths.base, paths.wal, paths.outbox):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if server_user is not None:
        _chown(paths.outbox, server_user)


def seal() -> int:
    """Encrypt the segments in the outbox into wal/ and remove them; returns how many. Safe to run twice
    at once: each writes a file of its own and renames it into place."""
    paths = layout()
    sealed = 0
    for segment in sorted(paths.outbox.glob("*")) if paths.outbox.exists() else []:
        if segment.suffix == ".partial":
            continue  # still being copied
        target = paths.wal / f"{segment.name}.age"
        if not target.exists():
            written = paths.wal / f".{segment.name}.{os.getpid()}.partial"
            with segment.open("rb") as plain, written.open("wb") as encrypted:
                pyrage.encrypt_io(plain, encrypted, [recipient()])
                encrypted.flush()
                os.fsync(encrypted.fileno())
            written.rename(target)
            sealed += 1
        segment.unlink(missing_ok=True)
    return sealed


def take(now: datetime) -> Path:
    """A full backup of the embedded server, running here; then backups past KEEP_DAYS are pruned."""
    if not get_settings().backups:
        raise BackupError("backups are off (SUPPORTDESK_BACKUPS=0): the WAL is not archived")
    uri = embedded_server_uri()
    if uri is None:
        raise BackupError(
            "the database is not the embedded PostgreSQL running here: back up a server given by"
            " DATABASE_URL with its own tools"
        )
    paths = layout()
    name = now.strftime("%Y%m%dT%H%M%S%fZ")
    target, partial = paths.base / f"{name}.tar.age", paths.base / f".{name}.tar.age.partial"
    command = [_program("pg_basebackup"), "--dbname", uri, "--pgdata", "-", "--format", "tar"]
    # No WAL inside: the archive has it, and pg_basebackup waits until the backup's last segment is there.
    command += ["--wal-method", "none", "--checkpoint", "fast"]
    with psycopg.connect(uri, autocommit=True) as connection:
        start_wal, start_lsn = _wal_position(connection)
        with tempfile.TemporaryFile() as errors, partial.open("wb") as encrypted:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
            assert process.stdout is not None
            pyrage.encrypt_io(process.stdout, encrypted, [recipient()])
            if process.wait() != 0:
                errors.seek(0)
                partial.unlink()
                raise BackupError(f"pg_basebackup failed: {errors.read().decode(errors='replace').strip()}")
        _, end_lsn = _wal_position(connection)
    partial.rename(target)
    seal()  # the backup's last segment, which pg_basebackup waited for
    finished = datetime.now(UTC)
    manifest = {
        "started_at": now.isoformat(),
        "finished_at": finished.isoformat(),
        "start_wal": start_wal,
        "timeline": int(start_wal[:8], 16),
        "start_lsn": start_lsn,
        "end_lsn": end_lsn,
    }
    target.with_name(f"{name}.json").write_text(json.dumps(manifest))
    log.info("backup %s: %d bytes in %.1f s", target, target.stat().st_size, (finished - now).total_seconds())
    prune(finished)
    return target


def _wal_position(connection: psycopg.Connection) -> tuple[str, int]:
    """The current WAL segment's name and the position in the WAL, as a number."""
    name, position = connection.execute(
        "SELECT pg_walfile_name(pg_current_wal_lsn()), pg_current_wal_lsn() - '0/0'"
    ).fetchone()
    return name, int(position)


@dataclass(frozen=True)
class Backup:
    archive: Path  # <time>.tar.age
    manifest: Path  # <time>.json
    finished_at: datetime
    start_wal: str
    timeline: int
    end_lsn: int


def backups() -> list[Backup]:
    """The full backups, oldest first."""
    found = []
    for manifest in layout().base.glob("*.json"):
        data = json.loads(manifest.read_text())
        found.append(
            Backup(
                manifest.with_suffix(".tar.age"),
                manifest,
                datetime.fromisoformat(data["finished_at"]),
                data["start_wal"],
                data["timeline"],
                data["end_lsn"],
            )
        )
    return sorted(found, key=lambda backup: backup.finished_at)


def prune(now: datetime) -> None:
    """Forget the full backups no restore to the last KEEP_DAYS needs (the newest one finished before
    them stays: a restore to their first moment starts from it), and the WAL only they needed."""
    kept = backups()
    cutoff = now - timedelta(days=KEEP_DAYS)
    while len(kept) > 1 and kept[1].finished_at <= cutoff:
        expired = kept.pop(0)
        expired.archive.unlink()
        expired.manifest.unlink()
    if kept:
        subprocess.run(
            [_program("pg_archivecleanup"), "-x", ".age", str(layout().wal), kept[0].start_wal], check=True
        )


@dataclass(frozen=True)
class Restored:
    backup: Backup
    replaced: Path | None  # where the data directory it replaced was moved
    reached: datetime | None  # the time of the last transaction replayed
    target_reached: bool  # False: the archive ends before the time asked for, restored to its end


def restore(to: datetime | None, identity_files: list[Path]) -> Restored:
    """Replace the embedded server's data with its state at `to` (None: the latest archived), from the
    newest full backup before it on the history the archive leads to, and the archived WAL. The server
    must be stopped, and one restore runs at a time. The data replaced is moved aside, never deleted; a
    failed restore puts it back."""
    settings = get_settings()
    if settings.database_url:
        raise BackupError("DATABASE_URL is set: restore that server with its own tools")
    data_dir = settings.data_dir.resolve()
    with _restoring(data_dir):
        if _postmaster(data_dir) is not None:
            raise BackupError("the embedded PostgreSQL is running: stop supportdesk (serve, workers) first")
        identities = [read_identity(path) for path in identity_files]
        seal()  # what the server archived last
        backup = _backup_for(to, identities)
        replaced = None
        if data_dir.exists():
            replaced = data_dir.with_name(f"{data_dir.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")
            data_dir.rename(replaced)
        try:
            try:
                reached, target_reached = _rebuild(data_dir, backup, identities, to), True
            except _TargetNotReached:  # the archive ends before `to`: to its end, then
                shutil.rmtree(data_dir)
                reached, target_reached = _rebuild(data_dir, backup, identities, None), False
        except BaseException:
            shutil.rmtree(data_dir, ignore_errors=True)
            if replaced is not None:
                replaced.rename(data_dir)
            raise
        finally:
            seal()  # what the restored server archived (its new timeline's history)
    return Restored(backup, replaced, reached, target_reached)


@contextmanager
def _restoring(data_dir: Path) -> Iterator[None]:
    lock = data_dir.with_name(f".{data_dir.name}-restore.lock")
    with lock.open("w") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError("another restore of this data directory is running") from None
        yield


def _backup_for(to: datetime | None, identities: list[pyrage.x25519.Identity]) -> Backup:
    """The newest full backup finished before `to` on the latest timeline's history: taken on that
    timeline, or on one of its ancestors before it branched off (not on a history a restore left)."""
    latest, branched_at = _history(identities)
    usable = [
        backup
        for backup in backups()
        if (to is None or backup.finished_at <= to)
        and (backup.timeline == latest or backup.end_lsn <= branched_at.get(backup.timeline, -1))
    ]
    if not usable:
        raise BackupError(f"no full backup finished before {to or 'now'} in {layout().base}")
    return usable[-1]


def _history(identities: list[pyrage.x25519.Identity]) -> tuple[int, dict[int, int]]:
    """The latest timeline, and {each of its ancestors: the WAL position where it branched off} (the
    latest timeline's history file lists them all)."""
    histories = sorted(layout().wal.glob("*.history.age"))
    if not histories:
        return 1, {}
    branched_at = {}
    for line in _decrypt(histories[-1], identities).decode().splitlines():
        fields = line.split()
        if fields and not line.startswith("#"):
            high, low = fields[1].split("/")
            branched_at[int(fields[0])] = (int(high, 16) << 32) + int(low, 16)
    return int(histories[-1].name[:8], 16), branched_at


def _decrypt(path: Path, identities: list[pyrage.x25519.Identity]) -> bytes:
    try:
        return pyrage.decrypt(path.read_bytes(), identities)
    except pyrage.DecryptError:
        raise BackupError(f"{path}: none of the identities given decrypts it (--identity)") from None


class _TargetNotReached(BackupError):
    pass


def _rebuild(
    data_dir: Path, backup: Backup, identities: list[pyrage.x25519.Identity], to: datetime | None
) -> datetime | None:
    staging = data_dir.with_name(f".{data_dir.name}-restore-wal")
    try:
        _unpack(backup.archive, identities, data_dir)
        _stage_wal(backup.start_wal, identities, staging)
        return _recover(data_dir, staging, to)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(archive: Path, identities: list[pyrage.x25519.Identity], data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    with tempfile.TemporaryFile(dir=data_dir.parent) as tar, archive.open("rb") as encrypted:
        try:
            pyrage.decrypt_io(encrypted, tar, identities)
        except pyrage.DecryptError:
            raise BackupError(f"{archive}: none of the identities given decrypts it (--identity)") from None
        tar.seek(0)
        with tarfile.open(fileobj=tar) as contents:
            contents.extractall(data_dir, filter="tar")
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)  # pgserver's count of the processes then


def _stage_wal(start_wal: str, identities: list[pyrage.x25519.Identity], staging: Path) -> None:
    """Decrypt the archived WAL from the backup's first segment on, and every timeline's history."""
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    for archived in sorted(layout().wal.glob("*.age")):
        name = archived.name.removesuffix(".age")
        if name.endswith(".history") or name[8:24] >= start_wal[8:]:
            (staging / name).write_bytes(_decrypt(archived, identities))


def _recover(data_dir: Path, staging: Path, to: datetime | None) -> datetime | None:
    """Replay the WAL up to `to` in a server of its own (no other process may use it meanwhile), then
    promote it and stop it, leaving a data directory the next start uses as it is. Returns the time of
    the last transaction replayed."""
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"restore_command = 'cp \"{staging}/%f\" \"%p\"'\nrecovery_target_action = 'promote'\n")
        if to is not None:
            conf.write(f"recovery_target_time = '{to.isoformat()}'\n")
    (data_dir / "recovery.signal").touch()
    pg_ctl = _pgserver().pg_ctl
    server_user = _server_user()
    socket_dir = Path(tempfile.mkdtemp(prefix="supportdesk-restore-"))
    socket_dir.chmod(0o777)
    if server_user is not None:
        for path in (data_dir, staging):
            _chown(path, server_user, recursive=True)
    try:
        options = ["-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(data_dir / "log")]
        pg_ctl(["-w", "-t", "86400", *options, "start"], pgdata=data_dir, user=server_user)
        with psycopg.connect(
            f"postgresql://postgres:@/postgres?host={socket_dir}", autocommit=True
        ) as connection:
            while connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                time.sleep(0.5)
            (reached,) = connection.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()
            for name in RECOVERY_SETTINGS:
                connection.execute(f"ALTER SYSTEM RESET {name}")
        return reached
    except (subprocess.CalledProcessError, psycopg.OperationalError):
        problem = _log_problem(data_dir)
        raise (_TargetNotReached if TARGET_NOT_REACHED in problem else BackupError)(
            f"recovery failed: {problem}"
        ) from None
    finally:
        if _postmaster(data_dir) is not None:
            pg_ctl(["-w", "stop"], pgdata=data_dir, user=server_user)
        shutil.rmtree(socket_dir, ignore_errors=True)


def embedded_server_uri() -> str | None:
    """The superuser's URI of the embedded server, when it is the product's database and runs here."""
    info = _postmaster(get_settings().data_dir.resolve())
    if info is None:
        return None
    if conninfo_to_dict(db.database_url()).get("host") != str(info.socket_dir):
        return None  # DATABASE_URL names another server
    return info.get_uri()


def _postmaster(data_dir: Path):
    """pgserver's reading of the server running in `data_dir`, if one is."""
    info = _pgserver().utils.PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
    return info if info is not None and info.is_running() else None


def _program(name: str) -> str:
    return str(_pgserver()._commands.POSTGRES_BIN_PATH / name)


def _pgserver() -> ModuleType:
    return embedded.pgserver_for(get_settings().data_dir.resolve())


def _server_user() -> str | None:
    # pgserver runs PostgreSQL as a user of its own when it is started by root (PostgreSQL refuses root).
    return "pgserver" if os.geteuid() == 0 else None


def _chown(path: Path, user: str, *, recursive: bool = False) -> None:
    account = pwd.getpwnam(user)
    for each in [path, *(path.rglob("*") if recursive else [])]:
        os.chown(each, account.pw_uid, account.pw_gid)


def _log_problem(data_dir: Path) -> str:
    """What the server's log says went wrong last: its FATAL/PANIC/ERROR lines, with their DETAIL."""
    server_log = data_dir / "log"
    lines = server_log.read_text(errors="replace").splitlines()[-40:] if server_log.exists() else []
    problems = [
        line for line in lines if any(level in line for level in ("FATAL:", "PANIC:", "ERROR:", "DETAIL:"))
    ]
    return " | ".join(problems[-4:] or lines[-3:]) or "the server's log is empty"
