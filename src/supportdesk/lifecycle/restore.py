"""A restore of the embedded PostgreSQL to a point in time (`supportdesk restore --to TIME`), from the
backups of `backup.py`.

The server must be stopped, and one restore runs at a time. A restore:

1. picks the newest full backup finished before the time, in the current archive (or in one a restore
   before moved aside: `--from`);
2. moves aside what it replaces: the data directory (`<data dir>.replaced-<time>`, kept, never deleted)
   and the archive (`replaced-<time>/` in the backup directory, kept 30 days): the restored server
   starts a new history, and a new archive with it;
3. unpacks the backup, decrypts the WAL from the backup's first segment on, and replays it in a server of
   its own up to the time, which it then promotes and stops;
4. takes a full backup of what it restored, the new archive's first.

Replaying needs every segment in order: one missing (or that cannot be decrypted) ends the replay
there. A restore to a time past that point refuses, naming the segment and the last moment the WAL
before it reaches, rather than restoring less than it was asked for (`--up-to-a-gap` restores up to
it). A time past the archive's end restores to its end, and says so.

Whatever stops a restore (an error, Ctrl-C, SIGTERM or SIGHUP) puts back what it moved aside. Killed
outright, it leaves a note beside the data directory; the next restore puts things back first, and the
server refuses to start on a half-restored directory meanwhile.
"""

import contextlib
import fcntl
import json
import logging
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyrage
from psycopg import sql

from supportdesk import embedded
from supportdesk.config import get_settings
from supportdesk.embedded import interrupted_restore_note, signals_held
from supportdesk.lifecycle import BackupError
from supportdesk.lifecycle.backup import (
    TIME_FORMAT,
    Archive,
    Backup,
    archive_settings,
    layout,
    seal,
    take,
)
from supportdesk.lifecycle.keys import read_identity
from supportdesk.lifecycle.postgres import chown, pgserver, postmaster, program, server_user
from supportdesk.lifecycle.unpack import stage_wal, unpack

log = logging.getLogger(__name__)

RECOVERY_SETTINGS = (
    "restore_command",
    "recovery_target_time",
    "recovery_target_action",
    "recovery_target_timeline",
)
# The archiving a restored server starts with: this install's (see `_archive_as_this_install`).
ARCHIVE_SETTINGS = ("archive_mode", "archive_command", "archive_timeout")
TARGET_NOT_REACHED = "recovery ended before configured recovery target was reached"


@dataclass(frozen=True)
class Restored:
    backup: Backup
    replaced: Path | None  # where the data directory it replaced was moved
    reached: datetime | None  # the time of the last transaction replayed
    target_reached: bool  # False: the archive ends before the time asked for, restored to its end
    gap: str | None  # with `up_to_a_gap`: the segment missing, up to which it restored
    new_backup: Path | None  # the new archive's first full backup
    backup_error: str | None  # why there is none
    # The data replaced was not shut down cleanly: its last changes may be in its own WAL only.
    replaced_unclean: bool


@dataclass
class _MovedAside:
    """What a restore moved aside, to put back if it does not finish. Written down at each step, so that
    the next restore can put it back if this one is killed."""

    data_dir: Path
    replaced: Path | None = None  # where the data directory went
    made: bool = False  # the data directory is the restore's own (the original moved, or there was none)
    archive: Path | None = None  # where the archive's base/ and wal/ went

    @property
    def note(self) -> Path:
        return interrupted_restore_note(self.data_dir)

    def write(self) -> None:
        state = {"replaced": _text(self.replaced), "made": self.made, "archive": _text(self.archive)}
        self.note.write_text(json.dumps(state))

    @classmethod
    def read(cls, data_dir: Path) -> "_MovedAside":
        state = json.loads(interrupted_restore_note(data_dir).read_text())
        return cls(data_dir, _path(state["replaced"]), state["made"], _path(state["archive"]))

    def _remove_the_restores_own(self) -> None:
        """The data directory the restore made. A replay it was starting when stopped may still write
        there (its log): stopped, and the directory removed, until it stays gone."""
        for _ in range(100):
            _stop_replay(self.data_dir)
            shutil.rmtree(self.data_dir, ignore_errors=True)
            time.sleep(0.1)
            if not self.data_dir.exists():
                return
        raise BackupError(
            f"{self.data_dir} cannot be removed to put the data back: run supportdesk restore again"
        )

    def put_back(self) -> None:
        """Undo, a step at a time, each noted as done: killed midway, the next restore goes on from there
        (and a signal meanwhile waits until it is done)."""
        with signals_held():
            _stop_replay(self.data_dir)
            shutil.rmtree(_staging(self.data_dir), ignore_errors=True)
            if self.made:
                self._remove_the_restores_own()
                self.made = False
                self.write()
            if self.replaced is not None:
                if self.replaced.exists():
                    if self.data_dir.exists():  # noted still: the next restore puts it back
                        raise BackupError(f"{self.data_dir} is in the way of the data to put back there")
                    self.replaced.rename(self.data_dir)
                self.replaced = None
                self.write()
            if self.archive is not None:
                current = layout().archive
                for directory in (current.base, current.wal):
                    if (self.archive / directory.name).exists():  # the one there now is the restore's
                        shutil.rmtree(directory, ignore_errors=True)
                        (self.archive / directory.name).rename(directory)
                with contextlib.suppress(FileNotFoundError):
                    self.archive.rmdir()
            self.note.unlink(missing_ok=True)


def restore(
    to: datetime | None, identity_files: list[Path], source: Path | None = None, up_to_a_gap: bool = False
) -> Restored:
    """Replace the embedded server's data with its state at `to` (None: the latest archived; with
    `up_to_a_gap`, to the last change before a segment the archive lacks)."""
    settings = get_settings()
    if settings.database_url:
        raise BackupError("DATABASE_URL is set: restore that server with its own tools")
    data_dir = settings.data_dir.resolve()
    with _one_at_a_time(data_dir), _signals_stop_it():
        if interrupted_restore_note(data_dir).exists():
            log.warning("putting back what an interrupted restore moved aside")
            _MovedAside.read(data_dir).put_back()
        if postmaster(data_dir) is not None:
            raise BackupError("the embedded PostgreSQL is running: stop supportdesk (serve, workers) first")
        identities = [read_identity(path) for path in identity_files]
        seal()  # what the server archived last
        archive = Archive(source) if source else layout().archive
        usable = [backup for backup in archive.backups() if to is None or backup.finished_at <= to]
        if not usable:
            raise BackupError(f"no full backup finished before {to or 'now'} in {archive.base}")
        unclean = _not_shut_down_cleanly(data_dir)
        moved = _MovedAside(data_dir)
        try:
            backup = _move_aside(moved, archive, usable[-1])
            reached, target_reached, gap = _replay(data_dir, backup, identities, to, up_to_a_gap)
        except BaseException:
            moved.put_back()
            raise
        moved.note.unlink()
        new_backup, backup_error = _first_backup()
    return Restored(backup, moved.replaced, reached, target_reached, gap, new_backup, backup_error, unclean)


@contextlib.contextmanager
def _one_at_a_time(data_dir: Path) -> Iterator[None]:
    lock = data_dir.with_name(f".{data_dir.name}-restore.lock")
    with lock.open("w") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError("another restore of this data directory is running") from None
        yield


@contextlib.contextmanager
def _signals_stop_it() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) end the restore as Ctrl-C does: putting things back."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _move_aside(moved: _MovedAside, archive: Archive, backup: Backup) -> Backup:
    """Move the current archive and the data directory aside, noting each step; returns `backup` where
    it is then."""
    stamp = datetime.now(UTC).strftime(TIME_FORMAT)
    current = layout().archive
    moved.archive = current.path / f"replaced-{stamp}"
    moved.write()
    moved.archive.mkdir(mode=0o700, parents=True)
    for directory in (current.base, current.wal):
        if directory.exists():
            directory.rename(moved.archive / directory.name)
        directory.mkdir(mode=0o700)
    if moved.data_dir.exists():
        moved.replaced = moved.data_dir.with_name(f"{moved.data_dir.name}.replaced-{stamp}")
        moved.write()
        moved.data_dir.rename(moved.replaced)
    moved.made = True
    moved.write()
    if archive.path == current.path:
        archive = Archive(moved.archive)
    (found,) = [each for each in archive.backups() if each.manifest.name == backup.manifest.name]
    return found


def _replay(
    data_dir: Path,
    backup: Backup,
    identities: list[pyrage.x25519.Identity],
    to: datetime | None,
    up_to_a_gap: bool,
) -> tuple[datetime | None, bool, str | None]:
    """Rebuild the data directory at `to`, or at the archive's end when it ends before; returns the time
    of the last transaction replayed, whether `to` was reached, and the gap it stopped at (only with
    `up_to_a_gap`)."""
    staging = _staging(data_dir)
    try:
        unpack(backup.archive, identities, data_dir)
        gap = stage_wal(Archive(backup.archive.parent.parent), backup, identities, staging)
        if gap and up_to_a_gap:
            to = None
        try:
            reached = _recover(data_dir, staging, to)
        except _TargetNotReached:
            if gap:
                raise BackupError(f"{gap}, and the time asked for lies past it: {UP_TO_A_GAP}") from None
            shutil.rmtree(data_dir)  # the archive ends before `to`: to its end, then
            unpack(backup.archive, identities, data_dir)
            return _recover(data_dir, staging, None), False, None
        if gap and to is None:  # replayed up to it
            if not up_to_a_gap:
                last = reached.isoformat() if reached else "no transaction since the backup"
                raise BackupError(f"{gap}: the WAL before it reaches {last}; {UP_TO_A_GAP}")
            return reached, False, gap
        return reached, True, None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


UP_TO_A_GAP = "`--up-to-a-gap` restores up to the last change before it (those in it and after it are lost)"


def _not_shut_down_cleanly(data_dir: Path) -> bool:
    if not (data_dir / "global" / "pg_control").exists():
        return False
    state = subprocess.run(
        [program("pg_controldata"), "-D", str(data_dir)], capture_output=True, text=True
    ).stdout
    return "Database cluster state:               in production" in state


def _staging(data_dir: Path) -> Path:
    return data_dir.with_name(f".{data_dir.name}-restore-wal")


class _TargetNotReached(BackupError):
    pass


def _recover(data_dir: Path, staging: Path, to: datetime | None) -> datetime | None:
    """Replay the staged WAL up to `to` in a server of its own, then promote it and stop it, leaving a
    data directory the next start uses as it is. Returns the time of the last transaction replayed.

    The replay archives nothing (an empty archive_command: PostgreSQL keeps what is to be archived
    until there is one): the backup's settings name the archive of the server it was taken of, which
    may be another install's, running (a copy restored from its archive), and the new timeline would
    land there. What the promotion leaves to archive (the new timeline's history, the last segment of
    the old one) is archived from the restored server's first start, into this install's backups."""
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"restore_command = 'cp \"{staging}/%f\" \"%p\"'\nrecovery_target_action = 'promote'\n")
        conf.write("recovery_target_timeline = 'current'\n")  # the backup's: see `unpack.stage_wal`
        if to is not None:
            conf.write(f"recovery_target_time = '{to.isoformat()}'\n")
    (data_dir / "recovery.signal").touch()
    user = server_user()
    socket_dir = Path(tempfile.mkdtemp(prefix="supportdesk-restore-"))
    socket_dir.chmod(0o777)
    if user is not None:
        for path in (data_dir, staging):
            chown(path, user, recursive=True)
    try:
        options = ["-o", '-h "" -c archive_command=""', "-o", f"-k {socket_dir}", "-l", str(data_dir / "log")]
        with embedded.program_failures():  # told from the server's log below (`_log_problem`)
            pgserver().pg_ctl(["-w", "-t", "86400", *options, "start"], pgdata=data_dir, user=user)
        with psycopg.connect(
            f"postgresql://postgres:@/postgres?host={socket_dir}", autocommit=True
        ) as connection:
            while connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                time.sleep(0.5)
            (reached,) = connection.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()
            for name in RECOVERY_SETTINGS:
                connection.execute(f"ALTER SYSTEM RESET {name}")
            _archive_as_this_install(connection)
        return reached
    except (subprocess.CalledProcessError, psycopg.OperationalError):
        problem = _log_problem(data_dir)
        error = _TargetNotReached if TARGET_NOT_REACHED in problem else BackupError
        raise error(f"the replay failed: {problem}") from None
    finally:
        _stop_replay(data_dir)
        shutil.rmtree(socket_dir, ignore_errors=True)


def _archive_as_this_install(connection: psycopg.Connection) -> None:
    """The restored server's archiving, from its first start: into this install's backups (or none)."""
    wanted = archive_settings()
    for name in ARCHIVE_SETTINGS:
        if name in wanted:
            statement = sql.SQL("ALTER SYSTEM SET {} = {}").format(
                sql.Identifier(name), sql.Literal(wanted[name])
            )
        else:
            statement = sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name))
        connection.execute(statement)


def _stop_replay(data_dir: Path) -> None:
    """Stop the server replaying in `data_dir`, if one is, and wait until it is gone: it may be stopping
    by itself already (a replay that failed)."""
    if postmaster(data_dir) is None:
        return
    with contextlib.suppress(subprocess.CalledProcessError):
        pgserver().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=server_user())
    for _ in range(600):
        if postmaster(data_dir) is None:
            return
        time.sleep(0.1)
    raise BackupError(f"the server replaying in {data_dir} does not stop")


def _first_backup() -> tuple[Path | None, str | None]:
    """The new archive's first full backup, of what was just restored. A stop (Ctrl-C, SIGTERM) ends it
    without undoing the restore, which is done: the next start of the server takes the backup."""
    try:
        embedded.start(get_settings().data_dir)  # the restored server
        return take(datetime.now(UTC)), None
    except (BackupError, OSError, subprocess.CalledProcessError, psycopg.Error) as error:
        return None, str(error)
    except (KeyboardInterrupt, SystemExit):
        return None, "stopped before it finished"


def _log_problem(data_dir: Path) -> str:
    """What the replay's log says went wrong last: its FATAL, PANIC, ERROR and DETAIL lines (the log the
    backup held is removed as it is unpacked)."""
    server_log = data_dir / "log"
    lines = server_log.read_text(errors="replace").splitlines()[-40:] if server_log.exists() else []
    levels = ("FATAL:", "PANIC:", "ERROR:", "DETAIL:")
    problems = [line for line in lines if any(level in line for level in levels)]
    return " | ".join(problems[-4:] or lines[-3:]) or "the server's log is empty"


def _text(path: Path | None) -> str | None:
    return str(path) if path else None


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None
