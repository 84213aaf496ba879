"""`supportdesk eval classify`: triage measured through the production code path.

A scratch organization in the real database gets one category per training label, and the training
rows as its past tickets that a human categorized (bulk inserted). The organization's model is then
trained by the function the periodic job uses (`triage.train_organization`), loaded from the database
as the triage job loads it, and each test row is decided by the triage job's own code (`triage.decide`:
the prediction and the calibrated out-of-scope threshold). The scratch organization is deleted at the
end, whatever happens.

A file whose rows carry a `subset` may hold several label spaces (`label_spaces`): HINT3's three bots are
three organizations, each with its own categories and its own out-of-scope messages. Each is then
measured in a scratch organization of its own, and the figures are given for each and pooled. Trained as
one organization, a mattress shop's off-topic questions found a category among a pharmacy's: HINT3's
pooled accuracy was 52.8 % against 73.7 % (out-of-scope recall 34.7 % against 69.6 %).

Training rows labelled out-of-scope (``"oos"``) are past tickets a person said no category fits
(`no_category_fits`, a PATCH of the category to null): production learns out of scope from them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from supportdesk import db
from supportdesk.ai import classifier, triage
from supportdesk.ai.evaluate import decision_metrics
from supportdesk.categories.models import Category
from supportdesk.datasets import as_ticket, clean
from supportdesk.knowledge.evaluate import delete_organization
from supportdesk.schemas import NAME_MAX
from supportdesk.tickets.models import Ticket

BATCH = 2000


async def _scratch_organization(org: uuid.UUID, labels: list[str], train_rows: Sequence[dict]) -> dict:
    """An organization with a category per label and the training rows as its closed tickets; returns
    the labels by category id."""
    now = datetime.now(UTC)
    category_ids = {label: uuid.uuid4() for label in labels}
    async with db.system_session() as session:  # the system: it creates an organization
        await session.execute(
            text(
                "INSERT INTO organizations (id, name, plan, monthly_ticket_limit, created_at, updated_at)"
                " VALUES (:id, :name, 'enterprise', 0, :now, :now)"
            ),
            {"id": org, "name": f"eval scratch {org.hex[:8]}", "now": now},
        )
    async with db.tenant_session(org) as session:
        await session.execute(
            insert(Category.__table__),
            [_category_row(org, category_id, label, now) for label, category_id in category_ids.items()],
        )
        customer = uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO customers (id, organization_id, email, name, created_at, updated_at)"
                " VALUES (:id, :org, 'eval@example.com', 'Eval', :now, :now)"
            ),
            {"id": customer, "org": org, "now": now},
        )
        for start in range(0, len(train_rows), BATCH):
            batch = enumerate(train_rows[start : start + BATCH], start)
            newer = len(train_rows)
            rows = [_ticket_row(org, customer, category_ids, row, newer - i, now) for i, row in batch]
            await session.execute(insert(Ticket.__table__), rows)
    return {str(cid): label for label, cid in category_ids.items()}


def _category_row(org: uuid.UUID, category_id: uuid.UUID, label: str, now: datetime) -> dict:
    return {
        "id": category_id,
        "organization_id": org,
        "name": clean(label)[:NAME_MAX] or "(no name)",
        "description": None,
        "is_active": True,
        "response_sla_minutes": 60,
        "resolution_sla_minutes": 480,
        "priority_level": 3,
        "uses_business_hours": False,
        "created_at": now,
        "updated_at": now,
    }


def _ticket_row(
    org: uuid.UUID, customer: uuid.UUID, category_ids: dict, row: dict, newer: int, now: datetime
) -> dict:
    """A training row as a closed ticket of its label's category (or of none, out of scope), `newer`
    rows from the file's end. The file is the history in order: its last row the newest (and the one
    production's cap on training tickets keeps last)."""
    title, description = as_ticket(row["text"])
    out_of_scope = classifier.is_oos(row["label"])
    return {
        "id": uuid.uuid4(),
        "organization_id": org,
        "category_id": None if out_of_scope else category_ids[str(row["label"])],
        "no_category_fits": out_of_scope,
        "customer_id": customer,
        "title": title,
        "description": description,
        "status": "closed",
        "priority": 3,
        "criticality": "low",
        "response_breached": False,
        "resolution_breached": False,
        "created_at": now - timedelta(microseconds=newer),
        "updated_at": now,
    }


def label_spaces(
    train_rows: Sequence[dict], test_rows: Sequence[dict]
) -> tuple[dict[str, tuple[list, list]], list[str]]:
    """The organizations a pair of files describes, by name, with their (training, test) rows: one per
    `subset` when every subset is a label space of its own (two categories or more among its training
    rows, its out-of-scope rows among its own: HINT3's bots); else one for all, named "" (no subset, or
    out-of-scope rows in a subset of their own: CLINC150's subsets are the topics of one label space).
    Second, the subsets that kept the file whole (fewer than two labels of their own to train on)."""
    spaces: dict[str, tuple[list, list]] = {}
    for side, rows in enumerate((train_rows, test_rows)):
        for row in rows:
            spaces.setdefault(str(row.get("subset") or ""), ([], []))[side].append(row)
    if len(spaces) < 2:
        return {"": (list(train_rows), list(test_rows))}, []
    unfit = sorted(name for name, (train, _) in spaces.items() if len(_labels(train)) < triage.MIN_CATEGORIES)
    if unfit:
        return {"": (list(train_rows), list(test_rows))}, unfit
    return spaces, []


def _labels(rows: Sequence[dict]) -> list[str]:
    return sorted({str(r["label"]) for r in rows if not classifier.is_oos(r["label"])})


async def classify(train_rows: Sequence[dict], test_rows: Sequence[dict]) -> dict:
    """Metrics (percent) of triage trained on `train_rows` and deciding `test_rows`; with several label
    spaces, pooled over them, and each one's under `subsets`."""
    spaces, unfit = label_spaces(train_rows, test_rows)
    if len(spaces) == 1:
        metrics, _ = await _classify(*spaces[""])
        if unfit:  # say why the subsets were not measured one by one
            metrics["subsets_measured_as_one"] = f"fewer than two labels to train on in subsets {unfit}"
        return metrics
    subsets, gold, pred, forced = {}, [], [], []
    for name, (train, test) in sorted(spaces.items()):
        subsets[name], decided = await _classify(train, test)
        for pooled, labels in zip((gold, pred, forced), decided, strict=True):
            pooled += [None if label is None else f"{name}/{label}" for label in labels]
    return {
        "n_train": sum(m["n_train"] for m in subsets.values()),
        "n_train_oos": sum(m["n_train_oos"] for m in subsets.values()),
        "n_classes": sum(m["n_classes"] for m in subsets.values()),
        **decision_metrics(gold, pred, forced),
        "subsets": subsets,
    }


async def _classify(train_rows: Sequence[dict], test_rows: Sequence[dict]) -> tuple[dict, tuple]:
    """The metrics of one scratch organization, and its (gold, decided, forced) labels of the test rows."""
    labels = _labels(train_rows)
    if len(labels) < triage.MIN_CATEGORIES:
        raise SystemExit("fewer than two labels in the training file: no model, no category")
    t0 = time.perf_counter()
    org = uuid.uuid4()  # deleted however the run ends: Ctrl-C or SIGTERM may come while it is made
    try:
        label_of = await _scratch_organization(org, labels, train_rows)
        t1 = time.perf_counter()
        trained = await triage.train_organization(org, force=True)
        t2 = time.perf_counter()
        assert trained is not None  # two categories or more
        async with db.tenant_session(org) as session:
            model = await triage.load_model(session, org)
        assert model is not None
        texts = [triage.ticket_text(*as_ticket(r["text"])) for r in test_rows]
        t3 = time.process_time()
        decisions = triage.decide(model, texts)
        t4 = time.process_time()
    finally:
        await delete_organization(org)

    gold = [None if classifier.is_oos(r["label"]) else str(r["label"]) for r in test_rows]
    pred = [label_of[d.category_id] if d.category_id else None for d in decisions]
    forced = [label_of[d.best_category_id] if d.best_category_id else None for d in decisions]
    metrics = {
        "n_train": len(train_rows),
        "n_train_oos": sum(1 for r in train_rows if classifier.is_oos(r["label"])),
        "n_classes": len(labels),
        **decision_metrics(gold, pred, forced),
        "thresholds": [round(float(a.threshold), 4) for a in model.abstentions],
        "model_version": trained.version,
        "training_examples": trained.metrics.get("examples"),
        "seconds_load": round(t1 - t0, 2),
        "seconds_train": round(t2 - t1, 2),
        "cpu_ms_per_ticket_batched": round(1000 * (t4 - t3) / max(len(gold), 1), 2),
    }
    if metrics["n_train"] > triage.MAX_TICKET_EXAMPLES:  # as in production: the most recent only
        metrics["history_cap"] = (
            f"trained on the last {triage.MAX_TICKET_EXAMPLES} of the {metrics['n_train']} rows"
        )
    return metrics, (gold, pred, forced)
