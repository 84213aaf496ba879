"""The embedded PostgreSQL (from the `pgserver` package) used when DATABASE_URL is unset.

The server runs as its own superuser; the product connects as `supportdesk`, a role that is neither a
superuser nor able to bypass row-level security, and owns the `supportdesk` database.

Being the superuser here, the start also does what an operator of an external server is asked to do
once per database: mark the functions in LEAKPROOF_FUNCTIONS leakproof (see knowledge/search.py), and
give the server memory for its cache (`shared_buffers`, PostgreSQL's default is 128 MB: a knowledge base
of 100,000 passages has ~650 MB of tables and indexes, and a search reading them from the operating
system's cache instead took half as long again in bench/kb_search.py), and plan for a fast disk
(`random_page_cost`). It also archives the server's WAL to the backups (supportdesk.lifecycle.backup)
unless SUPPORTDESK_BACKUPS=0.
"""

import atexit
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psutil
import psycopg
from psycopg import sql

from supportdesk import pgserver_package
from supportdesk.config import get_settings
from supportdesk.lifecycle import backup

log = logging.getLogger(__name__)

APP_ROLE = "supportdesk"
APP_DATABASE = "supportdesk"
# Functions that row-level security must be able to use as index conditions. `tsvector @@ tsquery`
# (ts_match_vq) is what lets the knowledge-base search use its GIN index under RLS; it reads only the
# row's vector and the query, returns a boolean, and raises no error that depends on the row, which is
# what LEAKPROOF asserts (PostgreSQL leaves it unmarked for want of an audit; see knowledge/search.py).
LEAKPROOF_FUNCTIONS = ("ts_match_vq(tsvector, tsquery)",)
# The server's cache: a quarter of the machine's memory, within these bounds (MB).
SHARED_BUFFERS_MB = (128, 2048)


def use_temporary_data_dir(prefix: str) -> Path:
    """Point this process at a fresh data directory (a test run, a benchmark, an evaluation), deleted
    at exit, without backups. Call it before the server starts: exit hooks run last-registered first, so
    this one runs after pgserver's, which stops the server."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    os.environ["SUPPORTDESK_DATA_DIR"] = str(workdir / "pgdata")
    os.environ.setdefault("SUPPORTDESK_BACKUPS", "0")  # a database deleted at exit needs none
    return workdir / "pgdata"


_PG_CTL_GAVE_UP = ("pg_ctl: could not start server", "Examine the log output.")


class _ProgramFailures(logging.Handler):
    """What the programs pgserver runs wrote to their standard error when they failed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # pgserver's "Failed postgres command": (command, options, error, stdout, stderr)
        if isinstance(record.args, tuple) and len(record.args) == 5:
            self.errors.append(str(record.args[4]).strip())

    def reason(self) -> str | None:
        """The first line the last failure wrote to its standard error that says more than pg_ctl's own
        "could not start server" and "Examine the log output." (the log then has the reason)."""
        lines = [line.strip() for error in self.errors[-1:] for line in error.splitlines()]
        said = [line for line in lines if line and not line.startswith(_PG_CTL_GAVE_UP)]
        return said[0] if said else None


@contextlib.contextmanager
def program_failures() -> Iterator[_ProgramFailures]:
    """pgserver logs a failed program in full (its whole output, the server's old log included: some
    thirty lines before our one-line error); within the block that is kept here instead, for its reason."""
    logger, failures = logging.getLogger("pgserver"), _ProgramFailures()
    propagating = logger.propagate
    logger.addHandler(failures)
    logger.propagate = False
    try:
        yield failures
    finally:
        logger.removeHandler(failures)
        logger.propagate = propagating


STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Signals that would stop the process wait until the block is done."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING_SIGNALS)


def interrupted_restore_note(data_dir: Path) -> Path:
    return data_dir.with_name(f".{data_dir.name}-restore.json")


def start(data_dir: Path) -> str:
    """Start (or join) the embedded server in `data_dir` and return the libpq URL of the app role."""
    data_dir = data_dir.resolve()
    _ensure_usable(data_dir)
    pgserver = pgserver_package.imported_for(data_dir)
    if get_settings().backups:
        # Exit hooks run last-registered first: this one after pgserver's, which stops the server, and
        # so after the server archived its last segment.
        atexit.register(_seal_archived_wal)
    _forget_dead_handles(data_dir)
    running = _forget_stale_postmaster_files(data_dir, pgserver)
    # pgserver counts this process among the server's users, whose last stops it at exit, only once pg_ctl
    # returns: a stop (Ctrl-C, SIGTERM) while the server started left it running.
    with signals_held():
        server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
    # Joined, with other processes using it: the archiving is theirs (see `_archive_wal`).
    shared = running and _handles(data_dir) != [os.getpid()]
    if get_settings().backups:
        # After pgserver's exit hook, so this one runs before it: the segment in progress is archived as
        # the server stops, and the archive holds every change a clean stop left.
        atexit.register(_close_last_segment, server, data_dir)
    _create_app_database(server)
    _apply_settings(server, {"random_page_cost": RANDOM_PAGE_COST})  # taken at a reload
    restart_for = [change for change in (_size_cache(server), _archive_wal(server, shared)) if change]
    if restart_for:
        _restart_if_alone(server, data_dir, ", ".join(restart_for))
    socket_dir = server.get_uri().split("host=", 1)[1]
    log.info("embedded PostgreSQL running in %s", data_dir)
    return f"postgresql://{APP_ROLE}@/{APP_DATABASE}?host={socket_dir}"


def _ensure_usable(data_dir: Path) -> None:
    """Refuse, in one line, a data directory the server cannot start in."""
    if interrupted_restore_note(data_dir).exists():
        raise SystemExit(
            f"a restore of {data_dir} was interrupted and left it half-made: run `supportdesk restore` again"
            " (it first puts back what the interrupted one moved aside)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "PG_VERSION").exists() and any(data_dir.iterdir()):
        # pgserver would make it its server's user's, and initdb fail on it (a traceback).
        raise SystemExit(
            f"error: {data_dir} (SUPPORTDESK_DATA_DIR) holds files but no PostgreSQL data: give the embedded"
            " PostgreSQL's data directory, or an empty or new one"
        )


def _create_app_database(server) -> None:
    """The app's role and database, pgvector in it, and the functions marked leakproof (if not yet)."""
    server.psql(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
          END IF;
        END $$;
        """
    )
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{APP_DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE};")
    # pgvector is an extension only a superuser may create, and LEAKPROOF only a superuser may mark. Quietly:
    # psql printed `NOTICE: extension "vector" already exists, skipping` under every command's output.
    server.psql(
        f"\\c {APP_DATABASE}\nSET client_min_messages = warning;\nCREATE EXTENSION IF NOT EXISTS vector;\n"
        f"{_mark_leakproof_sql()}"
    )


def _close_last_segment(server, data_dir: Path) -> None:
    if _handles(data_dir) != [os.getpid()]:
        return  # not the last process using the server: it goes on
    try:
        server.psql("SELECT pg_switch_wal();")
    except Exception:  # at exit: the server archives it within 15 minutes of its next start
        log.exception("could not close the WAL segment in progress")


def _seal_archived_wal() -> None:
    try:
        backup.seal()
    except Exception:  # at exit: the next start's job encrypts it
        log.exception("could not encrypt the WAL archived last")


def _mark_leakproof_sql() -> str:
    # Only when not marked yet: processes starting together would otherwise update the same pg_proc
    # rows at once ("tuple concurrently updated").
    statements = "\n".join(
        f"IF NOT (SELECT proleakproof FROM pg_proc WHERE oid = '{function}'::regprocedure) THEN"
        f" ALTER FUNCTION {function} LEAKPROOF; END IF;"
        for function in LEAKPROOF_FUNCTIONS
    )
    return f"DO $$ BEGIN\n{statements}\nEND $$;"


# The embedded server's files are on a local disk (an SSD, or the operating system's cache), where a read
# out of order costs little more than one in order. With PostgreSQL's default (4, a spinning disk's), the
# planner walked an organization's whole history rather than an index in the list's order for an agent
# who left, whose tickets are all old: 169 ms against 0.9 ms in an organization of 100,000 tickets.
RANDOM_PAGE_COST = "1.1"


def shared_buffers_mb() -> int:
    low, high = SHARED_BUFFERS_MB
    return max(low, min(high, psutil.virtual_memory().total // (4 * 2**20)))


def _size_cache(server) -> str | None:
    """Set shared_buffers when it differs from `shared_buffers_mb()`; it takes a restart (the change,
    if any, is returned)."""
    wanted = shared_buffers_mb()
    shown = server.psql(
        "SELECT 'mb=' || setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers';"
    )
    if int(re.search(r"mb=(\d+)", shown).group(1)) == wanted:
        return None
    server.psql(f"ALTER SYSTEM SET shared_buffers = '{wanted}MB';")
    return f"shared_buffers = {wanted} MB"


def _archive_wal(server, shared: bool) -> str | None:
    """Archive the WAL to the backups (see supportdesk.lifecycle.backup), or not when they are off.
    The setting that takes a restart, if it changed (the others take a reload).

    Only a process that started the server, or uses it alone, sets its archiving. One joining a server
    that others use leaves it as it is, and refuses to run when the server archives elsewhere than this
    process's settings say (another SUPPORTDESK_BACKUP_DIR, or SUPPORTDESK_BACKUPS=0): it re-pointed
    the live server at an outbox nothing sealed, or its jobs would seal and back up into another
    archive than the server's."""
    wanted = backup.archive_settings()
    if shared:
        _refuse_another_archive(server, wanted)
        return None
    if wanted["archive_mode"] == "on":
        backup.prepare(server.system_user)
    changed = _apply_settings(server, wanted)
    return f"archive_mode = {wanted['archive_mode']}" if "archive_mode" in changed else None


def _refuse_another_archive(server, wanted: dict[str, str]) -> None:
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        mode, command = connection.execute(
            "SELECT current_setting('archive_mode'), current_setting('archive_command')"
        ).fetchone()
    if mode == "off" or (wanted["archive_mode"] == "on" and command == wanted["archive_command"]):
        return  # not archiving (until a start alone sets it), or archiving as this process would
    archives_to = re.search(r'"([^"]*)/%f', command)
    raise SystemExit(
        f"error: the embedded PostgreSQL in {server.pgdata}, in use by other supportdesk processes, archives"
        f" its WAL to {archives_to.group(1) if archives_to else command}, and this process's backup settings"
        " differ (SUPPORTDESK_BACKUPS, SUPPORTDESK_BACKUP_DIR): run it with theirs"
    )


def _apply_settings(server, wanted: dict[str, str]) -> list[str]:
    """ALTER SYSTEM the settings whose value differs from `wanted`, then reload; returns their names
    (one that takes a restart is the caller's to restart for)."""
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        changed = [
            name
            for name, value in wanted.items()
            if connection.execute("SELECT current_setting(%s)", (name,)).fetchone()[0] != value
        ]
        for name in changed:
            statement = sql.SQL("ALTER SYSTEM SET {} = {}").format(
                sql.Identifier(name), sql.Literal(wanted[name])
            )
            connection.execute(statement)
        if changed:
            connection.execute("SELECT pg_reload_conf()")
    return changed


def _restart_if_alone(server, data_dir: Path, change: str) -> None:
    """Restart for a setting that takes it: now when no other process uses the server, else at its
    next start."""
    if _handles(data_dir) != [os.getpid()]:
        log.info("embedded PostgreSQL: %s from its next start (in use now)", change)
        return
    # Stopped, then started by pgserver itself, so that it knows the new server and stops it when
    # this process exits (after a `pg_ctl restart` it would look for the old one).
    pgserver_package.imported_for(data_dir).pg_ctl(["-w", "stop"], pgdata=data_dir, user=server.system_user)
    server.ensure_postgres_running()
    log.info("embedded PostgreSQL restarted: %s", change)


def _handles(data_dir: Path) -> list[int]:
    """The processes using the server, as pgserver counts them."""
    handles = data_dir / ".handle_pids.json"
    return json.loads(handles.read_text() or "[]") if handles.exists() else []


def _forget_dead_handles(data_dir: Path) -> None:
    """pgserver stops the server when the last process using it exits, counting users in a file of
    pids. A process that was killed never removes its pid, and the server would then outlive every
    later user: drop the pids of processes that are gone."""
    handles = data_dir / ".handle_pids.json"
    if handles.exists():
        handles.write_text(json.dumps([pid for pid in _handles(data_dir) if psutil.pid_exists(pid)]))


def _forget_stale_postmaster_files(data_dir: Path, pgserver: ModuleType) -> bool:
    """A server that died with the machine or was killed leaves its postmaster.pid, and its pid may since
    belong to another process. pgserver takes any live pid there for the server: it joins it, fails to
    connect, and at exit kills that process. Remove the file when its pid is not a postmaster of this
    data directory, so that pgserver starts the server afresh; a live one (another `serve` sharing it)
    is still joined. So with the lock of its socket (pgserver keeps it in the data directory): one naming
    a live process, which a data directory copied from a running server's holds (a restore of another
    install), stops PostgreSQL starting. Returns whether this directory's server runs (to be joined)."""
    pid_file = data_dir / "postmaster.pid"
    # pgserver's own lock, held while it starts or joins a server: the file read here is the one removed.
    with pgserver.PostgresServer._lock:
        pid = _pid_in(pid_file)
        running = pid is not None and _is_postmaster_of(pid, data_dir)
        for lock_file in [pid_file, *data_dir.glob(".s.PGSQL.*.lock")]:
            pid = _pid_in(lock_file)
            if pid is not None and not _is_postmaster_of(pid, data_dir):
                log.warning("removing the stale %s: process %d is not its server", lock_file, pid)
                lock_file.unlink()
        return running


def _pid_in(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None  # no server, or a file pgserver and PostgreSQL judge themselves


def _is_postmaster_of(pid: int, data_dir: Path) -> bool:
    """PostgreSQL started on this data directory: pg_ctl, called by pgserver with the resolved directory,
    starts it as `postgres -D <data_dir> …`. Any other process with the pid is not this directory's server."""
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and process.cmdline()[1:3] == ["-D", str(data_dir)]
    except psutil.NoSuchProcess:  # zombies included: dead
        return False
    except psutil.AccessDenied:
        return True  # unknowable: left to pgserver, as before
