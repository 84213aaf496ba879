"""Breach-scan benchmark: one `scan_breaches` call over N open tickets and a longer resolved history.

It bulk-loads, with SQL, --open N open tickets (default 100,000) and --resolved M resolved or closed ones
(default 200,000) into --orgs organizations, with their due times set so that exactly --overdue K clocks
(default 1,000; half response, half resolution) have come due and are not met at the scan's `now`. The
other open tickets are decoys the scan must skip: clocks due later, tickets paused (`pending`) whose
resolution deadline has passed, tickets already breached. The history's deadlines are all in the past
(met, or resolved regardless): a scan that read it would find breaches that are not there. Then, after
VACUUM ANALYZE, it:

  1. shows EXPLAIN (ANALYZE, BUFFERS) of the scan's candidate query for each clock, exactly as
     `supportdesk.sla.service` issues it (in a transaction rolled back), with the pages it touched
     against the pages of the tickets table;
  2. times one `scan_breaches(system_session, now)` call: wall time, time spent in SQL statements (as
     the client sees them) and their number, PostgreSQL's CPU; and checks that it recorded exactly K;
  3. times a second call at the same `now`, which has nothing left to record;
  4. times the baselines in the same database, before the first call: a count(*) of the due
     clocks through the partial indexes (the least a scan must read), and the same count by a
     sequential scan of the whole tickets table (what a scan without the partial indexes would read).

No assertions: a wrong count is printed, not raised.

    .venv/bin/python bench/sla_scan.py                      # 100,000 open, 200,000 resolved, K = 1,000
    .venv/bin/python bench/sla_scan.py --open 20000 --resolved 50000 --overdue 200

It always starts a fresh embedded PostgreSQL in a temporary directory and deletes it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs import CpuMeter, use_database  # noqa: E402  (bench/jobs.py)

LOAD_SQL = [
    """
    INSERT INTO organizations (id, name, plan, monthly_ticket_limit, agent_limit, is_active, created_at,
                               updated_at)
    SELECT gen_random_uuid(), 'SLA bench ' || o, 'enterprise', 1000000, 100, true,
           %(t)s - interval '400 days', %(t)s - interval '400 days'
    FROM generate_series(1, %(orgs)s) o
    """,
    """
    INSERT INTO customers (id, organization_id, email, name, created_at, updated_at)
    SELECT gen_random_uuid(), org.id, 'customer' || g || '@bench.example', 'Customer ' || g,
           %(t)s - interval '400 days', %(t)s - interval '400 days'
    FROM organizations org, generate_series(1, %(customers)s) g
    """,
    # Open tickets. g = 1 .. N over all organizations (round-robin). The first K have a clock due and
    # unmet at t: g <= K/2 the response clock (status new), K/2 < g <= K the resolution clock (status
    # open, answered). The others, by g %% 10: 0 already breached on both clocks (deadlines past);
    # 1-2 pending, so the resolution clock is paused, with its deadline past; 3-6 new, 7-9 open, with
    # deadlines from 1 minute to 30 days ahead.
    """
    WITH orgs AS (SELECT array_agg(id ORDER BY id) AS o FROM organizations),
    cust AS (SELECT organization_id, array_agg(id ORDER BY id) AS c FROM customers GROUP BY 1),
    spec AS (
        SELECT g, o[1 + g %% cardinality(o)] AS org,
               CASE WHEN g <= %(k_response)s THEN 'late response'
                    WHEN g <= %(k)s THEN 'late resolution'
                    WHEN g %% 10 = 0 THEN 'breached'
                    WHEN g %% 10 IN (1, 2) THEN 'paused'
                    WHEN g %% 10 BETWEEN 3 AND 6 THEN 'new'
                    ELSE 'open' END AS kind,
               %(t)s - interval '1 hour' - (g %% 1440) * interval '1 minute' AS created,
               %(t)s + interval '1 minute' + (g %% 43200) * interval '1 minute' AS ahead,
               %(t)s - interval '1 second' * (1 + g %% 3600) AS past
        FROM generate_series(1, %(open)s) g, orgs
    )
    INSERT INTO tickets (id, organization_id, category_id, assigned_agent_id, customer_id, title,
                         description, status, priority, criticality, resolved_at, created_at, updated_at,
                         response_due_at, resolution_due_at, first_response_at, resolution_paused_at,
                         response_breached, resolution_breached)
    SELECT gen_random_uuid(), org, NULL, NULL, c[1 + g %% cardinality(c)], 'Open ticket ' || g,
           %(description)s,
           CASE kind WHEN 'late response' THEN 'new' WHEN 'new' THEN 'new' WHEN 'paused' THEN 'pending'
                     ELSE 'open' END,
           1 + g %% 5, (ARRAY['low', 'medium', 'high'])[1 + g %% 3], NULL, created, created,
           CASE WHEN kind IN ('late response', 'breached') THEN past ELSE ahead END,
           CASE WHEN kind IN ('late resolution', 'breached', 'paused') THEN past
                ELSE ahead + interval '8 hours' END,
           CASE WHEN kind IN ('new', 'late response', 'breached') THEN NULL ELSE created END,
           CASE WHEN kind = 'paused' THEN created + interval '10 minutes' END,
           kind = 'breached', kind = 'breached'
    FROM spec JOIN cust ON cust.organization_id = spec.org
    """,
    # History: resolved (and some closed) tickets over the past year, every deadline in the past.
    """
    WITH orgs AS (SELECT array_agg(id ORDER BY id) AS o FROM organizations),
    cust AS (SELECT organization_id, array_agg(id ORDER BY id) AS c FROM customers GROUP BY 1),
    spec AS (
        SELECT g, o[1 + g %% cardinality(o)] AS org,
               %(t)s - interval '2 days'
                   - (%(resolved)s - g) * (interval '365 days' / %(resolved)s) AS created
        FROM generate_series(1, %(resolved)s) g, orgs
    )
    INSERT INTO tickets (id, organization_id, category_id, assigned_agent_id, customer_id, title,
                         description, status, priority, criticality, resolved_at, created_at, updated_at,
                         response_due_at, resolution_due_at, first_response_at, resolution_paused_at,
                         response_breached, resolution_breached)
    SELECT gen_random_uuid(), org, NULL, NULL, c[1 + g %% cardinality(c)], 'Resolved ticket ' || g,
           %(description)s, CASE WHEN g %% 4 = 0 THEN 'closed' ELSE 'resolved' END,
           1 + g %% 5, (ARRAY['low', 'medium', 'high'])[1 + g %% 3], created + interval '3 hours',
           created, created + interval '3 hours',
           created + interval '60 minutes', created + interval '480 minutes',
           -- one in five answered late: unflagged, as history from before the scan ran would be
           created + CASE WHEN g %% 5 = 0 THEN interval '2 hours' ELSE interval '20 minutes' END,
           NULL, false, false
    FROM spec JOIN cust ON cust.organization_id = spec.org
    """,
]
DESCRIPTION = (
    "The export button on the reports page spins forever and nothing is downloaded. "
    "It started after yesterday's update; it happens in Firefox and Chrome alike."
)


def system(conn: psycopg.Connection) -> None:
    conn.execute("SELECT set_config('supportdesk.system', 'on', false)")


def load(database_url: str, t: datetime, args: argparse.Namespace) -> float:
    started = time.perf_counter()
    params = {
        "t": t,
        "orgs": args.orgs,
        "customers": max(100, (args.open + args.resolved) // args.orgs // 20),
        "open": args.open,
        "resolved": args.resolved,
        "k": args.overdue,
        "k_response": args.overdue // 2,
        "description": DESCRIPTION,
    }
    with psycopg.connect(database_url) as conn:
        with conn.transaction():
            system(conn)
            for statement in LOAD_SQL:
                conn.execute(statement, params)
        conn.autocommit = True
        for table in ("organizations", "customers", "tickets"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started


def candidate_sql(clock) -> str:
    """The candidate query of supportdesk.sla.service._scan_batch, in psycopg's parameter style."""
    return (
        f"SELECT id, organization_id, {clock.due_column} AS due_at, criticality FROM tickets"
        f" WHERE {clock.running} AND {clock.due_column} <= %(now)s"
        f" ORDER BY {clock.due_column} LIMIT %(batch)s FOR UPDATE SKIP LOCKED"
    )


def explain(database_url: str, now: datetime) -> list[tuple[str, str, int]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each clock's first batch; returns (clock, plan, pages touched)."""
    from supportdesk.sla.service import BATCH_SIZE, CLOCKS

    out = []
    with psycopg.connect(database_url) as conn:
        for clock in CLOCKS:
            with conn.transaction(force_rollback=True):
                system(conn)
                rows = conn.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + candidate_sql(clock),
                    {"now": now, "batch": BATCH_SIZE},
                ).fetchall()
            plan = "\n".join(row[0] for row in rows)
            top = re.search(r"Buffers: shared (?:hit=(\d+))?\s*(?:read=(\d+))?", plan)
            pages = sum(int(x) for x in top.groups() if x) if top else -1
            out.append((clock.name, plan, pages))
    return out


def sizes(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT pg_relation_size('tickets') / 8192,"
            " pg_relation_size('idx_tickets_response_clock') / 8192,"
            " pg_relation_size('idx_tickets_resolution_clock') / 8192"
        ).fetchone()
    return {"tickets": row[0], "response index": row[1], "resolution index": row[2]}


def counts(database_url: str, now: datetime) -> dict[str, int]:
    """What is in the table, by the scan's own predicates."""
    from supportdesk.sla.service import CLOCKS

    with psycopg.connect(database_url) as conn:
        system(conn)
        found = {
            "open": conn.execute(
                "SELECT count(*) FROM tickets WHERE status NOT IN ('resolved', 'closed')"
            ).fetchone()[0],
            "history": conn.execute(
                "SELECT count(*) FROM tickets WHERE status IN ('resolved', 'closed')"
            ).fetchone()[0],
        }
        for clock in CLOCKS:
            found[f"{clock.name} running"] = conn.execute(
                f"SELECT count(*) FROM tickets WHERE {clock.running}"
            ).fetchone()[0]
            found[f"{clock.name} overdue"] = conn.execute(
                f"SELECT count(*) FROM tickets WHERE {clock.running} AND {clock.due_column} <= %(now)s",
                {"now": now},
            ).fetchone()[0]
    return found


def time_sql(
    database_url: str, now: datetime, queries: list[str], repeat: int, seqscan: bool
) -> tuple[float, str]:
    """Median seconds (over `repeat`) of running every query once, as the client sees it; and the
    scan nodes of their plans."""
    times, nodes = [], []
    with psycopg.connect(database_url) as conn:
        system(conn)
        if seqscan:
            conn.execute(
                "SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off"
            )
        for query in queries:
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (COSTS OFF) " + query, {"now": now}))
            nodes += re.findall(r"((?:Index Only Scan|Index Scan|Seq Scan|Bitmap Index Scan)[^\n]*)", plan)[
                :1
            ]
        for _ in range(repeat):
            started = time.perf_counter()
            for query in queries:
                conn.execute(query, {"now": now}).fetchall()
            times.append(time.perf_counter() - started)
    return statistics.median(times), "; ".join(n.strip() for n in nodes)


class StatementTimer:
    """Time spent inside SQL statements of the app's engine (execute to result, as the client sees it)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0
        self._started: list[float] = []

    def before(self, *args) -> None:
        self._started.append(time.perf_counter())

    def after(self, *args) -> None:
        self.seconds += time.perf_counter() - self._started.pop()
        self.statements += 1


async def scan(now: datetime) -> tuple[int, float, StatementTimer, dict[str, float]]:
    from sqlalchemy import event, text

    from supportdesk import db
    from supportdesk.sla.service import scan_breaches

    timer = StatementTimer()
    engine = db.engine().sync_engine
    event.listen(engine, "before_cursor_execute", timer.before)
    event.listen(engine, "after_cursor_execute", timer.after)
    try:
        async with db.system_session() as session:  # a warm connection: not what is measured
            await session.execute(text("SELECT 1"))
        timer.seconds, timer.statements = 0.0, 0
        with CpuMeter() as meter:
            started = time.perf_counter()
            recorded = await scan_breaches(db.system_session, now)
            wall = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", timer.before)
        event.remove(engine, "after_cursor_execute", timer.after)
        await db.dispose()
    return recorded, wall, timer, meter.used


def recorded_breaches(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        system(conn)
        return dict(conn.execute("SELECT kind, count(*) FROM sla_events GROUP BY 1").fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--open", type=int, default=100_000, help="open tickets (default 100,000)")
    parser.add_argument("--resolved", type=int, default=200_000, help="resolved/closed history (200,000)")
    parser.add_argument("--overdue", type=int, default=1000, help="clocks due at the scan (K, default 1,000)")
    parser.add_argument("--orgs", type=int, default=10, help="organizations the tickets are spread over")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each baseline query (median)")
    parser.add_argument("--show-plans", action="store_true", help="print the full EXPLAIN output")
    args = parser.parse_args()
    if args.overdue > args.open:
        parser.error("--overdue cannot exceed --open")

    data_dir = use_database(None)
    sys.path.insert(0, str(ROOT / "src"))
    from supportdesk import db

    print(f"starting embedded PostgreSQL in {data_dir.parent} ...", flush=True)
    database_url = db.database_url()
    db.migrate()
    CpuMeter.postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    from supportdesk.sla.service import CLOCKS

    now = datetime.now(UTC).replace(microsecond=0)
    took = load(database_url, now, args)
    before = counts(database_url, now)
    size = sizes(database_url)
    print(
        f"loaded in {took:.1f}s: {before['open']:,} open and {before['history']:,} resolved/closed tickets"
        f" in {args.orgs} organizations; tickets table {size['tickets']:,} pages; running clocks:"
        f" response {before['response running']:,} ({size['response index']} index pages), resolution"
        f" {before['resolution running']:,} ({size['resolution index']} index pages); due at now:"
        f" response {before['response overdue']:,}, resolution {before['resolution overdue']:,}",
        flush=True,
    )

    plans = explain(database_url, now)
    for name, plan, pages in plans:
        index = re.search(r"(?:Index Scan using|Index Only Scan using|Bitmap Index Scan on) (\w+)", plan)
        rows = re.search(r"Index Scan[^\n]*\(actual time=\S+ rows=(\d+)", plan)
        print(
            f"EXPLAIN {name} batch: {'index ' + index.group(1) if index else 'NO INDEX SCAN'},"
            f" {rows.group(1) if rows else '?'} index entries read,"
            f" {pages} pages touched in all (the tickets table has {size['tickets']:,})"
        )
        if args.show_plans or not index:
            print("    " + plan.replace("\n", "\n    "))

    # Baselines before the scan, while the K due clocks are still in the partial indexes.
    overdue_queries = [
        f"SELECT count(*) FROM tickets WHERE {clock.running} AND {clock.due_column} <= %(now)s"
        for clock in CLOCKS
    ]
    index_only, index_plan = time_sql(database_url, now, overdue_queries, args.repeat, seqscan=False)
    seq, seq_plan = time_sql(database_url, now, overdue_queries, args.repeat, seqscan=True)

    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    first = asyncio.run(scan(now))
    found = recorded_breaches(database_url)
    second = asyncio.run(scan(now))

    print(
        f"\nscan at now = {now.isoformat()}; {os.cpu_count()} CPUs; load average {load_avg} (before the scan)"
    )
    header = (
        f"{'':<42} | {'recorded':>8} | {'wall ms':>8} | {'in SQL ms':>9} | {'statements':>10} | "
        f"{'pg CPU ms':>9} | {'py CPU ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, (recorded, wall, timer, cpu) in (
        ("scan_breaches, first call", first),
        ("scan_breaches, second call (nothing due)", second),
    ):
        print(
            f"{label:<42} | {recorded:>8,} | {wall * 1000:>8.1f} | {timer.seconds * 1000:>9.1f} | "
            f"{timer.statements:>10,} | {cpu.get('postgres', 0) * 1000:>9.0f} | "
            f"{cpu.get('python', 0) * 1000:>9.0f}"
        )
    print(f"{'baseline: count of due clocks, partial idx':<42} | {'':>8} | {index_only * 1000:>8.1f} |")
    print(f"{'baseline: same count, seq scan of tickets':<42} | {'':>8} | {seq * 1000:>8.1f} |")
    print(
        f"\nfirst call: expected {args.overdue:,}, recorded {first[0]:,} ({found});"
        f" {'OK' if first[0] == args.overdue else 'WRONG'};"
        f" per breach {first[1] * 1000 / max(1, first[0]):.2f} ms"
        f"\nfirst call: {first[1] / seq:.0f}x the seq scan; second call: recorded {second[0]};"
        f" {second[1] * 1000:.1f} ms ="
        f" {second[1] / index_only:.1f}x the partial-index count, {second[1] / seq:.3f}x the seq scan"
    )
    print(f"baseline plans: {index_plan} | {seq_plan}")
    print(f"load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
