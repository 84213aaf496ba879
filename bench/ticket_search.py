"""Ticket search latency as an organization's history grows: GET /api/v1/tickets?q= at N tickets.

It starts a fresh embedded PostgreSQL in a temporary directory (or uses --database-url, migrated by the
benchmark; its organizations stay there), signs up one organization per size in --tickets and one small
organization (--small, 60 tickets) in the same database, and bulk-loads their tickets with SQL: titles
of 4-9 words and descriptions of 20-59 words drawn Zipf-like from the stackfaq vocabulary's 4,000
most frequent words, created over the past two years, statuses by age as a real history has them
(mostly closed, a few open). Then VACUUM ANALYZE.

Five searches (see `searches`): a word found nowhere; a rare word, one the draw never makes, added to 5
tickets of each organization (same page at every size); an uncommon word of the vocabulary (~0.4 % of
tickets), a common one (~17 %), and two words (~0.4 % have both). Each runs --runs times per
organization and mode after --warmup unmeasured runs, organizations and modes interleaved in a shuffled
order run by run:

  api   GET /api/v1/tickets?q= through the ASGI app, in process (token, tenant, list_tickets with
        its SET LOCAL plan_cache_mode, the page's breaches, JSON). Pooled connections: psycopg prepares
        a statement after 5 executions on a connection, and PostgreSQL may then plan it generically.
  new   the list statement alone, service.list_tickets in a tenant session (db.tenant_session)
  old   the same statement with the seed's condition, `to_tsvector('simple', title || ' ' || description)
        @@ websearch_to_tsquery('simple', q)`, as list_tickets spelled it before migration 0014, in a
        tenant session: under row-level security the planner cannot use idx_tickets_search for it

and prints p50/p95 and the ratios that matter (machines are noisy): api(N)/api(small) and
api(N)/old(N). Then EXPLAIN (ANALYZE, BUFFERS) of each search under row-level security, new condition
and old: the plan's nodes, rows, shared buffers and execution time (--show-plans: the whole plan of the
new one). It asserts nothing.

    .venv/bin/python bench/ticket_search.py                        # N = 1,000 and 30,000; 30 runs
    .venv/bin/python bench/ticket_search.py --tickets 100000 --runs 20 --show-plans

Figures: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs import use_database  # noqa: E402  (bench/jobs.py: a fresh embedded server, deleted at exit)

STACKFAQ = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "stackfaq"  # ../shared
PASSWORD = "bench-password-1234"
MODES = ("api", "new", "old")
DRAWN = 4000  # the vocabulary's most frequent words, those the tickets' texts are drawn from
# Words by their rank in the vocabulary (most frequent first). With a word drawn as
# w[1 + floor(random()^3 * 4000)] ~47 times per ticket, rank 11 is in about a sixth of the tickets,
# rank 3,600 in about 0.4 %, ranks 30 and 100 in about 10 % and 4 % (both: ~0.4 %). The rare word is
# one never drawn, added to exactly RARE_TICKETS tickets of each organization (a product or a
# customer's name, an error code): the same page at every size.
NOWHERE = "quixotically"  # not in the vocabulary: checked at the start
COMMON_RANK, UNCOMMON_RANK, PAIR_RANKS, RARE_RANK = 11, 3600, (30, 100), 4100
RARE_TICKETS = 5


def vocabulary(limit: int | None = None) -> list[str]:
    counts: Counter[str] = Counter()
    for name, fields in (("docs.jsonl", ("title", "content")), ("queries.jsonl", ("text",))):
        for line in (STACKFAQ / name).read_text().splitlines():
            record = json.loads(line)
            counts.update(re.findall(r"[a-z]{3,}", " ".join(record[f] for f in fields).lower()))
    return [word for word, _ in counts.most_common(limit)]


def searches(words: list[str]) -> dict[str, str]:
    if NOWHERE in words:
        raise SystemExit(f"{NOWHERE!r} is in the vocabulary: choose another word found nowhere")
    return {
        "nowhere": NOWHERE,
        "rare": words[RARE_RANK],
        "uncommon": words[UNCOMMON_RANK],
        "common": words[COMMON_RANK],
        "two words": f"{words[PAIR_RANKS[0]]} {words[PAIR_RANKS[1]]}",
    }


LOAD = """
SELECT setseed(:seed);

INSERT INTO customers (id, organization_id, email, name, created_at, updated_at)
SELECT gen_random_uuid(), :org, 'customer' || g || '@bench.example', 'Customer ' || g,
       now() - interval '2 years', now() - interval '2 years'
FROM generate_series(1, :customers) g;

WITH customer_ids AS (
    SELECT array_agg(id ORDER BY email) AS c FROM customers WHERE organization_id = :org
), drawn AS (
    SELECT g, now() - random() * interval '730 days' AS created, random() AS r, random() AS r2
    FROM generate_series(1, :n) g
), aged AS (
    SELECT drawn.*,
           CASE WHEN created > now() - interval '3 days'
                    THEN (ARRAY['new', 'open', 'pending', 'resolved', 'closed'])[1 + floor(r * 5)::int]
                WHEN created > now() - interval '30 days'
                    THEN (ARRAY['open', 'pending', 'on_hold', 'resolved', 'closed', 'closed'])
                         [1 + floor(r * 6)::int]
                WHEN r < 0.01 THEN 'open' WHEN r < 0.02 THEN 'pending'
                WHEN r < 0.25 THEN 'resolved' ELSE 'closed' END AS status
    FROM drawn
)
INSERT INTO tickets (id, organization_id, category_id, assigned_agent_id, customer_id, title, description,
                     status, priority, criticality, resolved_at, created_at, updated_at, response_due_at,
                     resolution_due_at, first_response_at, resolution_paused_at, response_breached,
                     resolution_breached)
SELECT gen_random_uuid(), :org, NULL, CASE WHEN status = 'new' THEN NULL ELSE CAST(:admin AS uuid) END,
       c[1 + g % cardinality(c)], left(initcap(title.text), 255),
       description.text || CASE WHEN g % (:n / :rare_tickets) = 0
                                     AND g / (:n / :rare_tickets) <= :rare_tickets
                                THEN ' ' || :rare ELSE '' END,
       status, 1 + g % 5,
       (ARRAY['low', 'medium', 'high'])[1 + g % 3],
       CASE WHEN status IN ('resolved', 'closed') THEN least(created + r2 * interval '3 days', now()) END,
       created, least(created + r2 * interval '3 days', now()),
       created + interval '60 minutes', created + interval '480 minutes',
       CASE WHEN status <> 'new' THEN created + r2 * interval '2 hours' END,
       CASE WHEN status = 'pending' THEN least(created + r2 * interval '1 day', now()) END,
       status <> 'new' AND r2 > 0.5, status IN ('resolved', 'closed') AND r2 > 0.8
FROM aged, customer_ids, (SELECT CAST(:words AS text[]) AS w) v,
     LATERAL (SELECT string_agg(w[1 + floor(random() ^ 3 * cardinality(w))::int + 0 * i], ' ')
              FROM generate_series(1, 4 + g % 6) i WHERE i > -g) AS title(text),
     LATERAL (SELECT string_agg(w[1 + floor(random() ^ 3 * cardinality(w))::int + 0 * i], ' ')
              FROM generate_series(1, 20 + g % 40) i WHERE i > -g) AS description(text);
"""


@dataclass
class Org:
    label: str
    tickets: int
    id: uuid.UUID
    token: str
    load_s: float = 0.0
    matches: dict[str, int] = field(default_factory=dict)


async def new_org(label: str, tickets: int, words: list[str], rare: str, seed: float) -> Org:
    """A new organization with `tickets` bulk-loaded tickets."""
    from sqlalchemy import text

    from supportdesk import db
    from supportdesk.organizations.schemas import SignupIn
    from supportdesk.organizations.service import sign_up

    async with db.transaction() as session:
        organization, admin, token = await sign_up(
            session,
            SignupIn(
                name=f"Bench {label}",
                admin_email=f"{uuid.uuid4().hex}@bench.example",
                admin_name="Bench",
                admin_password=PASSWORD,
                plan="enterprise",
            ),
        )
    started = time.perf_counter()
    params = {
        "seed": seed,
        "org": organization.id,
        "admin": admin.id,
        "n": tickets,
        "customers": max(5, tickets // 10),
        "words": words[:DRAWN],
        "rare": rare,
        "rare_tickets": RARE_TICKETS,
    }
    async with db.tenant_session(organization.id) as session:
        for statement in LOAD.split(";\n"):
            if statement.strip():
                await session.execute(text(statement), params)
    return Org(label, tickets, organization.id, token, load_s=time.perf_counter() - started)


async def vacuum_analyze() -> None:
    from sqlalchemy import text

    from supportdesk import db

    async with db.engine().connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("tickets", "customers", "users", "api_tokens", "organizations"):
            await connection.execute(text(f"VACUUM (ANALYZE) {table}"))


def old_statement(org: uuid.UUID, q: str):
    """The list statement with the seed's condition, as list_tickets spelled it before migration 0014."""
    from sqlalchemy import func, literal_column, select, text

    from supportdesk.pagination import LIMIT_DEFAULT, paginate
    from supportdesk.tickets.models import Ticket

    document = func.to_tsvector(
        literal_column("'simple'::regconfig"), Ticket.title + literal_column("' '") + Ticket.description
    )
    statement = (
        select(Ticket)
        .where(Ticket.organization_id == org)
        .where(document.op("@@")(func.websearch_to_tsquery(text("'simple'"), q)))
    )
    return paginate(statement, Ticket.created_at, Ticket.id, None, LIMIT_DEFAULT)


async def run_sql(org: Org, q: str, mode: str) -> int:
    """One search in a tenant session: `new` is list_tickets itself, `old` the seed's condition."""
    from supportdesk import db
    from supportdesk.auth.actor import Actor
    from supportdesk.pagination import LIMIT_DEFAULT
    from supportdesk.tickets import service
    from supportdesk.tickets.schemas import TicketFilters

    async with db.tenant_session(org.id) as session:
        if mode == "new":
            actor = Actor(organization_id=org.id, role="admin")
            rows = await service.list_tickets(session, actor, TicketFilters(q=q), None, LIMIT_DEFAULT)
        else:
            rows = list((await session.scalars(old_statement(org.id, q))).all())
    return len(rows)


class Capture:
    """The SELECT statements (driver SQL and parameters) executed on the engine while active."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, object]] = []

    def __enter__(self) -> Capture:
        from sqlalchemy import event

        from supportdesk import db

        event.listen(db.engine().sync_engine, "before_cursor_execute", self.hook)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        from supportdesk import db

        event.remove(db.engine().sync_engine, "before_cursor_execute", self.hook)

    def hook(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM tickets" in statement:
            self.statements.append((statement, parameters))


async def explain(org: Org, q: str, mode: str) -> tuple[dict, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the search's statement, in a tenant session: JSON and text."""
    from sqlalchemy import text

    from supportdesk import db

    with Capture() as capture:
        await run_sql(org, q, mode)
    statement, parameters = capture.statements[-1]
    async with db.tenant_session(org.id) as session:
        if mode == "new":  # as list_tickets runs it
            await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        connection = await session.connection()
        as_json = (
            await connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
            )
        ).scalar()
        as_text = (
            await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        ).all()
    plan = as_json[0] if isinstance(as_json, list) else json.loads(as_json)[0]
    return plan, "\n".join(row[0] for row in as_text)


def plan_summary(plan: dict) -> str:
    """The chain of plan nodes (scans with their index), the top node's rows and shared buffers."""
    top = plan["Plan"]
    nodes, stack = [], [top]
    while stack:
        node = stack.pop(0)
        name = node["Node Type"]
        if "Index Name" in node:
            name += f" {node['Index Name']}"
        elif "Relation Name" in node:
            name += f" {node['Relation Name']}"
        if node.get("Rows Removed by Filter"):  # an average per loop (parallel workers: one each)
            removed = round(node["Rows Removed by Filter"] * node.get("Actual Loops", 1))
            name += f" (removed by filter {removed:,})"
        nodes.append(name)
        stack[:0] = node.get("Plans", [])
    buffers = f"shared hit {top.get('Shared Hit Blocks', 0):,}"
    if top.get("Shared Read Blocks"):
        buffers += f" read {top['Shared Read Blocks']:,}"
    return f"{' > '.join(nodes)}; rows {top['Actual Rows']}; {buffers}; {plan['Execution Time']:.2f} ms"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


async def timed(orgs: list[Org], queries: dict[str, str], runs: int, warmup: int) -> dict:
    """Seconds per run, by (search, organization label, mode); organizations and modes interleaved."""
    import httpx

    from supportdesk.app import create_app

    transport = httpx.ASGITransport(app=create_app())
    clients = {
        org.label: httpx.AsyncClient(
            transport=transport,
            base_url="http://bench/api/v1",
            headers={"Authorization": f"Bearer {org.token}"},
            timeout=120,
        )
        for org in orgs
    }
    times: dict = {}
    shuffle = random.Random(19).shuffle
    cells = [(org, mode) for org in orgs for mode in MODES]
    try:
        for name, q in queries.items():
            for run in range(warmup + runs):
                shuffle(cells)  # no organization or mode always follows the slowest one
                for org, mode in cells:
                    started = time.perf_counter()
                    if mode == "api":
                        response = await clients[org.label].get("/tickets", params={"q": q})
                        response.raise_for_status()
                        found = len(response.json()["data"])
                    else:
                        found = await run_sql(org, q, mode)
                    elapsed = time.perf_counter() - started
                    if run >= warmup:
                        times.setdefault((name, org.label, mode), []).append(elapsed)
                    times.setdefault(("page", name, org.label, mode), found)
    finally:
        for client in clients.values():
            await client.aclose()
    return times


async def count_matches(org: Org, queries: dict[str, str]) -> None:
    from sqlalchemy import text

    from supportdesk import db

    async with db.tenant_session(org.id) as session:
        for name, q in queries.items():
            org.matches[name] = await session.scalar(
                text(
                    "SELECT count(*) FROM tickets"
                    " WHERE search_document @@ websearch_to_tsquery('simple'::regconfig, :q)"
                ),
                {"q": q},
            )


async def run(args: argparse.Namespace) -> None:
    from supportdesk import db

    db.migrate()
    words = vocabulary()
    queries = searches(words)
    orgs = [await new_org("small", args.small, words, queries["rare"], 0.19)]
    for i, n in enumerate(args.tickets):
        orgs.append(await new_org(f"{n:,}", n, words, queries["rare"], 0.2 + i / 100))
    await vacuum_analyze()
    for org in orgs:
        await count_matches(org, queries)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"loaded: {', '.join(f'{o.tickets:,} tickets in {o.load_s:.1f}s' for o in orgs)}; "
        f"load average {load}",
        flush=True,
    )
    print("searches: " + "; ".join(f"{name} = {q!r}" for name, q in queries.items()), flush=True)

    times = await timed(orgs, queries, args.runs, args.warmup)
    small = orgs[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{args.runs} runs per cell, {os.cpu_count()} CPUs, load average {load} (p50/p95 ms)")
    header = (
        f"{'search':<10} {'tickets':>8} {'matches':>7} {'page':>4} | {'api':>13} | {'new (SQL)':>13} | "
        f"{'old (SQL)':>15} | {'api/api(small)':>14} | {'api/old':>11}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for name in queries:
        base = percentiles(times[(name, small.label, "api")])
        for org in orgs:
            p = {mode: percentiles(times[(name, org.label, mode)]) for mode in MODES}

            def ratio(a: dict, b: dict) -> str:
                return f"{a['p50_ms'] / b['p50_ms']:.2f}/{a['p95_ms'] / b['p95_ms']:.2f}"

            cells = {mode: f"{p[mode]['p50_ms']:.1f}/{p[mode]['p95_ms']:.1f}" for mode in MODES}
            print(
                f"{name:<10} {org.tickets:>8,} {org.matches[name]:>7,} "
                f"{times[('page', name, org.label, 'api')]:>4} | {cells['api']:>13} | {cells['new']:>13} | "
                f"{cells['old']:>15} | {ratio(p['api'], base):>14} | {ratio(p['api'], p['old']):>11}"
            )
            results.append({"search": name, "tickets": org.tickets, "matches": org.matches[name], **p})
    print("(ratios: p50/p50 and p95/p95)")

    print("\nEXPLAIN (ANALYZE, BUFFERS) under row-level security, custom plans:")
    for name, q in queries.items():
        for org in orgs:
            for mode in ("new", "old"):
                plan, plan_text = await explain(org, q, mode)
                print(f"  {name:<10} {org.tickets:>7,} {mode}: {plan_summary(plan)}")
                if args.show_plans and mode == "new":
                    print("    " + plan_text.replace("\n", "\n    "))
    if args.json:
        print(json.dumps({"queries": queries, "results": results}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tickets", type=int, action="append", help="tickets of one organization (repeatable; 1000, 30000)"
    )
    parser.add_argument("--small", type=int, default=60, help="tickets of the baseline organization")
    parser.add_argument("--runs", type=int, default=30, help="measured runs per search, organization, mode")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs before them")
    parser.add_argument("--show-plans", action="store_true", help="print the whole plan of each search")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument(
        "--database-url", help="a database to use (migrated here) instead of a fresh embedded server"
    )
    args = parser.parse_args()
    args.tickets = args.tickets or [1000, 30_000]
    use_database(args.database_url)
    from supportdesk import db

    async def one() -> None:
        try:
            await run(args)
        finally:
            await db.dispose()

    asyncio.run(one())


if __name__ == "__main__":
    main()
