"""Retrieval evaluation: a knowledge base in the datasets' format (docs.jsonl / queries.jsonl, see
../shared/datasets/README.md) loaded into a scratch organization through the product's own path (the
documents service, then the indexing job run by a worker), its queries run through `search_passages`,
full text alone and hybrid. Prints recall@1, recall@5 and MAP.

    .venv/bin/python -m supportdesk.knowledge.evaluate --docs DOCS --queries QUERIES

Without DATABASE_URL it starts an embedded PostgreSQL in a temporary directory. Queries whose gold
list is empty (unanswerable) are left out of these retrieval figures. The scratch organizations are
deleted at the end, whatever happens.
"""

import argparse
import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass

from supportdesk.datasets import (
    as_document,
    clean,
    gold_documents,
    knowledge_base_of,
    knowledge_bases,
    read_jsonl,
)

# Metrics read this many documents of each ranking (MAP: a gold document ranked lower counts as missed).
DEPTH = 50


@dataclass(frozen=True)
class RetrievalMetrics:
    queries: int
    recall_at_1: float | None  # None: no answerable query to measure
    recall_at_5: float | None
    map: float | None
    mean_ms: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        def rounded(value: float | None, digits: int) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "queries": self.queries,
            "recall@1": rounded(self.recall_at_1, 4),
            "recall@5": rounded(self.recall_at_5, 4),
            "MAP": rounded(self.map, 4),
            "mean_ms": rounded(self.mean_ms, 2),
        }


def average_precision(ranked: list[str], gold: set[str]) -> float:
    found, total = 0, 0.0
    for rank, document_id in enumerate(ranked, start=1):
        if document_id in gold:
            found += 1
            total += found / rank
    return total / len(gold)


def metrics(rankings: list[tuple[list[str], set[str]]], seconds: float) -> RetrievalMetrics:
    """Recall@1, recall@5 and MAP of rankings of dataset ids (a dataset id listed twice in the documents
    file counts at its first rank only)."""
    n = len(rankings)
    if not n:
        return RetrievalMetrics(0, None, None, None, None)
    rankings = [(list(dict.fromkeys(ranked)), gold) for ranked, gold in rankings]
    return RetrievalMetrics(
        queries=n,
        recall_at_1=sum(len(set(r[:1]) & g) / len(g) for r, g in rankings) / n,
        recall_at_5=sum(len(set(r[:5]) & g) / len(g) for r, g in rankings) / n,
        map=sum(average_precision(r, g) for r, g in rankings) / n,
        mean_ms=1000 * seconds / n,
    )


async def load_knowledge_base(
    docs: list[dict], name: str, scratch: list[uuid.UUID]
) -> tuple[uuid.UUID, dict[uuid.UUID, str]]:
    """A scratch organization holding `docs` (all public), indexed by the job; returns its id and
    the dataset id of each document. Its id is added to `scratch`, the organizations the caller deletes
    however the run ends, as soon as it exists: before its documents are written."""
    from supportdesk import db
    from supportdesk.auth.actor import Actor, Role
    from supportdesk.documents.schemas import DocumentIn
    from supportdesk.documents.service import create_document
    from supportdesk.organizations.schemas import SignupIn
    from supportdesk.organizations.service import sign_up

    suffix = uuid.uuid4().hex[:12]
    async with db.transaction() as session:
        organization, admin, _ = await sign_up(
            session,
            SignupIn(
                name=f"eval {name}"[:60],
                admin_email=f"eval-{suffix}@example.com",
                admin_name="Evaluation",
                admin_password=f"eval-{suffix}-password",
            ),
        )
    scratch.append(organization.id)
    actor = Actor(organization_id=organization.id, role=Role.ADMIN, user_id=admin.id)
    dataset_ids: dict[uuid.UUID, str] = {}
    async with db.tenant_session(organization.id) as session:
        for doc in docs:
            title, content = as_document(doc)
            out = await create_document(
                session, actor, DocumentIn(title=title, content=content, is_public=True)
            )
            dataset_ids[out.id] = str(doc["id"])
    return organization.id, dataset_ids


async def delete_organization(organization_id: uuid.UUID) -> None:
    """Remove a scratch organization and everything in it (its rows cascade)."""
    from sqlalchemy import text

    from supportdesk import db

    async with db.system_session() as session:  # the system: it removes an organization
        await session.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": organization_id})


async def run_jobs() -> None:
    from supportdesk import jobs

    async with jobs.app.open_async():
        await jobs.run_until_empty()


async def rank_queries(
    organization_id: uuid.UUID, dataset_ids: dict[uuid.UUID, str], queries: list[dict], *, hybrid: bool
) -> tuple[list[tuple[list[str], set[str]]], float]:
    from supportdesk import db
    from supportdesk.knowledge.schemas import QUERY_MAX
    from supportdesk.knowledge.search import search_passages

    rankings, seconds = [], 0.0
    for query in queries:
        text = clean(query["text"])[:QUERY_MAX]
        if not text:  # the API refuses an empty search: nothing found
            rankings.append(([], gold_documents(query)))
            continue
        async with db.tenant_session(organization_id) as session:
            started = time.perf_counter()
            found = await search_passages(
                session,
                organization_id,
                text,
                category_id=None,
                public_only=True,
                limit=DEPTH,
                hybrid=hybrid,
            )
            seconds += time.perf_counter() - started
        ranked = [dataset_ids[hit.document_id] for hit in found.hits]
        rankings.append((ranked, gold_documents(query)))
    return rankings, seconds


async def evaluate_retrieval(docs: list[dict], queries: list[dict]) -> dict[str, dict]:
    """Load each knowledge base (`kb`, or one for all) and rank its answerable queries (with one, every
    answerable query), full text only and hybrid; returns {"lexical": metrics, "hybrid": metrics} as dicts."""
    from supportdesk.knowledge import vectors

    by_kb = knowledge_bases(docs)
    loaded: dict[str, tuple[uuid.UUID, dict[uuid.UUID, str]]] = {}
    scratch: list[uuid.UUID] = []
    try:
        for kb, kb_docs in by_kb.items():
            loaded[kb] = await load_knowledge_base(kb_docs, kb or "kb", scratch)
        await run_jobs()
        if not vectors.is_loaded():  # nothing to embed happened in this process: load the model now
            await asyncio.to_thread(vectors.embed_passages, ["warm up"])
        answerable = [query for query in queries if gold_documents(query)]
        results: dict[str, dict] = {}
        for mode, hybrid in (("lexical", False), ("hybrid", True)):
            rankings, seconds = [], 0.0
            for kb, (organization_id, dataset_ids) in loaded.items():
                own = [query for query in answerable if knowledge_base_of(query, loaded) == kb]
                found, spent = await rank_queries(organization_id, dataset_ids, own, hybrid=hybrid)
                rankings += found
                seconds += spent
            results[mode] = metrics(rankings, seconds).as_dict()
        return results
    finally:
        for organization_id in scratch:
            await delete_organization(organization_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--queries", required=True)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        from supportdesk import embedded

        embedded.use_temporary_data_dir("supportdesk-eval-")
    os.environ.setdefault("SUPPORTDESK_AI_THREADS", "2")
    from supportdesk import db

    db.migrate()

    async def run() -> dict:
        try:
            return await evaluate_retrieval(
                read_jsonl(args.docs, ["id"]), read_jsonl(args.queries, ["text", "gold_doc_ids"])
            )
        finally:
            await db.dispose()

    print(json.dumps(asyncio.run(run()), indent=2))


if __name__ == "__main__":
    main()
