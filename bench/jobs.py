"""Job-queue benchmark: how many jobs/s the queue takes in (defer) and gets through (execute), against
the same SQL run by pgbench.

It registers a task that does nothing (`bench.noop`) on the product's procrastinate app, then for each
scenario (one worker with --concurrency C, for each C; and, with --processes 2, two worker processes):

  1. defers --jobs N jobs through `supportdesk.jobs.defer`, --batch B per transaction (system session),
     one after the other, as the product does when a change defers its jobs;
  2. pgbench does the same in SQL: BEGIN, set_config, B x procrastinate_defer_jobs_v1(ARRAY[one job]),
     COMMIT, one client (its jobs are the queue for step 4);
  3. runs `supportdesk.jobs.run_worker(wait=False, concurrency=C)` until the queue is empty, in its own
     process (or processes), timed from the moment the already connected worker is told to start;
  4. pgbench runs what a worker runs per job (procrastinate_fetch_job_v2, then
     procrastinate_finish_job_v1 deleting the job, each on its own, as autocommit statements) with C
     clients (2 x C for two processes) until the same number of jobs is done;

and prints jobs/s for each side, their ratio (the figure that matters: the SQL side is the floor set by
PostgreSQL on this machine), and the CPU each side used per job. Finally it measures deferring one job
per transaction (--single jobs), the usual case of a request that causes one job. No assertions.

    .venv/bin/python bench/jobs.py                                  # N = 5,000; C = 8 and 1; 2 processes
    .venv/bin/python bench/jobs.py --jobs 2000 --concurrency 4 --processes 1
    .venv/bin/python bench/jobs.py --database-url 'postgresql://supportdesk@/supportdesk?host=/tmp/...'

Without --database-url it starts a fresh embedded PostgreSQL in a temporary directory (migrated to the
newest revision) and stops and deletes it at the end. With it, that database must be migrated; the
benchmark leaves no `bench.noop` job behind, but periodic jobs the workers defer will run.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from cpu import CpuMeter  # bench/cpu.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
PGBENCH = shutil.which("pgbench") or "/usr/bin/pgbench"
TASK = "bench.noop"
QUEUE = "default"  # supportdesk.jobs.QUEUE

# The SQL `supportdesk.jobs.defer` issues for one job (args {"i": …}, no run_at).
DEFER_ONE = (
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'bench.noop', 0, NULL, NULL,"
    " CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]);\n"
)
# What a procrastinate worker issues per job (queries.sql: fetch_job, finish_job with delete_job).
EXECUTE_ONE = """\
SELECT id AS job_id, status, task_name, priority, lock, queueing_lock, args, scheduled_at, queue_name,
    attempts, worker_id FROM procrastinate_fetch_job_v2(ARRAY['default']::varchar[], :worker_id) \\gset
SELECT procrastinate_finish_job_v1(:job_id, 'succeeded', true);
"""


def defer_script(batch: int) -> str:
    lines = [
        "\\set i random(1, 1000000000)",
        "BEGIN;",
        "SELECT set_config('supportdesk.system', 'on', true);",
    ]
    lines += [
        DEFER_ONE.replace("CAST(:args AS jsonb)", "jsonb_build_object('i', CAST(:i AS integer))").strip()
    ] * batch
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# CPU accounting


class JobsCpuMeter(CpuMeter):
    """This process (deferring, or the worker itself), worker processes it started, pgbench, and
    PostgreSQL (the postmaster's processes, or every `postgres` process when the server is not ours)."""

    postmaster: int | None = None

    def group(self, pid: int, info: dict, me: int) -> str | None:
        if pid == me:
            return "python"
        if info["ppid"] == me:
            return "pgbench" if info["name"] == "pgbench" else "python"
        if (
            self.postmaster in (pid, info["ppid"])
            if self.postmaster
            else info["name"] in ("postgres", "postmaster")
        ):
            return "postgres"
        return None


@dataclass
class Run:
    jobs: int = 0
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by group
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0

    def cpu_ms(self, key: str) -> float:
        return self.cpu.get(key, 0.0) * 1000 / self.jobs if self.jobs else float("nan")


# --------------------------------------------------------------------------------------------------
# The product's side (this process, or worker processes)


def use_database(database_url: str | None) -> Path | None:
    """Point supportdesk at the given database, or at a fresh embedded one; returns its data dir."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        return None
    from supportdesk import embedded

    os.environ.pop("DATABASE_URL", None)
    return embedded.use_temporary_data_dir("supportdesk-bench-")


def register_noop():
    sys.path.insert(0, str(ROOT / "src"))
    from supportdesk import jobs

    @jobs.app.task(name=TASK, queue=QUEUE)
    async def noop(i: int) -> None:
        return None

    jobs.app.perform_import_paths()  # the product's task modules, as a worker imports them at start
    return noop


async def defer_jobs(noop, n: int, batch: int) -> Run:
    from supportdesk import db, jobs

    with JobsCpuMeter() as meter:
        for start in range(0, n, batch):
            async with db.system_session() as session:
                for i in range(start, min(n, start + batch)):
                    await jobs.defer(session, noop, i=i)
    return Run(jobs=n, seconds=meter.seconds, cpu=meter.used)


async def run_one_worker(concurrency: int) -> None:
    from supportdesk import jobs

    await jobs.run_worker(wait=False, concurrency=concurrency, name=f"bench-{os.getpid()}")


def run_worker_processes(processes: int, concurrency: int, database_url: str) -> Run:
    """Start worker processes, let them connect, then time them from 'go' until all have exited."""
    env = dict(os.environ, DATABASE_URL=database_url)
    command = [sys.executable, str(Path(__file__).resolve()), "--child-worker", str(concurrency)]
    children = [
        subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    errors = []
    for child in children:
        if child.stdout.readline().strip() != "ready":
            errors.append(f"worker process {child.pid} did not start")
    with JobsCpuMeter() as meter:
        started = time.perf_counter()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            child.wait()
            if child.returncode:
                errors.append(f"worker process {child.pid} exited with {child.returncode}")
        elapsed = time.perf_counter() - started
    return Run(seconds=elapsed, cpu=meter.used, errors=errors)


def child_worker(concurrency: int) -> None:
    register_noop()
    from supportdesk import jobs

    async def main() -> None:
        async with jobs.app.open_async():
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            await run_one_worker(concurrency)

    asyncio.run(main())


# --------------------------------------------------------------------------------------------------
# The SQL side (pgbench) and bookkeeping


def libpq_args(database_url: str) -> tuple[list[str], dict[str, str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tickets import libpq_args as from_url  # bench/tickets.py

    return from_url(database_url)


def pgbench(
    database_url: str,
    script: str,
    clients: int,
    transactions: int,
    jobs_per_tx: int,
    workdir: Path,
    **variables,
) -> Run:
    path = workdir / f"script-{abs(hash(script))}.sql"
    path.write_text(script)
    conn_args, env = libpq_args(database_url)
    command = [PGBENCH, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2))]
    command += ["-t", str(transactions), "-f", str(path)]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    with JobsCpuMeter() as meter:
        done = subprocess.run(
            command + conn_args, env=dict(os.environ, **env), capture_output=True, text=True
        )
    out = done.stdout + done.stderr
    run = Run(cpu=meter.used)
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if done.returncode != 0 or not processed or not tps:
        run.errors.append(f"pgbench exit {done.returncode}: {out[-800:]}")
    if processed and tps:
        run.jobs = int(processed.group(1)) * jobs_per_tx
        run.seconds = int(processed.group(1)) / float(tps.group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if failed and int(failed.group(1)):
        run.errors.append(f"{failed.group(1)} failed transactions")
    return run


def sql(database_url: str, query: str, params: dict | None = None) -> list[tuple]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def queued(database_url: str) -> dict[str, int]:
    rows = sql(
        database_url,
        "SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name = %(task)s GROUP BY 1",
        {"task": TASK},
    )
    return dict(rows)


def clear_queue(database_url: str) -> None:
    sql(database_url, "DELETE FROM procrastinate_jobs WHERE task_name = %(task)s", {"task": TASK})
    sql(database_url, "VACUUM ANALYZE procrastinate_jobs")


def periodic_jobs(database_url: str) -> int:
    """Periodic jobs the workers deferred (and ran among ours): one row per tick deferred."""
    return sql(database_url, "SELECT count(*) FROM procrastinate_periodic_defers")[0][0]


# --------------------------------------------------------------------------------------------------


@dataclass
class Scenario:
    label: str
    processes: int
    concurrency: int
    defer_app: Run = field(default_factory=Run)
    defer_sql: Run = field(default_factory=Run)
    exec_app: Run = field(default_factory=Run)
    exec_sql: Run = field(default_factory=Run)


def measure(
    scenario: Scenario,
    noop,
    database_url: str,
    n: int,
    batch: int,
    workdir: Path,
    load: list[str],
    cold_stats: bool,
) -> None:
    clear_queue(database_url)
    scenario.defer_app = asyncio.run(defer_jobs_in_open_app(noop, n, batch))
    # Planner statistics for a full queue (autovacuum gets there within a minute or so; both sides
    # get the same). With the statistics of an empty queue (--cold-stats) each fetch reads every
    # waiting job, and a burst runs several times slower on both sides.
    if not cold_stats:
        sql(database_url, "ANALYZE procrastinate_jobs")
    before = queued(database_url).get("todo", 0)
    scenario.exec_app = run_worker_processes(scenario.processes, scenario.concurrency, database_url)
    left = queued(database_url)
    scenario.exec_app.jobs = before - left.get("todo", 0) - left.get("doing", 0)
    if left:
        scenario.exec_app.errors.append(f"left in the queue: {left}")
    load.append(" ".join(f"{x:.1f}" for x in os.getloadavg()))

    clear_queue(database_url)
    scenario.defer_sql = pgbench(database_url, defer_script(batch), 1, max(1, n // batch), batch, workdir)
    clients = scenario.processes * scenario.concurrency
    per_client = n // clients
    # A few more jobs than the clients take, so no fetch finds the queue empty.
    sql(
        database_url,
        "SELECT procrastinate_defer_jobs_v1(ARRAY(SELECT ROW('default', %(task)s, 0, NULL, NULL,"
        " jsonb_build_object('i', g), NULL)::procrastinate_job_to_defer_v1"
        " FROM generate_series(1, %(n)s) g))",
        {"task": TASK, "n": max(0, per_client * clients + 2 * clients - queued(database_url).get("todo", 0))},
    )
    if not cold_stats:
        sql(database_url, "ANALYZE procrastinate_jobs")
    worker_id = sql(database_url, "SELECT * FROM procrastinate_register_worker_v1()")[0][0]
    try:
        scenario.exec_sql = pgbench(
            database_url, EXECUTE_ONE, clients, per_client, 1, workdir, worker_id=worker_id
        )
    finally:
        sql(database_url, "SELECT procrastinate_unregister_worker_v1(%s)", (worker_id,))
    clear_queue(database_url)


async def defer_jobs_in_open_app(noop, n: int, batch: int) -> Run:
    from supportdesk import db

    try:
        return await defer_jobs(noop, n, batch)
    finally:
        await db.dispose()  # each asyncio.run is a new loop; the engine's pool belongs to the old one


def fmt_errors(*runs: Run) -> str:
    return "; ".join(e for run in runs for e in run.errors)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=5000, help="jobs per scenario (default 5,000)")
    parser.add_argument("--batch", type=int, default=100, help="jobs deferred per transaction")
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        help="one worker's concurrency (repeatable; default 8 and 1)",
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="also run this many worker processes (1: skip)"
    )
    parser.add_argument(
        "--single", type=int, default=1000, help="jobs deferred one per transaction (0: skip)"
    )
    parser.add_argument("--database-url", help="a migrated database (as the app role) instead of a fresh one")
    parser.add_argument(
        "--cold-stats",
        action="store_true",
        help="execute with the planner statistics of an empty queue (no ANALYZE after filling it)",
    )
    parser.add_argument("--child-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_worker:
        child_worker(args.child_worker)
        return
    concurrencies = args.concurrency or [8, 1]

    data_dir = use_database(args.database_url)
    noop = register_noop()
    from supportdesk import db

    workdir = Path(tempfile.mkdtemp(prefix="supportdesk-bench-jobs-pgbench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    if data_dir:
        print(f"starting embedded PostgreSQL in {data_dir.parent} ...", flush=True)
    database_url = db.database_url()
    if data_dir:
        db.migrate()
        JobsCpuMeter.postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])

    scenarios = [Scenario(f"1 worker, concurrency {c}", 1, c) for c in concurrencies]
    if args.processes > 1:
        c = concurrencies[0]
        scenarios.append(Scenario(f"{args.processes} workers, concurrency {c} each", args.processes, c))
    loads: list[str] = []
    for scenario in scenarios:
        measure(scenario, noop, database_url, args.jobs, args.batch, workdir, loads, args.cold_stats)
        s = scenario
        print(
            f"{s.label}: deferred {s.defer_app.rate:.0f} j/s (SQL {s.defer_sql.rate:.0f}), executed"
            f" {s.exec_app.jobs} at {s.exec_app.rate:.0f} j/s (SQL {s.exec_sql.rate:.0f}); load {loads[-1]}"
            + (
                f"; errors: {fmt_errors(s.exec_app, s.exec_sql, s.defer_sql)}"
                if fmt_errors(s.exec_app, s.exec_sql, s.defer_sql)
                else ""
            ),
            flush=True,
        )
    single_app = single_sql = None
    if args.single:
        single_app = asyncio.run(defer_jobs_in_open_app(noop, args.single, 1))
        clear_queue(database_url)
        single_sql = pgbench(database_url, defer_script(1), 1, args.single, 1, workdir)
        clear_queue(database_url)
    ran_others = periodic_jobs(database_url)
    if data_dir:
        clear_queue(database_url)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{args.jobs:,} jobs per scenario, {args.batch} deferred per transaction"
        f"{', cold statistics' if args.cold_stats else ''}; {os.cpu_count()} CPUs;"
        f" load average now {load}"
    )
    header = (
        f"{'scenario':<30} | {'defer j/s':>9} | {'SQL j/s':>8} | {'ratio':>6} | {'exec j/s':>8} | "
        f"{'SQL j/s':>8} | {'ratio':>6} | {'exec CPU ms/job (py + pg)':>26} | {'SQL pg ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for s in scenarios:
        d, e = s.defer_app, s.exec_app
        print(
            f"{s.label:<30} | {d.rate:>9.0f} | {s.defer_sql.rate:>8.0f} | "
            f"{ratio(d, s.defer_sql):>6.0%} | {e.rate:>8.0f} | {s.exec_sql.rate:>8.0f} | "
            f"{ratio(e, s.exec_sql):>6.0%} | "
            f"{e.cpu_ms('python'):>11.2f} + {e.cpu_ms('postgres'):>5.2f} = "
            f"{e.cpu_ms('python') + e.cpu_ms('postgres'):>5.2f} | {s.exec_sql.cpu_ms('postgres'):>9.2f}"
        )
    if single_app and single_sql:
        print(
            f"{'defer, 1 job per transaction':<30} | {single_app.rate:>9.0f} | {single_sql.rate:>8.0f} | "
            f"{ratio(single_app, single_sql):>6.0%} |"
        )
    defer_cpu = [(s.defer_app.cpu_ms("python"), s.defer_app.cpu_ms("postgres")) for s in scenarios]
    print(
        f"defer CPU per job (batch {args.batch}): python {statistics.median(c[0] for c in defer_cpu):.2f} ms,"
        f" postgres {statistics.median(c[1] for c in defer_cpu):.2f} ms"
        f" (SQL side: postgres {statistics.median(s.defer_sql.cpu_ms('postgres') for s in scenarios):.2f} ms)"
    )
    print(
        f"load average after each execute: {' | '.join(loads)}; periodic jobs deferred and run: {ran_others}"
    )
    for s in scenarios:
        if fmt_errors(s.exec_app, s.exec_sql, s.defer_sql):
            print(f"errors in {s.label}: {fmt_errors(s.exec_app, s.exec_sql, s.defer_sql)}")


def ratio(app: Run, sql_side: Run) -> float:
    return app.rate / sql_side.rate if sql_side.rate else float("nan")


if __name__ == "__main__":
    main()
