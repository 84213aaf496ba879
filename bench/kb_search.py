"""Knowledge-base search latency with N passages in one organization: full text, vectors, hybrid, API.

For each N it starts a fresh embedded PostgreSQL in a temporary directory (unless DATABASE_URL is set),
signs up an organization, bulk-loads N/4 public documents of 4 passages each with SQL: ~120 words of
text drawn Zipf-like from the stackfaq vocabulary (so common words match many passages, as in a real
knowledge base) and a random 384-d embedding; the search indexes are built after the load. Then
VACUUM ANALYZE, and the stackfaq queries are run through the product's code, one at a time, in-process
(see `timed` for the modes; `api` is GET /api/v1/kb/search through the ASGI app, what the goal names).

The baseline, measured first in the same run (embedded server only): `api` with ts_match_vq as
PostgreSQL ships it, not LEAKPROOF, so that under row-level security the full-text condition reads
every passage of the organization (what an external server gives unless its operator marks it; see
supportdesk/knowledge/search.py). `api_vs_baseline` is the ratio of the two. It asserts nothing.

    .venv/bin/python bench/kb_search.py --passages 10000 --passages 100000 --queries 100

Figures: bench/README.md.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs import use_database  # noqa: E402  (bench/jobs.py: a fresh embedded server, deleted at exit)

STACKFAQ = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "stackfaq"  # ../shared


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
                               document_version, embedding)
SELECT gen_random_uuid(), :org, ('00000000-0000-4000-8000-' || lpad(to_hex(d), 12, '0'))::uuid, pos,
       (SELECT string_agg(w[1 + floor(random() ^ 3 * cardinality(w))::int + 0 * i], ' ')
        FROM generate_series(1, 6) i WHERE i > -d - pos),
       (SELECT string_agg(w[1 + floor(random() ^ 3 * cardinality(w))::int + 0 * i], ' ')
        FROM generate_series(1, 120) i WHERE i > -d - pos),
       true, now(),
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


async def load(passages: int) -> tuple[uuid.UUID, str, float]:
    """A new organization with `passages` bulk-loaded passages: its id, its admin's token, seconds."""
    from sqlalchemy import text

    from supportdesk import db
    from supportdesk.organizations.schemas import SignupIn
    from supportdesk.organizations.service import sign_up

    db.migrate()
    async with db.transaction() as session:
        organization, _, token = await sign_up(
            session,
            SignupIn(
                name="Bench",
                admin_email=f"{uuid.uuid4().hex}@example.com",
                admin_name="Bench",
                admin_password="bench-password-1234",
            ),
        )
    started = time.perf_counter()
    async with db.tenant_session(organization.id) as session:
        # The search indexes are built once after the load, as the migration defines them: inserting
        # 100,000 rows into a live HNSW index takes several times longer.
        indexes = (
            await session.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'document_passages'"
                    " AND indexname IN ('idx_document_passages_search', 'idx_document_passages_embedding')"
                )
            )
        ).all()
        for index in indexes:
            await session.execute(text(f"DROP INDEX {index.indexname}"))
        for statement in LOAD.split(";\n"):
            if statement.strip():
                await session.execute(
                    text(statement),
                    {"org": organization.id, "documents": passages // 4, "words": vocabulary()},
                )
        await session.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        for index in indexes:
            await session.execute(text(index.indexdef))
    async with db.engine().connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE document_passages"))
        await connection.execute(text("VACUUM ANALYZE documents"))
    return organization.id, token, time.perf_counter() - started


async def mark_leakproof(leakproof: bool) -> None:
    """ts_match_vq marked LEAKPROOF or not, as the embedded server's superuser (the baseline unmarks
    what the embedded start marked: what an external server gives unless its operator marks it)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from supportdesk import db, embedded
    from supportdesk.config import sqlalchemy_url
    from supportdesk.knowledge import search as knowledge_search

    superuser_url = db.database_url().replace(f"{embedded.APP_ROLE}@", "postgres@", 1)
    superuser = create_async_engine(sqlalchemy_url(superuser_url), isolation_level="AUTOCOMMIT")
    async with superuser.connect() as connection:
        marking = "LEAKPROOF" if leakproof else "NOT LEAKPROOF"
        await connection.execute(text(f"ALTER FUNCTION ts_match_vq(tsvector, tsquery) {marking}"))
    await superuser.dispose()
    await db.dispose()  # no connection keeps a plan made under the other marking
    knowledge_search._index_usable = None  # noqa: SLF001 (asked once per process, and it changed)


async def timed(org: uuid.UUID, token: str, queries: list[str], modes: list[str]) -> dict[str, list[float]]:
    """Seconds per query of each mode, the modes interleaved query by query:

    lexical    search_passages(hybrid=False): the full-text candidates only
    embedding  the query's embedding alone (MiniLM on the CPU)
    vector     the query's embedding, then the vector candidates
    hybrid     service.search_knowledge_base: both sides, fusion, documents, snippets
    api        GET /api/v1/kb/search through the ASGI app (token, tenant, JSON), in process
    """
    import httpx

    from supportdesk import db
    from supportdesk.app import create_app
    from supportdesk.auth.actor import Actor
    from supportdesk.knowledge import search as knowledge_search
    from supportdesk.knowledge import service, vectors
    from supportdesk.knowledge.schemas import SearchQuery

    actor = Actor(organization_id=org, role="admin")
    params = {"organization_id": org, "category_id": None, "candidates": knowledge_search.CANDIDATES}

    async def in_session(mode: str, query: str) -> None:
        async with db.tenant_session(org) as session:
            if mode == "lexical":
                await knowledge_search.search_passages(
                    session, org, query, category_id=None, public_only=False, limit=10, hybrid=False
                )
            elif mode == "vector":
                vector = await vectors.query_vector(query)
                await knowledge_search._semantic(session, vector, params, public_only=False)  # noqa: SLF001
            else:
                await service.search_knowledge_base(session, actor, SearchQuery(q=query))

    transport = httpx.ASGITransport(app=create_app())
    headers = {"Authorization": f"Bearer {token}"}
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench/api/v1", headers=headers) as api:
        for query in queries:
            for mode in modes:
                started = time.perf_counter()
                if mode == "api":
                    (await api.get("/kb/search", params={"q": query})).raise_for_status()
                elif mode == "embedding":
                    await vectors.query_vector(query)
                else:
                    await in_session(mode, query)
                times[mode].append(time.perf_counter() - started)
    return times


async def run(passages: int, query_count: int) -> dict:
    from supportdesk import db
    from supportdesk.knowledge import search as knowledge_search
    from supportdesk.knowledge import vectors

    org, token, load_seconds = await load(passages)
    queries = [json.loads(line)["text"] for line in (STACKFAQ / "queries.jsonl").read_text().splitlines()]
    queries = queries[:query_count]
    await asyncio.to_thread(vectors.embed_passages, ["warm up"])
    embedded = not os.environ.get("DATABASE_URL")
    result: dict = {"passages": passages, "load_s": round(load_seconds, 1), "queries": len(queries)}
    if embedded:  # the baseline: the same search, ts_match_vq as PostgreSQL ships it
        await mark_leakproof(False)
        await timed(org, token, queries[:5], ["api"])  # warm-up
        baseline = (await timed(org, token, queries, ["api"]))["api"]
        result["baseline_api_not_leakproof"] = percentiles(baseline)
        await mark_leakproof(True)
    await timed(org, token, queries[:5], ["api"])  # warm-up
    times = await timed(org, token, queries, ["lexical", "embedding", "vector", "hybrid", "api"])
    async with db.tenant_session(org) as session:
        result["gin_index_usable"] = await knowledge_search.full_text_index_usable(session)
    result.update({mode: percentiles(samples) for mode, samples in times.items()})
    if embedded:
        result["api_vs_baseline"] = {
            key: round(result["api"][key] / result["baseline_api_not_leakproof"][key], 2)
            for key in ("p50_ms", "p95_ms")
        }
    return result


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
    use_database(os.environ.get("DATABASE_URL"))
    from supportdesk import db

    async def one() -> dict:
        try:
            return await run(sizes[0], args.queries)
        finally:
            await db.dispose()

    print(json.dumps(asyncio.run(one())), flush=True)


if __name__ == "__main__":
    main()
