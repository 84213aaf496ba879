"""`supportdesk eval answer`: the auto-responder measured through the production code path.

Each knowledge base of the docs file (its `kb`, or one for all) becomes a scratch organization whose
documents are written by the documents service, all public; the jobs the writes defer index them and
train the organization's answer model. With one knowledge base every query is asked of it, whatever its
`kb`; with several, a query whose `kb` has no documents is counted, not asked. Each query then becomes a
ticket, created by the tickets service, and the job queue runs what it runs in production: triage, then
the answer job with the organization's answer model and its threshold. The recorded decisions
(`auto_answers`) are read back and scored: an answer is right when the document it cites is one of the
query's gold documents; a query without gold documents must be handed off.

With `--calibrate FILE`, the calibration queries go first, through the same path; the threshold chosen
is the lowest at which the answers they would get reach `--target-precision`; it becomes the
organization's `auto_response_threshold`. Each calibration ticket is then marked as a person would
mark it, with the document that answers it or with none (`answer_document_id`), and the answer model
learns from them before the queries run. The threshold stays the one chosen on the answers given
before (a model is too sure of the tickets it learned). Without `--calibrate` (or without calibration
queries for that knowledge base), the organization keeps the default threshold. The calibration also
says how many of its answers the threshold rests on and the 90 % interval (Wilson) of their precision: a
threshold chosen on 60 answers for 95 % can realize a few points less on new questions, and the interval
shows how many.

Retrieval figures (recall@1, recall@5, MAP over the answerable queries) are given for the hybrid
knowledge-base search, for full text alone, and for the answer model's own ranking of documents.
`gold_not_in_documents` counts the queries whose gold documents are none of the knowledge base's (a
mistyped id, a documents file cut short): they count as answerable, so their hand-offs as failures.
The scratch organizations are deleted at the end, whatever happens.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from scipy.stats import binomtest
from sqlalchemy import text

from supportdesk import db, jobs
from supportdesk.auth.actor import Actor, Role
from supportdesk.datasets import as_ticket, gold_documents, knowledge_base_of, knowledge_bases
from supportdesk.knowledge import evaluate as retrieval
from supportdesk.knowledge.evaluate import delete_organization
from supportdesk.organizations.plans import PLANS, PlanName
from supportdesk.tickets.schemas import CustomerIn, TicketIn, TicketPatch
from supportdesk.tickets.service import create_ticket, update_ticket

DEFAULT_TARGET_PRECISION = 0.95


async def _scratch(
    docs: list[dict], kb: str, scratch: list[uuid.UUID]
) -> tuple[uuid.UUID, dict[uuid.UUID, str]]:
    organization_id, dataset_ids = await retrieval.load_knowledge_base(docs, kb or "kb", scratch)
    enterprise = PLANS[PlanName.ENTERPRISE]
    async with db.system_session() as session:  # the system: a plan change without the API
        await session.execute(
            text(
                "UPDATE organizations SET plan = 'enterprise', monthly_ticket_limit = :limit WHERE id = :id"
            ),
            {"limit": enterprise.monthly_ticket_limit, "id": organization_id},
        )
    return organization_id, dataset_ids


async def _mark(organization_id: uuid.UUID, scored: list[dict], dataset_ids: dict[str, str]) -> int:
    """What a person would say of each asked calibration ticket: the gold document answers it, or none
    does (a PATCH of `answer_document_id`); the answer model learns from these. Returns how many."""
    documents = {dataset_id: uuid.UUID(document_id) for document_id, dataset_id in dataset_ids.items()}
    actor = Actor(organization_id=organization_id, role=Role.ADMIN)
    marked = 0
    async with db.tenant_session(organization_id) as session:
        for s in scored:
            gold = sorted(s["gold"] & documents.keys())
            if s["gold"] and not gold:
                continue  # its gold documents are not in the knowledge base: nothing to say
            patch = TicketPatch(answer_document_id=documents[gold[0]] if gold else None)
            await update_ticket(session, actor, s["ticket_id"], patch)
            marked += 1
    return marked


async def _ask(organization_id: uuid.UUID, queries: Sequence[dict]) -> list[dict]:
    """Each query as a new ticket, the jobs run; the decision recorded on each, in query order."""
    actor = Actor(organization_id=organization_id, role=Role.ADMIN)
    ticket_ids = []
    async with db.tenant_session(organization_id) as session:
        for query in queries:
            title, description = as_ticket(query["text"])
            ticket = await create_ticket(
                session,
                actor,
                TicketIn(
                    title=title or "(no title)",
                    description=description or title or "(empty)",
                    customer=CustomerIn(email="eval@example.com", name="Eval"),
                ),
            )
            ticket_ids.append(ticket.id)
    async with jobs.app.open_async():
        await jobs.run_until_empty(rounds=50)
    async with db.tenant_session(organization_id) as session:
        rows = await session.execute(
            text(
                "SELECT ticket_id, outcome, reason, confidence, document_ids FROM auto_answers"
                " WHERE ticket_id = ANY(:ids) AND source_message_id IS NULL"
            ),
            {"ids": ticket_ids},
        )
        by_ticket = {row.ticket_id: row for row in rows}
    return [
        {
            "ticket_id": t,
            "outcome": by_ticket[t].outcome if t in by_ticket else "missing",
            "reason": by_ticket[t].reason if t in by_ticket else "no decision recorded",
            "confidence": by_ticket[t].confidence if t in by_ticket else None,
            "document_ids": [str(d) for d in by_ticket[t].document_ids] if t in by_ticket else [],
        }
        for t in ticket_ids
    ]


def _scored(decisions: list[dict], queries: Sequence[dict], dataset_ids: dict) -> list[dict]:
    out = []
    for decision, query in zip(decisions, queries, strict=True):
        gold = gold_documents(query)
        ranked = [dataset_ids[d] for d in decision["document_ids"] if d in dataset_ids]
        out.append({**decision, "gold": gold, "ranked": ranked, "right": bool(ranked) and ranked[0] in gold})
    return out


def choose_threshold(scored: list[dict], target: float) -> float:
    """The lowest threshold whose would-be answers reach `target` precision (1.0: none does)."""
    candidates = sorted(
        ((s["confidence"], s["right"]) for s in scored if s["confidence"] is not None), reverse=True
    )
    best, right = 1.0, 0
    for answered, (confidence, is_right) in enumerate(candidates, start=1):
        right += is_right
        if right / answered >= target:
            best = confidence
    return float(best)


def calibration_summary(scored: list[dict], threshold: float) -> dict:
    """How many calibration queries the threshold would answer, how many rightly, and the 90 % interval of
    that precision."""
    answered = [s["right"] for s in scored if s["confidence"] is not None and s["confidence"] >= threshold]
    out: dict = {"answered": len(answered), "answered_correctly": sum(answered)}
    if answered:
        interval = binomtest(sum(answered), len(answered)).proportion_ci(0.9, method="wilson")
        out["precision"] = round(sum(answered) / len(answered), 4)
        out["precision_interval_90"] = [round(interval.low, 4), round(interval.high, 4)]
    return out


def answer_metrics(scored: list[dict]) -> dict:
    n = len(scored)
    answerable = sum(1 for s in scored if s["gold"])
    answered = [s for s in scored if s["outcome"] == "answered"]
    right = sum(1 for s in answered if s["right"])
    handed_off = n - len(answered)
    rightly_handed_off = sum(1 for s in scored if s["outcome"] != "answered" and not s["gold"])
    return {
        "queries": n,
        "answerable": answerable,
        "answered": len(answered),
        "answered_correctly": right,
        "answered_wrongly": len(answered) - right,
        "handed_off": handed_off,
        "precision": round(right / len(answered), 4) if answered else None,
        "coverage": round(len(answered) / n, 4) if n else None,
        "answerable_answered_correctly": round(right / answerable, 4) if answerable else None,
        "accuracy": round((right + rightly_handed_off) / n, 4) if n else None,
        "accuracy_if_always_handed_off": round((n - answerable) / n, 4) if n else None,
        "suggested": sum(1 for s in scored if s["outcome"] == "suggested"),
    }


def _gold_not_in(queries: Sequence[dict], documents: set[str]) -> int:
    """How many queries the file says are answerable by none of these `documents` (a mistyped id, or a
    documents file cut short: their hand-offs count as failures)."""
    return sum(1 for query in queries if (gold := gold_documents(query)) and not gold & documents)


def _ranking_metrics(scored: list[dict]) -> dict:
    rankings = [(s["ranked"], s["gold"]) for s in scored if s["gold"]]
    return retrieval.metrics(rankings, 0.0).as_dict() | {"depth": "the 3 best recorded"}


async def evaluate(
    docs: list[dict],
    queries: list[dict],
    calibration: list[dict] | None = None,
    target_precision: float = DEFAULT_TARGET_PRECISION,
) -> dict:
    by_kb = knowledge_bases(docs)

    def kb_of(row: dict) -> str:
        return knowledge_base_of(row, by_kb)

    results: dict[str, dict] = {}
    all_scored: list[dict] = []
    organizations: list[uuid.UUID] = []
    try:
        for kb, kb_docs in sorted(by_kb.items()):
            own = [q for q in queries if kb_of(q) == kb]
            calibrating = None if calibration is None else [q for q in calibration if kb_of(q) == kb]
            result, scored = await _evaluate_knowledge_base(
                kb, kb_docs, own, calibrating, target_precision, organizations
            )
            results[kb or "all"] = result
            all_scored += scored
    finally:
        for organization_id in organizations:
            await delete_organization(organization_id)
    return {
        "overall": answer_metrics(all_scored),
        "knowledge_bases": results,
        # questions naming a knowledge base the documents file has none of
        "queries_without_knowledge_base": sum(1 for q in queries if kb_of(q) not in by_kb),
    }


async def _evaluate_knowledge_base(
    kb: str,
    kb_docs: list[dict],
    queries: list[dict],
    calibrating: list[dict] | None,
    target_precision: float,
    organizations: list[uuid.UUID],
) -> tuple[dict, list[dict]]:
    """One knowledge base in a scratch organization (appended to `organizations`, for deletion): its
    metrics, and its scored queries."""
    started = time.perf_counter()
    organization_id, dataset_ids = await _scratch(kb_docs, kb, organizations)
    await retrieval.run_jobs()  # the indexing and the answer model's training
    loaded = time.perf_counter()
    dataset_ids = {str(k): v for k, v in dataset_ids.items()}
    result: dict = {"documents": len(kb_docs)}
    if calibrating:
        result["calibration"] = await _calibrate(organization_id, calibrating, dataset_ids, target_precision)
        await retrieval.run_jobs()  # the answer model learns the marked tickets
    elif calibrating is not None:  # nothing to choose on: the default threshold stays
        result["calibration"] = {"queries": 0, "threshold": None}
    async with db.tenant_session(organization_id) as session:
        threshold = text("SELECT auto_response_threshold FROM organizations WHERE id = :id")
        result["threshold"] = float(await session.scalar(threshold, {"id": organization_id}))
    cpu = time.process_time()
    asked = time.perf_counter()
    scored = _scored(await _ask(organization_id, queries), queries, dataset_ids)
    cpu_ms = 1000 * (time.process_time() - cpu) / max(len(queries), 1)
    asked_seconds = time.perf_counter() - asked
    result["answers"] = answer_metrics(scored) | {
        "gold_not_in_documents": _gold_not_in(queries, set(dataset_ids.values()))
    }
    result["retrieval"] = {
        "answer_model": _ranking_metrics(scored),
        **await _search_metrics(organization_id, dataset_ids, queries),
    }
    result["seconds"] = {
        "load_index_and_train": round(loaded - started, 1),
        "queries": round(asked_seconds, 1),
        # creating the ticket, triage and the answer job, in this one process
        "cpu_ms_per_query": round(cpu_ms, 1),
    }
    return result, scored


async def _calibrate(
    organization_id: uuid.UUID, calibrating: list[dict], dataset_ids: dict[str, str], target_precision: float
) -> dict:
    """The organization's threshold chosen on its calibration questions, which are then marked with the
    document that answers them (or none), as people mark tickets."""
    calibration_scored = _scored(await _ask(organization_id, calibrating), calibrating, dataset_ids)
    threshold = choose_threshold(calibration_scored, target_precision)
    async with db.tenant_session(organization_id) as session:
        await session.execute(
            text("UPDATE organizations SET auto_response_threshold = :t WHERE id = :id"),
            {"t": threshold, "id": organization_id},
        )
    return {
        "queries": len(calibration_scored),
        "target_precision": target_precision,
        "threshold": round(threshold, 4),
        **calibration_summary(calibration_scored, threshold),
        "marked": await _mark(organization_id, calibration_scored, dataset_ids),
    }


async def _search_metrics(organization_id, dataset_ids: dict[str, str], queries: list[dict]) -> dict:
    answerable = [q for q in queries if gold_documents(q)]
    ids = {uuid.UUID(k): v for k, v in dataset_ids.items()}
    out = {}
    for mode, hybrid in (("search_hybrid", True), ("search_lexical", False)):
        rankings, seconds = await retrieval.rank_queries(organization_id, ids, answerable, hybrid=hybrid)
        out[mode] = retrieval.metrics(rankings, seconds).as_dict()
    return out
