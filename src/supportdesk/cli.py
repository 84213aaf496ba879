"""The `supportdesk` command: serve, worker, migrate, demo, eval, and the operator's retention,
maintenance and archive."""

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from supportdesk import datasets, db, embedded, jobs
from supportdesk.ai import embeddings
from supportdesk.config import get_settings
from supportdesk.lifecycle.jobs import defer_first_backup
from supportdesk.lifecycle.maintenance import Task
from supportdesk.lifecycle.maintenance import run as run_maintenance

T = TypeVar("T")

app = typer.Typer(help="supportdesk: multi-tenant, AI-assisted customer support.", no_args_is_help=True)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _ignore_stop_signals() -> None:
    """Once the command is done: raised in the exit handlers that stop the embedded PostgreSQL, a stop
    killed `pg_ctl stop` midway and left a traceback."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


def _stop_as_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (a service manager, `timeout`) and SIGHUP (a closed terminal) stop a command as Ctrl-C
    does, wherever it is: its cleanup runs, and so do the exit handlers that stop the embedded PostgreSQL
    it started (killed by the signal's default, `supportdesk backup` left the server running and a
    partial backup). Once: a second signal does not interrupt the cleanup the first one started."""
    _ignore_stop_signals()
    raise KeyboardInterrupt


@app.callback()
def _configuration(ctx: typer.Context) -> None:
    for number in STOP_SIGNALS:  # serve and worker set their own as they start
        signal.signal(number, _stop_as_ctrl_c)
    if ctx.find_root().info_name == "supportdesk":  # the program, not a test invoking it in its process
        ctx.call_on_close(_ignore_stop_signals)
    if "--help" in sys.argv:  # a command's help is read before its settings are fixed
        return
    # Before any command: a setting out of range (PORT=99999, SUPPORTDESK_TOKEN_TTL_HOURS=0) is one line
    # naming it, not a traceback, nor a server that starts and serves nothing.
    try:
        get_settings()
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]).upper()
            typer.echo(f"error: {name}: {problem['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None


async def _ready_to_run() -> None:
    """What a server or worker checks and asks for as it starts, once the schema is up to date."""
    async with db.transaction() as session:
        await db.check_role(session)
    await defer_first_backup()
    await db.dispose()


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    _migrate()
    typer.echo("database is up to date")


def _load_demo(only_if_empty: bool) -> None:
    from supportdesk.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, load_demo

    loaded = asyncio.run(load_demo(only_if_empty=only_if_empty))
    skipped = "the database has data already" if only_if_empty else "the demo is loaded already"
    typer.echo("demo organization loaded" if loaded else f"demo not loaded: {skipped}")
    typer.echo(f"demo login (if the demo is loaded): {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}")


@app.command()
def demo(if_empty: bool = typer.Option(False, help="Only when no organization exists yet.")) -> None:
    """Load a believable demo organization (agents, categories, knowledge base, tickets)."""
    _migrate()
    _load_demo(if_empty)


@app.command()
def serve(
    host: str = typer.Option(None, help="Default: HOST or 127.0.0.1."),
    port: int = typer.Option(None, min=1, max=65535, help="Default: PORT or 8000."),
    workers: int = typer.Option(None, min=1, help="Server processes. Default: SUPPORTDESK_WEB_WORKERS or 1."),
    demo_if_empty: bool = typer.Option(False, help="Load the demo organization into an empty database."),
    worker: bool = typer.Option(True, help="Also run a job worker in each server process."),
) -> None:
    """Migrate, then serve the HTTP API until interrupted."""
    _setup_logging()
    settings = get_settings()
    _migrate()
    asyncio.run(_ready_to_run())
    if demo_if_empty:
        _load_demo(only_if_empty=True)
    # Server processes are configured through the environment they inherit: the database this
    # process started (if embedded) and whether to run a job worker.
    os.environ["DATABASE_URL"] = db.database_url()
    os.environ["SUPPORTDESK_INPROCESS_WORKER"] = "1" if worker else "0"
    get_settings.cache_clear()
    uvicorn.run(
        "supportdesk.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.web_workers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,
    )


@app.command()
def worker(
    concurrency: int = typer.Option(
        4, min=1, help="Jobs at once of each queue (the default one, webhook deliveries, the clocks)."
    ),
) -> None:
    """Run background jobs (any number of workers, on any number of machines) until interrupted."""
    _setup_logging()
    _migrate()
    asyncio.run(_ready_to_run())

    async def run() -> None:
        async with jobs.app.open_async(), embeddings.loading():
            await jobs.keep_working(concurrency=concurrency)

    # SIGTERM cancels the workers as Ctrl-C does (`_run`): raised as an exit in whichever job ran, it was
    # taken for that job's failure, retried, and the worker went on (60 to 117 jobs more).
    with contextlib.suppress(KeyboardInterrupt):
        _run(run())


eval_app = typer.Typer(
    help="Measure the AI on dataset files through the production code path (a scratch organization).",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


@eval_app.command("classify")
def eval_classify(
    train: str = typer.Option(
        ..., help="JSON lines {id, text, label}: the organization's categorized tickets."
    ),
    test: str = typer.Option(
        ..., help="JSON lines {id, text, label}: new tickets to triage (label oos: none)."
    ),
) -> None:
    """Triage trained and run as in production, in a scratch organization deleted afterwards; prints JSON
    metrics (accuracy, macro-F1, out-of-scope precision and recall)."""
    from supportdesk.ai import production_eval

    train_rows, test_rows = _dataset(train, "text", "label"), _dataset(test, "text", "label")
    _migrate()
    typer.echo(json.dumps(_run(production_eval.classify(train_rows, test_rows)), indent=2))


@eval_app.command("answer")
def eval_answer(
    docs: str = typer.Option(..., help="JSON lines {id, title, content, kb?}: the knowledge base(s)."),
    queries: str = typer.Option(
        ..., help="JSON lines {id, text, gold_doc_ids, kb?}: customer questions (no gold: hand off)."
    ),
    calibrate: str | None = typer.Option(
        None, help="Queries (same format) to choose the auto_response_threshold on, before the queries."
    ),
    target_precision: float = typer.Option(
        0.95, min=0.0, max=1.0, help="With --calibrate: the share of automatic answers that must be right."
    ),
) -> None:
    """The auto-responder run as in production on each knowledge base, in scratch organizations deleted
    afterwards; prints JSON metrics (answered right and wrong, handed off, precision, coverage, accuracy;
    retrieval recall@1, recall@5, MAP)."""
    from supportdesk.ai import answer_eval

    # A query says which documents answer it, if only none ([]): a file of another kind would measure as
    # every question rightly handed off.
    doc_rows = _dataset(docs, "id", ("title", "content"))
    query_rows = _dataset(queries, "text", "gold_doc_ids")
    calibration_rows = _dataset(calibrate, "text", "gold_doc_ids") if calibrate else None
    _migrate()
    evaluation = answer_eval.evaluate(doc_rows, query_rows, calibration_rows, target_precision)
    typer.echo(json.dumps(_run(evaluation), indent=2))


@app.command()
def retention() -> None:
    """Purge what the retention periods have passed (tickets 2 years after resolution, audit entries
    after 1 year, webhook deliveries and archived records after 30 days), as the daily job does; prints
    what it removed."""
    from supportdesk.lifecycle.retention import apply_retention

    _migrate()
    purged = _run(apply_retention(datetime.now(UTC)))
    typer.echo(json.dumps(dataclasses.asdict(purged), default=str, indent=2))


@app.command()
def maintenance(task: Task) -> None:
    """VACUUM ANALYZE, rebuild the indexes (without blocking writes) or update the planner's statistics,
    over every table, as the weekly, monthly and quarterly jobs do."""
    _migrate()
    try:
        tables = _run(run_maintenance(task))
    except DBAPIError as error:  # cancelled, or a lock it waited for too long
        typer.echo(f"error: {task.value}: {str(error.orig).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{task.value}: {len(tables)} tables")


@app.command()
def backup() -> None:
    """Take a full backup of the embedded PostgreSQL now, as the daily job does (encrypted; see README)."""
    from supportdesk.lifecycle import BackupError, backup

    try:
        db.database_url()  # starts the embedded server, or joins it: a backup directory it cannot make
        typer.echo(f"backup written: {backup.take(datetime.now(UTC))}")
    except (BackupError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command()
def restore(
    to: str | None = typer.Option(
        None, help="ISO 8601 with its UTC offset (2026-11-26T09:30:00+00:00). Default: the latest."
    ),
    identity: list[Path] = typer.Option(
        [],
        help="An age identity (private key) file the backups were encrypted to; repeat for several."
        " Default: the one generated beside the data directory.",
    ),
    source: Path | None = typer.Option(
        None,
        "--from",
        help="The archive to restore from: one an earlier restore moved aside (replaced-<time> in the"
        " backup directory), or another install's backup directory.",
    ),
    up_to_a_gap: bool = typer.Option(
        False, help="When a WAL segment is missing, restore up to the last change before it."
    ),
) -> None:
    """Restore the embedded PostgreSQL to its state at a point in time, from the backups. Stop supportdesk
    first; what it replaces is moved aside, not deleted."""
    from supportdesk.lifecycle import BackupError, backup
    from supportdesk.lifecycle.restore import restore as restore_database

    try:
        target = datetime.fromisoformat(to) if to else None
    except ValueError:
        target = None
    if to and (target is None or target.tzinfo is None):
        typer.echo(
            f"error: --to {to!r}: an ISO 8601 time with its UTC offset, as 2026-11-26T09:30:00+00:00",
            err=True,
        )
        raise typer.Exit(2)
    try:
        restored = restore_database(target, identity or [backup.layout().identity], source, up_to_a_gap)
    except (BackupError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    if restored.gap:
        typer.echo(f"warning: {restored.gap}: restored up to the last change before it")
    elif to and not restored.target_reached:
        typer.echo(f"the archive ends before {to}: restored to its end")
    last = restored.reached.isoformat() if restored.reached else "none since the backup"
    typer.echo(
        f"restored from the backup {restored.backup.archive.name}; the last transaction replayed: {last}"
    )
    if restored.replaced:
        typer.echo(f"the data it replaced is in {restored.replaced}")
    if restored.replaced_unclean:
        typer.echo(
            "warning: the data replaced was not shut down cleanly: its last changes may be only in its own"
            f" WAL ({restored.replaced}/pg_wal), not in the archive"
        )
    if restored.new_backup:
        typer.echo(f"a full backup of what it restored: {restored.new_backup}")
    else:
        typer.echo(
            f"warning: no full backup of what it restored ({restored.backup_error}): the server takes one"
            " as it starts, or run supportdesk backup"
        )


archive_app = typer.Typer(help="Deleted records, kept 30 days: list them, restore one.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")


@archive_app.command("list")
def archive_list(
    organization_id: uuid.UUID | None = typer.Option(None, help="Only this organization's."),
    limit: int = typer.Option(100, min=1, help="The newest this many."),
) -> None:
    """Print the archived records, newest first, a JSON object per line."""
    from supportdesk.lifecycle import archive

    _migrate()

    async def listing() -> list[dict]:
        async with db.system_session() as session:
            return [
                {
                    "id": str(entry.id),
                    "organization_id": str(entry.organization_id),
                    "entity_type": entry.entity_type,
                    "entity_id": str(entry.entity_id),
                    "reason": entry.reason,
                    "archived_at": entry.archived_at.isoformat(),
                    **archive.summary(entry),
                }
                for entry in await archive.entries(session, organization_id, limit)
            ]

    for line in _run(listing()):
        typer.echo(json.dumps(line))


@archive_app.command("restore")
def archive_restore(entry_id: uuid.UUID) -> None:
    """Put an archived record back where it was (an id from `supportdesk archive list`)."""
    from supportdesk.lifecycle import archive

    _migrate()

    async def restoring() -> str:
        async with db.system_session() as session:
            entry = await archive.restore(session, entry_id)
            return f"restored {entry.entity_type} {entry.entity_id}"

    try:
        typer.echo(_run(restoring()))
    except archive.RestoreError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _migrate() -> None:
    """`db.migrate`: the first touch of the database, so a server that does not answer, or a data directory
    the embedded one cannot use, is said in one line rather than a traceback."""
    try:
        with embedded.program_failures() as failures:
            db.migrate()
    except subprocess.CalledProcessError as error:  # one of the embedded PostgreSQL's programs
        program = Path(error.cmd[0]).name if isinstance(error.cmd, list) else error.cmd
        log_file = get_settings().data_dir.resolve() / "log"
        reason = f": {failures.reason()}" if failures.reason() else ""
        typer.echo(
            f"error: the embedded PostgreSQL: {program} failed{reason} (its log: {log_file})", err=True
        )
        raise typer.Exit(1) from None
    except (OSError, OperationalError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        typer.echo(f"error: the database: {reason}", err=True)
        raise typer.Exit(1) from None


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run one piece of database work to its end, then close the connections. SIGTERM (a service
    manager, `timeout`) stops it as Ctrl-C does: the work is cancelled and its cleanup runs (an evaluation
    deletes its scratch organizations; killed outright, it left them). Also in a process started with
    SIGINT ignored (`&` in a script), which Ctrl-C's own handling does not reach."""

    async def run() -> T:
        loop, main = asyncio.get_running_loop(), asyncio.current_task()

        def stop() -> None:  # once: a second SIGTERM cancelled the cleanup the first one started
            loop.add_signal_handler(signal.SIGTERM, lambda: None)
            main.cancel()

        loop.add_signal_handler(signal.SIGTERM, stop)
        try:
            return await work
        finally:
            await db.dispose()

    stopping = signal.getsignal(signal.SIGTERM)
    try:
        return asyncio.run(run())
    except asyncio.CancelledError:  # by SIGTERM: ends as Ctrl-C does
        raise KeyboardInterrupt from None
    finally:
        signal.signal(signal.SIGTERM, stopping)  # closing, the loop left SIGTERM to its default


def _dataset(path: str, *required: str) -> list[dict]:
    """The rows of a dataset file, or a clear error and exit status 2 (an empty file too)."""
    try:
        rows = datasets.read_jsonl(path, required)
    except datasets.DatasetError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    if not rows:
        typer.echo(f"error: {path}: no rows", err=True)
        raise typer.Exit(2)
    return rows


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    # Uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit instead lets
    # the exit handlers run, which stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # A closed terminal or a dropped SSH session (SIGHUP) stops as SIGTERM does, through uvicorn's handler
    # while it serves; by default it killed the process at once and left the embedded PostgreSQL running.
    signal.signal(signal.SIGHUP, lambda *_: signal.raise_signal(signal.SIGTERM))
