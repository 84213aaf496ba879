"""Knowledge-base search latency with N passages in one organization: full text, vectors, hybrid.

For each N it starts a fresh embedded PostgreSQL in a temporary directory (unless DATABASE_URL is set),
signs up an organization, bulk-loads N/4 public documents of 4 passages each with SQL: ~120 words of
text drawn Zipf-like from the stackfaq vocabulary (so common words match many passages, as in a real
knowledge base) and a random 384-d embedding. Then VACUUM ANALYZE, and the stackfaq queries are run
through the product's code, one at a time, in-process (no HTTP):

  lexical  search_passages(hybrid=False)            full-text candidates only
  vector   query embedding + the vector candidates    (MiniLM on the CPU, then the HNSW query)
  hybrid   service.search_knowledge_base             what GET /kb/search does: both sides, fusion,
                                                     documents and snippets

and prints p50/p95/mean per mode, and whether the full-text condition could use the GIN index under
row-level security (`gin_index_usable`: ts_match_vq marked LEAKPROOF by a superuser; see
supportdesk/knowledge/search.py). It asserts nothing.

    .venv/bin/python bench/kb_search.py --passages 10000 --passages 100000 --queries 200

Figures (2026-11-25, 2 vCPUs shared, 100 queries, p50/p95 ms):

  passages  gin_index_usable  lexical   vector   hybrid
    10,000  false (default)    55/81     29/35    70/95
    10,000  true               13/24     25/33    34/49
   100,000  true               23/39     35/42    43/64
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

STACKFAQ = Path("/work/shared/datasets/stackfaq")


def vocabulary(limit: int = 5000) -> list[str]:
    counts: Counter[str] = Counter()
    for line in (STACKFAQ / "docs.jsonl").read_text().splitlines():
        doc = json.loads(line)
        counts.update(re.findall(r"[a-z]{3,}", f"{doc['title']} {doc['content']}".lower()))
    return [word for word, _ in counts.most_common(limit)]


LOAD = """
INSERT INTO documents (id, organization_id, title, content, is_public, created_at, updated_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(d), 12, '0'))::uuid, :org, 'Document ' || d,
       'bulk', true, now(), now()
FROM generate_series(1, :documents) d;

INSERT INTO document_passages (id, organization_id, document_id, position, heading, content, is_public,
                               embedding)
SELECT gen_random_uuid(), :org, ('00000000-0000-4000-8000-' || lpad(to_hex(d), 12, '0'))::uuid, pos,
       (SELECT string_agg(w[1 + floor(random() ^ 3 * cardinality(w))::int + 0 * i], ' ')
        FROM generate_series(1, 6) i WHERE i > -d - pos),
       (SELECT string_agg(w[1 + floor(random() ^ 3 * cardinality(w))::int + 0 * i], ' ')
        FROM generate_series(1, 120) i WHERE i > -d - pos),
       true,
       (SELECT array_agg(random() - 0.5 + 0 * i) FROM generate_series(1, 384) i WHERE i > -d - pos)::vector
FROM generate_series(1, :documents) d, generate_series(0, 3) pos, (SELECT CAST(:words AS text[]) AS w) v;
"""


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
        "mean_ms": round(1000 * statistics.fmean(ordered), 1),
    }


async def run(passages: int, query_count: int) -> dict:
    from sqlalchemy import text

    from supportdesk import db
    from supportdesk.auth.actor import Actor
    from supportdesk.knowledge import search as knowledge_search
    from supportdesk.knowledge import service, vectors
    from supportdesk.knowledge.schemas import SearchQuery
    from supportdesk.organizations.schemas import SignupIn
    from supportdesk.organizations.service import sign_up

    db.migrate()
    async with db.transaction() as session:
        organization, _, _ = await sign_up(
            session,
            SignupIn(
                name="Bench",
                admin_email=f"{uuid.uuid4().hex}@example.com",
                admin_name="Bench",
                admin_password="bench-password-1234",
            ),
        )
    org = organization.id
    started = time.perf_counter()
    async with db.tenant_session(org) as session:
        for statement in LOAD.split(";\n"):
            if statement.strip():
                await session.execute(
                    text(statement), {"org": org, "documents": passages // 4, "words": vocabulary()}
                )
    engine = db.engine()
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE document_passages"))
        await connection.execute(text("VACUUM ANALYZE documents"))
    load_seconds = time.perf_counter() - started

    queries = [json.loads(line)["text"] for line in (STACKFAQ / "queries.jsonl").read_text().splitlines()]
    queries = queries[:query_count]
    await asyncio.to_thread(vectors.embed_passages, ["warm up"])
    actor = Actor(organization_id=org, role="admin")
    times: dict[str, list[float]] = {"lexical": [], "vector": [], "hybrid": []}
    for query in queries[:5]:  # warm-up
        async with db.tenant_session(org) as session:
            await service.search_knowledge_base(session, actor, SearchQuery(q=query))
    params = {"organization_id": org, "category_id": None, "candidates": knowledge_search.CANDIDATES}
    for query in queries:
        async with db.tenant_session(org) as session:
            t0 = time.perf_counter()
            await knowledge_search.search_passages(
                session, org, query, category_id=None, public_only=False, limit=10, hybrid=False
            )
            t1 = time.perf_counter()
            vector = await vectors.query_vector(query)
            await knowledge_search._semantic(session, vector, params, public_only=False)  # noqa: SLF001
            t2 = time.perf_counter()
            await service.search_knowledge_base(session, actor, SearchQuery(q=query))
            t3 = time.perf_counter()
        times["lexical"].append(t1 - t0)
        times["vector"].append(t2 - t1)
        times["hybrid"].append(t3 - t2)
    async with db.tenant_session(org) as session:
        gin_index_usable = await knowledge_search.full_text_index_usable(session)
    return {
        "passages": passages,
        "gin_index_usable": gin_index_usable,
        "load_s": round(load_seconds, 1),
        "queries": len(queries),
        **{mode: percentiles(samples) for mode, samples in times.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, action="append")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    sizes = args.passages or [10_000, 100_000]
    if len(sizes) > 1:  # one process (and one embedded PostgreSQL) per size
        for passages in sizes:
            subprocess.run(
                [sys.executable, __file__, "--passages", str(passages), "--queries", str(args.queries)],
                check=True,
            )
        return
    if not os.environ.get("DATABASE_URL"):
        os.environ["SUPPORTDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="supportdesk-bench-kb-")
    from supportdesk import db

    async def one() -> dict:
        try:
            return await run(sizes[0], args.queries)
        finally:
            await db.dispose()

    print(json.dumps(asyncio.run(one())), flush=True)


if __name__ == "__main__":
    main()
