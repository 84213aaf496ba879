"""Ticket-creation benchmark: POST /api/v1/tickets against the same work done as plain SQL by pgbench.

For each size N of existing history it signs up an `enterprise` organization with a few agents,
bulk-loads N resolved tickets (with their customers, audit rows and usage counters) straight into the
database, then, against that one organization and database:

  1. drives POST /api/v1/tickets with --clients concurrent httpx clients for --seconds;
  2. runs pgbench with the same number of clients for the same time on a script that issues the SQL one
     ticket creation issues (token lookup, tenant setting, usage-counter upsert with the limit check,
     customer upsert, advisory lock + least-loaded agent + last_assigned_at, ticket insert, audit row);

and prints tickets/s for both, their ratio (the figure that matters: machines are noisy), and latency.
No assertions: this measures, it does not judge.

    .venv/bin/python bench/tickets.py                         # N = 1,000 and 100,000, own server
    .venv/bin/python bench/tickets.py --existing 1000 --clients 8 --seconds 10
    .venv/bin/python bench/tickets.py --server-url http://127.0.0.1:8000 \
        --database-url 'postgresql://supportdesk@/supportdesk?host=/tmp/...'   # a running server

Without --server-url it starts a fresh embedded PostgreSQL in a temporary directory (one database per
N) and `supportdesk serve` on a free loopback port, and stops and deletes everything at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
from cpu import CpuMeter  # bench/cpu.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
PGBENCH = shutil.which("pgbench") or "/usr/bin/pgbench"
AGENTS = 5
PASSWORD = "bench-password-123"
DESCRIPTION = (
    "The export button on the reports page spins forever and nothing is downloaded. "
    "It started after yesterday's update; it happens in Firefox and Chrome alike."
)


# --------------------------------------------------------------------------------------------------
# Database and server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnPostgres:
    """A fresh embedded PostgreSQL 16 (the product's own setup) in a temporary directory."""

    def __init__(self, workdir: Path) -> None:
        self.data_dir = workdir / "pgdata"
        os.environ["XDG_RUNTIME_DIR"] = str(workdir / "runtime")
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700)
        sys.path.insert(0, str(ROOT / "src"))
        from supportdesk import embedded

        self.app_url = embedded.start(self.data_dir)  # role `supportdesk`, database `supportdesk`
        import pgserver

        self.server = pgserver.get_server(str(self.data_dir.resolve()))

    def new_database(self, name: str) -> str:
        """A new empty database owned by the app role; its libpq URL as the app role."""
        self.server.psql(f"CREATE DATABASE {name} OWNER supportdesk;")
        self.server.psql(f"\\c {name}\nCREATE EXTENSION IF NOT EXISTS vector;")
        return self.app_url.replace("/supportdesk?", f"/{name}?")

    def checkpoint(self) -> None:
        self.server.psql("CHECKPOINT;")

    def stop(self) -> None:
        self.server.cleanup()


class ApiServer:
    """`supportdesk serve` (migrates, then serves) as a subprocess on a free loopback port."""

    def __init__(self, database_url: str, log_path: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ, DATABASE_URL=database_url)
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                *(
                    str(ROOT / ".venv/bin/supportdesk"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ),
                *("--workers", str(workers), "--no-worker"),
            ],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"server not ready after {timeout}s:\n{self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --------------------------------------------------------------------------------------------------
# Setup: organization, agents, existing history


@dataclass
class Org:
    id: str
    admin_id: str
    token: str
    customers: int  # existing customers customer1..customerK@bench.example


def sign_up(server_url: str) -> Org:
    tag = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=f"{server_url}/api/v1", timeout=60) as client:
        r = client.post(
            "/organizations",
            json={
                "name": f"Bench {tag}",
                "admin_email": f"admin-{tag}@bench.example",
                "admin_name": "Bench Admin",
                "admin_password": PASSWORD,
                "plan": "enterprise",
            },
        )
        if r.status_code != 201:
            raise SystemExit(f"sign-up failed: {r.status_code} {r.text}")
        body = r.json()
        token = body["access_token"]
        for i in range(AGENTS):
            r = client.post(
                "/users",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "email": f"agent{i}-{tag}@bench.example",
                    "name": f"Agent {i}",
                    "role": "agent",
                    "password": PASSWORD,
                },
            )
            if r.status_code != 201:
                raise SystemExit(f"adding an agent failed: {r.status_code} {r.text}")
    return Org(id=body["organization"]["id"], admin_id=body["user"]["id"], token=token, customers=0)


LOAD_SQL = [
    # Customers: one per 4 tickets (at least 100).
    """
    INSERT INTO customers (id, organization_id, email, name, created_at, updated_at)
    SELECT gen_random_uuid(), %(org)s, 'customer' || g || '@bench.example', 'Customer ' || g,
           now() - interval '400 days', now() - interval '400 days'
    FROM generate_series(1, %(customers)s) g
    """,
    # Tickets: resolved (so the agent-load trigger has nothing to count), spread over the past year,
    # shared round-robin between the agents and customers.
    """
    WITH agents AS (
        SELECT array_agg(id ORDER BY id) AS a FROM users WHERE organization_id = %(org)s AND role = 'agent'
    ), customers AS (
        SELECT array_agg(id ORDER BY id) AS c FROM customers WHERE organization_id = %(org)s
    )
    INSERT INTO tickets (id, organization_id, category_id, assigned_agent_id, customer_id, title,
                         description, status, priority, criticality, resolved_at, created_at, updated_at,
                         response_due_at, resolution_due_at, first_response_at,
                         response_breached, resolution_breached)
    SELECT gen_random_uuid(), %(org)s, NULL, a[1 + g %% cardinality(a)], c[1 + g %% cardinality(c)],
           'Existing ticket ' || g, %(description)s, 'resolved', 1 + g %% 5,
           (ARRAY['low', 'medium', 'high'])[1 + g %% 3],
           ts + interval '3 hours', ts, ts + interval '3 hours',
           ts + interval '60 minutes', ts + interval '480 minutes', ts + interval '20 minutes',
           false, false
    FROM generate_series(1, %(n)s) g, agents, customers,
         LATERAL (SELECT now() - interval '1 hour' - (%(n)s - g) * (interval '365 days' / %(n)s) AS ts) t
    """,
    # One audit row per ticket, as creation writes.
    """
    INSERT INTO audit_logs (id, organization_id, actor_id, action, entity_type, entity_id, before, after,
                            created_at)
    SELECT gen_random_uuid(), t.organization_id, %(admin)s, 'ticket.created', 'ticket', t.id, NULL,
           jsonb_build_object('id', t.id, 'organization_id', t.organization_id, 'category_id', NULL,
                              'assigned_agent_id', t.assigned_agent_id, 'customer_id', t.customer_id,
                              'title', t.title, 'description', t.description, 'status', 'new',
                              'priority', t.priority, 'criticality', t.criticality, 'resolved_at', NULL,
                              'created_at', t.created_at, 'updated_at', t.created_at,
                              'sla', jsonb_build_object('response_due_at', t.response_due_at,
                                                        'resolution_due_at', t.resolution_due_at,
                                                        'first_response_at', NULL,
                                                        'response_breached', false,
                                                        'resolution_breached', false,
                                                        'resolution_paused', false)),
           t.created_at
    FROM tickets t WHERE t.organization_id = %(org)s
    """,
    # The monthly counters those tickets would have left behind (UTC months, as the app counts).
    """
    INSERT INTO usage_counters AS counter (organization_id, month, tickets_created)
    SELECT %(org)s, (date_trunc('month', created_at AT TIME ZONE 'UTC'))::date, count(*)
    FROM tickets WHERE organization_id = %(org)s GROUP BY 2
    ON CONFLICT (organization_id, month)
        DO UPDATE SET tickets_created = counter.tickets_created + excluded.tickets_created
    """,
]


def load_history(database_url: str, org: Org, n: int) -> float:
    """Bulk-load n existing tickets into org; returns seconds taken."""
    started = time.perf_counter()
    org.customers = max(100, n // 4)
    params = {
        "org": org.id,
        "admin": org.admin_id,
        "n": n,
        "customers": org.customers,
        "description": DESCRIPTION,
    }
    with psycopg.connect(database_url) as conn:
        with conn.transaction():
            # Row-level security: loading crosses no tenant, but the system setting is the simplest key.
            conn.execute("SELECT set_config('supportdesk.system', 'on', true)")
            for statement in LOAD_SQL:
                conn.execute(statement, params)
        conn.autocommit = True
        for table in ("customers", "tickets", "audit_logs", "usage_counters", "users", "api_tokens"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started


def ticket_count(database_url: str, org: Org) -> int:
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("SELECT set_config('supportdesk.organization_id', %s, true)", (org.id,))
        return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]


# --------------------------------------------------------------------------------------------------
# The API side


@dataclass
class Result:
    tickets: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # share of one core, by process group

    @property
    def rate(self) -> float:
        return self.tickets / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def avg(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


def ticket_body(rng: random.Random, customers: int, i: int) -> dict:
    # Half the time a returning customer, half a new one: the same draw as the pgbench script.
    return {
        "title": f"Export spins forever #{i}",
        "description": DESCRIPTION,
        "customer": {"email": f"customer{rng.randint(1, 2 * customers)}@bench.example"},
    }


async def drive_api(server_url: str, org: Org, clients: int, seconds: float, warmup: float) -> Result:
    result = Result()
    headers = {"Authorization": f"Bearer {org.token}"}
    counter = iter(range(10**12))

    async def worker(seed: int, until: float, record: bool) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=f"{server_url}/api/v1", headers=headers, timeout=60) as client:
            while time.perf_counter() < until:
                body = ticket_body(rng, org.customers, next(counter))
                started = time.perf_counter()
                try:
                    r = await client.post("/tickets", json=body)
                    status, text = str(r.status_code), r.text
                except httpx.HTTPError as exc:
                    status, text = type(exc).__name__, str(exc)
                elapsed = time.perf_counter() - started
                if not record:
                    continue
                if status == "201":
                    result.tickets += 1
                    result.latencies.append(elapsed)
                else:
                    result.errors[status] = result.errors.get(status, 0) + 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{status}: {text[:300]}")

    if warmup > 0:  # fills the connection pool and psycopg's prepared statements; not counted
        until = time.perf_counter() + warmup
        await asyncio.gather(*(worker(1000 + c, until, False) for c in range(clients)))
    with TicketsCpuMeter() as meter:
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(worker(c, until, True) for c in range(clients)))
        result.seconds = time.perf_counter() - started
    result.cpu = meter.shares
    return result


class TicketsCpuMeter(CpuMeter):
    """The load generator (this process), the API server (uvicorn and its workers), PostgreSQL and pgbench."""

    postmaster: int | None = None  # set by main() when it starts the processes itself
    api_server: int | None = None

    def group(self, pid: int, info: dict, me: int) -> str | None:
        if pid == me:
            return "bench client"
        if info["name"] == "pgbench" and info["ppid"] == me:
            return "pgbench"
        if self.postmaster and self.postmaster in (pid, info["ppid"]):
            return "postgres"
        if self.api_server and self.api_server in (pid, info["ppid"]):
            return "api server"
        if not self.postmaster and info["name"] in ("postgres", "postmaster"):
            return "postgres (all)"  # a server we did not start: every postgres here counts
        if not self.api_server and "supportdesk serve" in " ".join(info["cmdline"] or []):
            return "api server (all)"
        return None


# --------------------------------------------------------------------------------------------------
# The SQL side: pgbench


# The statements create_ticket (tickets/service.py) and the request's authentication issue, in order, in
# one transaction (the webhook insert finds no subscriber, as in the API run; the triage job is deferred).
# Variables: org, actor, token_hash, ncust (-D); k, customer_id, agent_id, ticket_id.
PGBENCH_SCRIPT = r"""
\set k random(1, 2 * :ncust)
BEGIN;
SELECT owner.*, set_config('supportdesk.organization_id', owner.organization_id::text, true)
  FROM supportdesk_token_owner(:token_hash::text) AS owner;
INSERT INTO usage_counters AS counter (organization_id, month, tickets_created)
  SELECT id, (date_trunc('month', now() AT TIME ZONE 'UTC'))::date, 1
  FROM organizations WHERE id = :org::uuid AND monthly_ticket_limit > 0
  ON CONFLICT (organization_id, month) DO UPDATE SET tickets_created = counter.tickets_created + 1
    WHERE counter.tickets_created < (SELECT monthly_ticket_limit FROM organizations WHERE id = :org::uuid)
  RETURNING tickets_created AS used \gset
INSERT INTO customers AS c (id, organization_id, email, name, created_at, updated_at)
  VALUES (gen_random_uuid(), :org::uuid, 'customer' || :k::text || '@bench.example', NULL, now(), now())
  ON CONFLICT (organization_id, email) DO UPDATE SET name = coalesce(excluded.name, c.name)
  RETURNING id AS customer_id \gset
SELECT pg_advisory_xact_lock(hashtextextended(:org::text, 0))
  FROM (SELECT 1 FROM organizations WHERE id = :org::uuid FOR KEY SHARE) AS organization;
UPDATE users SET last_assigned_at = clock_timestamp()
  WHERE organization_id = :org::uuid AND id = (
    SELECT id FROM users
    WHERE organization_id = :org::uuid AND role = 'agent' AND status = 'active'
      AND coalesce(current_ticket_count, 0)
        < coalesce((SELECT max_open_tickets_per_agent FROM organizations WHERE id = :org::uuid), 2147483647)
    ORDER BY coalesce(current_ticket_count, 0), last_assigned_at ASC NULLS FIRST, id LIMIT 1)
  RETURNING id AS agent_id \gset
INSERT INTO tickets (id, organization_id, category_id, assigned_agent_id, customer_id, title, description,
                     status, priority, criticality, response_due_at, resolution_due_at, response_breached,
                     resolution_breached, created_at, updated_at)
  VALUES (gen_random_uuid(), :org::uuid, NULL, :agent_id::uuid, :customer_id::uuid, 'Export spins forever',
          :description::text, 'new', 3, 'low', now() + interval '60 minutes',
          now() + interval '480 minutes', false, false, now(), now())
  RETURNING id AS ticket_id \gset
INSERT INTO audit_logs (id, organization_id, actor_id, action, entity_type, entity_id, before, after,
                        created_at)
  VALUES (gen_random_uuid(), :org::uuid, :actor::uuid, 'ticket.created', 'ticket', :ticket_id::uuid, NULL,
          jsonb_build_object('id', :ticket_id::text, 'organization_id', :org::text, 'category_id', NULL,
                             'assigned_agent_id', :agent_id::text, 'customer_id', :customer_id::text,
                             'title', 'Export spins forever', 'description', :description::text,
                             'status', 'new', 'priority', 3, 'criticality', 'low', 'resolved_at', NULL,
                             'created_at', now(), 'updated_at', now(),
                             'sla', jsonb_build_object('response_due_at', now() + interval '60 minutes',
                                                       'resolution_due_at', now() + interval '480 minutes',
                                                       'first_response_at', NULL,
                                                       'response_breached', false,
                                                       'resolution_breached', false,
                                                       'resolution_paused', false)),
          now());
INSERT INTO webhook_deliveries (id, organization_id, webhook_id, event, payload, attempts, created_at)
  SELECT gen_random_uuid(), w.organization_id, w.id, 'ticket.created', '{}'::jsonb, 0, now()
  FROM webhooks w WHERE w.organization_id = :org::uuid AND 'ticket.created' = ANY(w.events)
  RETURNING id;
SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'triage_ticket', 0, NULL, NULL,
  jsonb_build_object('ticket_id', :ticket_id::text), NULL)::procrastinate_job_to_defer_v1]);
COMMIT;
"""


def libpq_args(database_url: str) -> tuple[list[str], dict[str, str]]:
    """pgbench connection arguments for a postgresql:// URL (host may be a unix socket directory)."""
    parts = urlsplit(database_url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    args, env = [], {}
    host = query.pop("host", None) or parts.hostname
    if host:
        args += ["-h", host]
    if parts.port or query.get("port"):
        args += ["-p", str(parts.port or query.pop("port"))]
    if parts.username:
        args += ["-U", parts.username]
    if parts.password:
        env["PGPASSWORD"] = parts.password
    if "sslmode" in query:
        env["PGSSLMODE"] = query["sslmode"]
    args.append(parts.path.lstrip("/") or "postgres")
    return args, env


def run_pgbench(database_url: str, org: Org, clients: int, seconds: int, workdir: Path) -> Result:
    script = workdir / "create_ticket.sql"
    script.write_text(PGBENCH_SCRIPT)
    logdir = workdir / f"pgbench-log-{uuid.uuid4().hex[:6]}"
    logdir.mkdir()
    conn_args, env = libpq_args(database_url)
    variables = {
        "org": org.id,
        "actor": org.admin_id,
        "token_hash": hashlib.sha256(org.token.encode()).hexdigest(),
        "ncust": str(org.customers),
        "description": DESCRIPTION,
    }
    command = [PGBENCH, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2))]
    command += ["-T", str(seconds), "-f", str(script), "-l", f"--log-prefix={logdir}/tx"]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    with TicketsCpuMeter() as meter:
        done = subprocess.run(
            command + conn_args, env=dict(os.environ, **env), capture_output=True, text=True, cwd=workdir
        )
    result = Result(cpu=meter.shares)
    out = done.stdout + done.stderr
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    aborted = re.findall(r"client \d+ aborted.*", out)
    if done.returncode != 0 or not processed:
        result.errors["pgbench exit " + str(done.returncode)] = 1
        result.error_samples.append(out[-1500:])
    if failed and int(failed.group(1)):
        result.errors["failed"] = int(failed.group(1))
    if aborted:
        result.errors["aborted clients"] = len(aborted)
        result.error_samples += aborted[:3]
    for path in logdir.iterdir():  # client_id tx_no latency_us script_no epoch_s epoch_us
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                result.latencies.append(int(fields[2]) / 1e6)
    result.tickets = len(result.latencies)
    result.seconds = float(seconds)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    result.pgbench_tps = float(tps.group(1)) if tps else result.rate  # type: ignore[attr-defined]
    return result


# --------------------------------------------------------------------------------------------------


def fmt_errors(result: Result) -> str:
    return ", ".join(f"{k}×{v}" for k, v in result.errors.items()) or "0"


def fmt_cpu(result: Result) -> str:
    """Each process group's share of one core, and its CPU milliseconds per ticket created."""
    per = (lambda v: f" = {v * 1000 / result.rate:.1f} ms/ticket") if result.rate else (lambda v: "")
    return ", ".join(f"{k} {v * 100:.0f}%{per(v)}" for k, v in sorted(result.cpu.items()) if v >= 0.005)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--existing",
        type=int,
        action="append",
        help="existing tickets (repeatable; default: 1000 and 100000)",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=2, help="server processes (supportdesk serve --workers)"
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of API load not counted")
    parser.add_argument("--server-url", help="use this running server instead of starting one")
    parser.add_argument(
        "--database-url",
        help="with --server-url: the libpq URL of its database, as the "
        "app role (for the bulk load and pgbench)",
    )
    args = parser.parse_args()
    sizes = args.existing or [1000, 100_000]
    if args.server_url and not args.database_url:
        parser.error("--server-url needs --database-url (the bulk load and pgbench talk to the database)")

    workdir = Path(tempfile.mkdtemp(prefix="supportdesk-bench-"))
    # Registered before pgserver's own exit hook, so it runs after it (that hook touches workdir/runtime).
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    postgres: OwnPostgres | None = None
    rows = []
    try:
        if not args.server_url:
            print(f"starting embedded PostgreSQL in {workdir} ...", flush=True)
            postgres = OwnPostgres(workdir)
            TicketsCpuMeter.postmaster = postgres.server.get_pid()
        for n in sizes:
            server = None
            if postgres:
                database_url = postgres.new_database(f"bench_{n}_{uuid.uuid4().hex[:6]}")
                server = ApiServer(database_url, workdir / f"server-{n}.log", args.workers)
                server.wait_ready()
                server_url = server.url
                TicketsCpuMeter.api_server = server.process.pid
            else:
                database_url, server_url = args.database_url, args.server_url.rstrip("/")
            try:
                org = sign_up(server_url)
                took = load_history(database_url, org, n)
                if postgres:
                    postgres.checkpoint()
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"\n[{n:,} existing] loaded in {took:.1f}s; load average {load}", flush=True)
                before_api = ticket_count(database_url, org)
                api = asyncio.run(drive_api(server_url, org, args.clients, args.seconds, args.warmup))
                print(
                    f"  API : {api.tickets} tickets in {api.seconds:.1f}s from {before_api:,} existing; "
                    f"errors {fmt_errors(api)}; CPU {fmt_cpu(api)}",
                    flush=True,
                )
                for sample in api.error_samples:
                    print(f"    error {sample}")
                before_sql = ticket_count(database_url, org)
                sql = run_pgbench(database_url, org, args.clients, args.seconds, workdir)
                print(
                    f"  SQL : {sql.tickets} tickets in {sql.seconds:.1f}s from {before_sql:,} existing; "
                    f"errors {fmt_errors(sql)}; CPU {fmt_cpu(sql)}",
                    flush=True,
                )
                for sample in sql.error_samples:
                    print(f"    error {sample}")
                rows.append((n, api, sql))
            finally:
                if server:
                    server.stop()
    finally:
        if postgres:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nclients {args.clients}, {args.seconds}s per side, {os.cpu_count()} CPUs, load average {load}")
    header = (
        f"{'existing':>9} | {'API t/s':>8} | {'SQL t/s':>8} | {'API/SQL':>7} | {'API p50':>8} | "
        f"{'API p99':>8} | {'SQL avg':>8} | {'SQL p50':>8} | {'SQL p99':>8} | {'API err':>7} | {'SQL err':>7}"
    )
    print(header)
    print("-" * len(header))
    for n, api, sql in rows:
        ratio = api.rate / sql.rate if sql.rate else float("nan")
        print(
            f"{n:>9,} | {api.rate:>8.1f} | {sql.rate:>8.1f} | {ratio:>7.1%} | {api.pct(50):>6.1f}ms | "
            f"{api.pct(99):>6.1f}ms | {sql.avg:>6.1f}ms | {sql.pct(50):>6.1f}ms | {sql.pct(99):>6.1f}ms | "
            f"{sum(api.errors.values()):>7} | {sum(sql.errors.values()):>7}"
        )


if __name__ == "__main__":
    main()
