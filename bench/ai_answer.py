"""Triage plus automatic answer: CPU per ticket, models loaded.

    .venv/bin/python bench/ai_answer.py [--tickets 200]

A fresh embedded PostgreSQL gets the demo organization (Northwind Cloud: 6 categories, 12 documents,
300 past tickets), its documents indexed. Then, one ticket at a time, a ticket is created (committed) and
its two jobs' functions run in this process as the worker runs them: `triage_ticket`, then the answer
job (`responder.respond`). For each ticket it records the CPU this process spent in them
(`time.process_time`); PostgreSQL's CPU over the whole loop is divided by the tickets. The first tickets
train the two models and are left out (`--warm-up`).

Baseline, same run and texts: the CPU of embedding one ticket text with the MiniLM model alone (each job
embeds the text once), so the ratio says how much the pipeline costs beyond its two embeddings.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from jobs import JobsCpuMeter, use_database  # noqa: E402  (bench/jobs.py)


async def run(args) -> None:
    from sqlalchemy import text

    from supportdesk import db, jobs
    from supportdesk.ai import embeddings, responder
    from supportdesk.ai.jobs import triage_ticket
    from supportdesk.auth.actor import Actor, Role
    from supportdesk.demo.loader import load_demo
    from supportdesk.demo.plans import customers, ticket_plans
    from supportdesk.tickets.schemas import TicketIn
    from supportdesk.tickets.service import create_ticket

    await load_demo(only_if_empty=False, dispose=False)
    async with jobs.app.open_async():
        await jobs.run_until_empty()  # the documents' indexing, the demo tickets' triage
    async with db.system_session() as session:
        organization_id = await session.scalar(text("SELECT id FROM organizations LIMIT 1"))
    actor = Actor(organization_id=organization_id, role=Role.ADMIN)
    plans = ticket_plans(random.Random(7), datetime.now(UTC))
    pool = customers()

    triage_ms, answer_ms, embed_ms, outcomes = [], [], [], {}
    with JobsCpuMeter() as meter:
        for i in range(args.tickets + args.warm_up):
            plan = plans[i % len(plans)]
            async with db.tenant_session(organization_id) as session:
                ticket = await create_ticket(
                    session,
                    actor,
                    TicketIn(title=plan.title, description=plan.description, customer=pool[i % len(pool)]),
                )
                ticket_id = ticket.id
            started = time.process_time()
            await triage_ticket(organization_id=str(organization_id), ticket_id=str(ticket_id))
            triaged = time.process_time()
            decision = await responder.respond(organization_id, ticket_id)
            answered = time.process_time()
            embedded = time.process_time()
            embeddings.embed_one(f"{plan.title}\n{plan.description}")
            if i >= args.warm_up:
                triage_ms.append(1000 * (triaged - started))
                answer_ms.append(1000 * (answered - triaged))
                embed_ms.append(1000 * (time.process_time() - embedded))
                key = f"{decision.outcome}/{decision.reason}" if decision else "decided already"
                outcomes[key] = outcomes.get(key, 0) + 1
    await db.dispose()

    both = [t + a for t, a in zip(triage_ms, answer_ms, strict=True)]
    n = len(both)
    embed = statistics.median(embed_ms)
    print(f"{n} tickets (after {args.warm_up} warm-up), demo organization, models loaded")
    print(f"  triage      CPU ms median {statistics.median(triage_ms):6.1f}  p90 {_p90(triage_ms):6.1f}")
    print(f"  answer      CPU ms median {statistics.median(answer_ms):6.1f}  p90 {_p90(answer_ms):6.1f}")
    print(f"  both        CPU ms median {statistics.median(both):6.1f}  p90 {_p90(both):6.1f}")
    postgres = 1000 * meter.used.get("postgres", 0) / n
    ratio = statistics.median(both) / (2 * embed)
    print(f"  PostgreSQL  CPU ms mean per ticket (create included) {postgres:6.1f}")
    print(f"  baseline: one embedding, CPU ms median {embed:.1f}; pipeline / 2 embeddings = {ratio:.2f}")
    print(f"  decisions: {outcomes}")


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=5)
    args = parser.parse_args()
    data_dir = use_database(None)
    sys.path.insert(0, str(ROOT / "src"))
    from supportdesk import db

    db.migrate()
    JobsCpuMeter.postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
