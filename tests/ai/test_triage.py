"""Triage on every new ticket, end to end: the API creates the ticket, the job queue triages it with the
organization's own model (the real MiniLM embedder), and the ticket, its clocks and its audit trail show
the decision."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from supportdesk import db, jobs
from supportdesk.ai import embeddings, triage
from supportdesk.ai import jobs as ai_jobs
from supportdesk.ai.stored_models import training_turn
from supportdesk.categories.service import delete_category
from supportdesk.knowledge.evaluate import delete_organization
from supportdesk.tickets.system_changes import apply_triage
from tests.factories import add_category, open_ticket, sign_up
from tests.sla.helpers import admin_of
from tests.waiting import until_a_lock_is_waited_for

CATEGORIES = {
    "billing": dict(
        name="Billing",
        description="Invoices, refunds, charges on your card and subscription payments",
        priority_level=1,
        response_sla_minutes=15,
        resolution_sla_minutes=120,
    ),
    "access": dict(
        name="Account access",
        description="Logging in, passwords, two-factor authentication and locked accounts",
        priority_level=2,
    ),
    "shipping": dict(
        name="Shipping",
        description="Deliveries, parcels, tracking numbers and late or lost orders",
        priority_level=4,
        response_sla_minutes=240,
        resolution_sla_minutes=2880,
    ),
}
HISTORY = {
    "billing": [
        ("Charged twice", "I see two charges for the same invoice on my credit card."),
        ("Refund request", "Please refund my last payment, I cancelled the subscription."),
        ("Wrong invoice amount", "The invoice total is higher than my plan price."),
        ("Payment declined", "My card payment for the monthly subscription was declined."),
    ],
    "access": [
        ("Cannot log in", "The login page says my password is wrong."),
        ("Reset password", "The password reset email never arrives."),
        ("Locked out", "My account got locked after too many attempts."),
        ("2FA code not working", "The two-factor authentication code is always rejected."),
    ],
    "shipping": [
        ("Where is my parcel", "The tracking number shows no movement for a week."),
        ("Late delivery", "My order was supposed to arrive on Monday and it is still not here."),
        ("Lost package", "The courier says the package was delivered but I never got it."),
        ("Change delivery address", "Can you ship my order to a different address?"),
    ],
}


async def drain() -> None:
    async with jobs.app.open_async():
        await jobs.run_until_empty()


async def ai_state(ticket_id: str):
    async with db.system_session() as session:
        return (
            await session.execute(
                text("SELECT ai_category_confidence, ai_category_id, triaged_at FROM tickets WHERE id = :id"),
                {"id": ticket_id},
            )
        ).one()


@pytest.fixture(scope="module")
async def shop(client):
    return await open_shop(client)


async def open_shop(client):
    """An organization with three categories, a document each and four categorized tickets each."""
    org = await sign_up(client, plan="pro")
    categories = {key: await add_category(client, org, **fields) for key, fields in CATEGORIES.items()}
    document = await client.post(
        "/documents",
        headers=org.headers,
        json={
            "title": "Tracking your delivery",
            "content": "Every order gets a tracking number by email once the parcel leaves the warehouse.",
            "category_ids": [categories["shipping"]["id"]],
        },
    )
    assert document.status_code == 201, document.text
    for key, rows in HISTORY.items():
        for title, description in rows:
            await open_ticket(
                client, org, title=title, description=description, category_id=categories[key]["id"]
            )
    await drain()
    return org, categories


async def get(client, org, ticket_id):
    response = await client.get(f"/tickets/{ticket_id}", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_triage_without_a_model_gives_its_slot_back_while_another_training_runs(client, monkeypatch):
    """An organization's first model can train for minutes: the triage jobs of others must not each hold
    a worker slot meanwhile. It comes again later instead."""
    monkeypatch.setattr(ai_jobs, "TRAINING_PATIENCE", 0.3)
    org = await sign_up(client)
    for name in ("Billing", "Shipping"):
        await add_category(client, org, name=name)
    ticket = await open_ticket(client, org, title="Where is my parcel?", description="It has not come.")
    organization_id, ticket_id = uuid.UUID(org.id), uuid.UUID(ticket["id"])

    async with training_turn():  # another organization's training
        await ai_jobs.triage_one(organization_id, ticket_id, apply=apply_triage)

    async with db.system_session() as session:
        triaged = text("SELECT triaged_at FROM tickets WHERE id = :id")
        triaged_at = await session.scalar(triaged, {"id": ticket_id})
        later = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'triage_ticket'"
                " AND args->>'ticket_id' = :id AND scheduled_at > now()"
            ),
            {"id": str(ticket_id)},
        )
    assert triaged_at is None and later == 1


async def test_a_retraining_gives_its_slot_back_while_another_training_runs(client, monkeypatch):
    monkeypatch.setattr(ai_jobs, "TRAINING_PATIENCE", 0.3)
    org = await sign_up(client)
    for name in ("Billing", "Shipping"):
        await add_category(client, org, name=name)

    async with training_turn():  # another organization's first model, for minutes
        await ai_jobs.train_triage_model(organization_id=org.id)

    async with db.system_session() as session:
        trained = await session.scalar(
            text("SELECT count(*) FROM triage_models WHERE organization_id = :org"), {"org": org.id}
        )
        later = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'train_triage_model'"
                " AND args->>'organization_id' = :org AND scheduled_at > now()"
            ),
            {"org": org.id},
        )
    assert trained == 0 and later == 1


async def test_triage_racing_the_deletion_of_its_category_waits_for_it_and_sets_no_category(client):
    org, categories = await open_shop(client)
    organization_id, billing = uuid.UUID(org.id), uuid.UUID(categories["billing"]["id"])
    await triage.train_organization(organization_id)
    ticket = await open_ticket(
        client, org, title="Double charge on my card", description="You took my payment twice."
    )
    async with db.tenant_session(organization_id) as deletion:
        # The deletion has locked the category (its first step) when triage chooses it.
        await deletion.execute(text("SELECT id FROM categories WHERE id = :id FOR UPDATE"), {"id": billing})
        triaging = asyncio.create_task(
            ai_jobs.triage_one(organization_id, uuid.UUID(ticket["id"]), apply=apply_triage)
        )
        await until_a_lock_is_waited_for(triaging)
        await delete_category(deletion, admin_of(org), billing)  # then takes the ticket's lock
    await triaging

    assert (await ai_state(ticket["id"])).triaged_at is not None
    assert (await get(client, org, ticket["id"]))["category_id"] is None


async def test_a_new_ticket_gets_its_category_priority_and_moved_deadlines(client, shop):
    org, categories = shop
    ticket = await open_ticket(
        client,
        org,
        title="Double charge on my card",
        description="You took the subscription payment twice this month, please refund one of them.",
    )
    assert ticket["category_id"] is None and ticket["priority"] == 3
    await drain()
    triaged = await get(client, org, ticket["id"])
    assert triaged["category_id"] == categories["billing"]["id"]
    assert triaged["priority"] == 1
    # billing answers in 15 minutes instead of the default 60: the response clock moved 45 minutes closer
    before = datetime.fromisoformat(ticket["sla"]["response_due_at"])
    after = datetime.fromisoformat(triaged["sla"]["response_due_at"])
    assert 44 * 60 <= (before - after).total_seconds() <= 46 * 60
    confidence, ai_category, triaged_at = await ai_state(ticket["id"])
    assert confidence is not None and 0 < confidence <= 1
    assert str(ai_category) == categories["billing"]["id"] and triaged_at is not None

    audit = await client.get(
        "/audit-logs", headers=org.headers, params={"entity_id": ticket["id"], "limit": 100}
    )
    entries = [e for e in audit.json()["data"] if e["action"] == "ticket.triaged"]
    assert len(entries) == 1 and entries[0]["actor_id"] is None

    # Re-running the job changes nothing.
    await ai_jobs.triage_ticket(organization_id=org.id, ticket_id=ticket["id"])
    assert await get(client, org, ticket["id"]) == triaged
    assert await ai_state(ticket["id"]) == (confidence, ai_category, triaged_at)


async def test_the_creators_priority_stays(client, shop):
    org, categories = shop
    ticket = await open_ticket(
        client, org, title="Parcel not delivered", description="My tracking number has not moved.", priority=5
    )
    await drain()
    triaged = await get(client, org, ticket["id"])
    assert triaged["category_id"] == categories["shipping"]["id"] and triaged["priority"] == 5


async def test_a_priority_and_criticality_a_person_set_before_triage_stay(client, shop):
    org, categories = shop
    ticket = await open_ticket(
        client,
        org,
        title="URGENT: charged twice",
        description="You took my subscription payment twice, this is UNACCEPTABLE, refund it NOW!!",
    )
    changed = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"priority": 5, "criticality": "low"}
    )
    assert changed.status_code == 200, changed.text
    await drain()
    triaged = await get(client, org, ticket["id"])
    assert triaged["category_id"] == categories["billing"]["id"]
    assert (triaged["priority"], triaged["criticality"]) == (5, "low")


async def test_an_off_topic_ticket_gets_no_category(client, shop):
    org, _ = shop
    ticket = await open_ticket(
        client,
        org,
        title="Banana bread",
        description="What is your favourite recipe for banana bread with walnuts?",
    )
    await drain()
    triaged = await get(client, org, ticket["id"])
    assert triaged["category_id"] is None and triaged["priority"] == 3
    confidence, ai_category, triaged_at = await ai_state(ticket["id"])
    assert ai_category is None and triaged_at is not None and confidence is not None


async def test_a_category_a_human_set_is_never_overwritten(client, shop):
    org, categories = shop
    ticket = await open_ticket(
        client, org, title="Refund please", description="I was charged twice for my invoice, refund me."
    )
    # A human files it before the job runs.
    patched = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"category_id": categories["shipping"]["id"]}
    )
    assert patched.status_code == 200, patched.text
    await drain()
    assert (await get(client, org, ticket["id"]))["category_id"] == categories["shipping"]["id"]
    _, ai_category, triaged_at = await ai_state(ticket["id"])
    assert ai_category is None and triaged_at is not None


async def test_a_ticket_a_person_says_fits_no_category_is_learned_as_out_of_scope(client):
    org = await sign_up(client)
    await add_category(client, org, **CATEGORIES["billing"])
    access = await add_category(client, org, **CATEGORIES["access"])
    ticket = await open_ticket(client, org, title="Office parking", description="Where can I park my car?")
    # A person says none fits before triage runs: triage leaves it without one.
    patched = await client.patch(f"/tickets/{ticket['id']}", headers=org.headers, json={"category_id": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["no_category_fits"] is True and patched.json()["category_id"] is None
    await drain()
    assert (await get(client, org, ticket["id"]))["category_id"] is None
    assert (await ai_state(ticket["id"]))[2] is not None  # triaged: criticality only

    trained = await triage.train_organization(uuid.UUID(org.id), force=True)
    assert trained.metrics["examples"]["out_of_scope_tickets"] == 1
    # Nothing changed since: the fingerprint knows the out-of-scope ticket.
    assert await triage.train_organization(uuid.UUID(org.id)) is None

    # A category after all: learned in it, no longer out of scope.
    patched = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"category_id": access["id"]}
    )
    assert patched.json()["no_category_fits"] is False
    trained = await triage.train_organization(uuid.UUID(org.id))
    assert trained.metrics["examples"]["out_of_scope_tickets"] == 0
    assert trained.metrics["examples"]["tickets"] == 1
    audit = await client.get(
        "/audit-logs", headers=org.headers, params={"entity_type": "ticket", "entity_id": ticket["id"]}
    )
    changes = [e["after"] for e in audit.json()["data"] if e["action"] == "ticket.updated"]
    assert {"no_category_fits": False, "category_id": access["id"]}.items() <= changes[0].items()


async def test_criticality_is_raised_for_an_urgent_angry_text_never_lowered(client, shop):
    org, _ = shop
    urgent = await open_ticket(
        client,
        org,
        title="URGENT: site is down",
        description="Our production is down, ALL our customers are blocked. This is UNACCEPTABLE!!",
    )
    given = await open_ticket(
        client, org, title="Site is down", description="Production is down for everyone.", criticality="low"
    )
    calm = await open_ticket(
        client, org, title="Quick question", description="No rush: how do I change my invoice address?"
    )
    await drain()
    assert (await get(client, org, urgent["id"]))["criticality"] == "critical"
    assert (await get(client, org, given["id"]))["criticality"] == "low"  # the creator's choice
    assert (await get(client, org, calm["id"]))["criticality"] == "low"


async def test_a_ticket_closed_before_triage_keeps_its_urgency_and_gets_its_category(client, shop):
    org, categories = shop
    ticket = await open_ticket(
        client,
        org,
        title="URGENT: where is my parcel",
        description="The tracking number shows no movement for a week. ALL my orders are blocked!!",
    )
    closed = (
        await client.patch(f"/tickets/{ticket['id']}", headers=org.headers, json={"status": "closed"})
    ).json()
    await drain()
    triaged = await get(client, org, ticket["id"])
    assert (triaged["priority"], triaged["criticality"]) == (closed["priority"], closed["criticality"])
    assert triaged["category_id"] == categories["shipping"]["id"]


async def test_an_organization_with_one_category_gets_no_model_and_no_category(client):
    org = await sign_up(client)
    await add_category(client, org, name="Everything", description="All questions")
    ticket = await open_ticket(client, org)
    await drain()
    assert (await get(client, org, ticket["id"]))["category_id"] is None
    async with db.system_session() as session:
        assert (
            await session.scalar(
                text("SELECT count(*) FROM triage_models WHERE organization_id = :org"), {"org": org.id}
            )
            == 0
        )


async def test_an_organization_deleted_while_its_model_trains_keeps_no_model_and_raises_nothing(
    client, monkeypatch
):
    # An evaluation deletes its scratch organization while a server's worker trains it (the periodic
    # retraining found it): the training stores nothing, where it failed with a ForeignKeyViolation.
    org = await sign_up(client)
    await add_category(client, org, **CATEGORIES["billing"])
    await add_category(client, org, **CATEGORIES["access"])
    in_thread = jobs.in_thread_until_stopping

    async def deleted_meanwhile(function, *args):
        model = await in_thread(function, *args)
        await delete_organization(uuid.UUID(org.id))
        return model

    monkeypatch.setattr(jobs, "in_thread_until_stopping", deleted_meanwhile)
    assert await triage.train_organization(uuid.UUID(org.id), force=True) is None
    async with db.system_session() as session:
        models = "SELECT count(*) FROM triage_models WHERE organization_id = :org"
        assert await session.scalar(text(models), {"org": org.id}) == 0


async def test_the_periodic_retrain_picks_up_new_history(client, monkeypatch):
    org = await sign_up(client, plan="pro")
    billing = await add_category(client, org, **CATEGORIES["billing"])
    access = await add_category(client, org, **CATEGORIES["access"])
    await open_ticket(client, org, title="Refund", description="Refund my invoice", category_id=billing["id"])
    await drain()  # its triage trains the first model (on demand)

    async def model_row():
        async with db.system_session() as session:
            return (
                await session.execute(
                    text("SELECT version, metrics FROM triage_models WHERE organization_id = :org"),
                    {"org": org.id},
                )
            ).one()

    # The first ticket had a category, so nothing needed a model yet: the periodic pass trains one.
    assert await ai_jobs.defer_retrains() >= 1
    await drain()
    version, metrics = await model_row()
    assert metrics["examples"]["tickets"] == 1

    # Nothing changed: no retraining for this organization.
    await ai_jobs.train_triage_model(organization_id=org.id)
    assert (await model_row())[0] == version

    await open_ticket(
        client, org, title="Locked out", description="Password rejected", category_id=access["id"]
    )
    await drain()
    embedded: list[str] = []
    embed = embeddings.embed

    def counting(texts, **options):
        embedded.extend(texts)
        return embed(texts, **options)

    monkeypatch.setattr(embeddings, "embed", counting)
    await ai_jobs.retrain_triage_models(timestamp=0)
    await drain()
    new_version, metrics = await model_row()
    assert new_version == version + 1 and metrics["examples"]["tickets"] == 2
    assert embedded == ["Locked out Password rejected"]  # the one new text: the rest was in the model
    assert uuid.UUID(org.id)


async def test_a_persons_correction_retrains_triage_ten_minutes_later_once(client):
    org = await sign_up(client)
    billing, access = [await add_category(client, org, **CATEGORIES[key]) for key in ("billing", "access")]
    ticket = await open_ticket(client, org, title="Locked out", description="Password rejected")
    await drain()

    for category in (billing, access, billing):  # two changes at least, whatever triage chose
        patched = await client.patch(
            f"/tickets/{ticket['id']}", headers=org.headers, json={"category_id": category["id"]}
        )
        assert patched.status_code == 200, patched.text

    async with db.system_session() as session:
        waiting = (
            await session.execute(
                text(
                    "SELECT scheduled_at - now() AS delay FROM procrastinate_jobs WHERE status = 'todo'"
                    " AND task_name = 'train_triage_model' AND args->>'organization_id' = :org"
                ),
                {"org": org.id},
            )
        ).all()
    assert len(waiting) == 1  # the corrections are learned from by one training
    assert ai_jobs.RETRAIN_AFTER_CORRECTION * 0.9 < waiting[0].delay <= ai_jobs.RETRAIN_AFTER_CORRECTION


async def test_eval_classify_runs_triage_in_a_scratch_organization_and_deletes_it(app, banking_slice):
    from supportdesk.ai import production_eval

    train, test = banking_slice
    labels = sorted({r["label"] for r in train})[:4]
    train = [r for r in train if r["label"] in labels][:32]
    # an out-of-scope training row: a past ticket a person said no category fits
    off_topic = {"id": "y", "text": "Can you recommend a hotel in Lisbon?", "label": "oos"}
    test = [r for r in test if r["label"] in labels] + [
        {"id": "x", "text": "What is the best recipe for banana bread?", "label": "oos"}
    ]
    async with db.system_session() as session:
        organizations = await session.scalar(text("SELECT count(*) FROM organizations"))
    metrics = await production_eval.classify([*train, off_topic], test)
    assert metrics["n_classes"] == 4 and metrics["n_test"] == len(test) and metrics["n_test_oos"] == 1
    assert metrics["n_train"] == len(train) + 1 and metrics["n_train_oos"] == 1
    assert metrics["training_examples"] == {
        "categories": 4,
        "documents": 0,
        "tickets": len(train),
        "out_of_scope_tickets": 1,
    }
    assert metrics["accuracy"] >= 70 and metrics["oos_recall"] is not None
    for key in ("macro_f1", "oos_precision", "in_scope_accuracy"):
        assert key in metrics
    async with db.system_session() as session:
        assert await session.scalar(text("SELECT count(*) FROM organizations")) == organizations


async def test_eval_classify_says_when_the_history_cap_left_rows_out(app, banking_slice, monkeypatch):
    from supportdesk.ai import production_eval, triage

    train, test = banking_slice
    labels = sorted({r["label"] for r in train})[:4]
    train = [r for r in train if r["label"] in labels][:32]
    monkeypatch.setattr(triage, "MAX_TICKET_EXAMPLES", 30)
    metrics = await production_eval.classify(train, [r for r in test if r["label"] in labels])
    assert metrics["training_examples"]["tickets"] == 30
    assert metrics["history_cap"] == "trained on the last 30 of the 32 rows"


async def test_eval_classify_measures_each_label_space_in_an_organization_of_its_own(app, banking_slice):
    """Two shops in one file (HINT3's bots): each its own categories; the figures pooled and per shop."""
    from supportdesk.ai import production_eval

    train, test = banking_slice
    shop_of = {
        label: ("north", "south")[i % 2] for i, label in enumerate(sorted({r["label"] for r in train}))
    }
    train, test = ([{**r, "subset": shop_of[r["label"]]} for r in rows] for rows in (train, test))
    off_topic = {
        "id": "x",
        "text": "What is the best recipe for banana bread?",
        "label": "oos",
        "subset": "south",
    }
    metrics = await production_eval.classify(train, [*test, off_topic])
    assert sorted(metrics["subsets"]) == ["north", "south"] and metrics["n_classes"] == 20
    assert [m["n_classes"] for m in metrics["subsets"].values()] == [10, 10]
    assert metrics["n_test"] == len(test) + 1 and metrics["subsets"]["south"]["n_test_oos"] == 1
    assert metrics["accuracy"] >= 70


def test_a_file_is_one_label_space_unless_each_subset_has_categories_of_its_own():
    from supportdesk.ai.production_eval import label_spaces

    def rows(*pairs):
        return [
            {"text": f"text {i}", "label": label, "subset": subset} for i, (subset, label) in enumerate(pairs)
        ]

    bots = rows(("a", "x"), ("a", "y"), ("b", "x"), ("b", "z"))
    spaces, unfit = label_spaces(bots, rows(("b", "oos")))
    assert {name: len(train) for name, (train, _) in spaces.items()} == {"a": 2, "b": 2} and unfit == []
    topics = rows(("a", "x"), ("a", "y"), ("b", "z"), ("b", "w"), ("oos", "oos"))  # CLINC150
    one_label = rows(("a", "x"), ("a", "y"), ("b", "z"))
    assert label_spaces(topics, rows(("b", "oos")))[1] == ["oos"]
    assert label_spaces(one_label, rows(("b", "oos")))[1] == ["b"]
    assert label_spaces([{"text": "t", "label": label} for label in "xyz"], rows(("b", "oos")))[1] == ["b"]
    for train in (topics, one_label):
        assert list(label_spaces(train, rows(("b", "oos")))[0]) == [""]


def test_the_eval_classify_command_is_wired():
    from typer.testing import CliRunner

    from supportdesk.cli import app as cli

    result = CliRunner().invoke(cli, ["eval", "classify", "--help"])
    assert result.exit_code == 0 and "--train" in result.output and "--test" in result.output


async def test_eval_classify_needs_two_labels_and_says_so_before_it_creates_anything(app):
    from supportdesk.ai import production_eval

    only_oos = [{"id": "a", "text": "What is the best recipe for banana bread?", "label": "oos"}]
    with pytest.raises(SystemExit, match="fewer than two labels"):
        await production_eval.classify(only_oos, only_oos)


@pytest.mark.parametrize("sigint", ["handled", "ignored"])  # ignored: started with `&` from a script
async def test_sigterm_stops_eval_classify_as_ctrl_c_does_and_its_scratch_organization_goes(
    app, tmp_path, sigint
):
    rows = Path("/work/shared/datasets/banking77.jsonl").read_text().splitlines()[::10]  # 1,300 rows
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(rows))
    command = [str(Path(sys.executable).parent / "supportdesk"), "eval", "classify"]
    evaluation = subprocess.Popen(
        [*command, "--train", str(train), "--test", str(train)],
        env={**os.environ, "DATABASE_URL": db.database_url()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint == "ignored" else None,
    )
    try:
        scratch = None
        while scratch is None:
            assert evaluation.poll() is None, "it ended before it had a scratch organization"
            await asyncio.sleep(0.2)
            async with db.system_session() as session:
                scratch = await session.scalar(
                    text("SELECT id FROM organizations WHERE name LIKE 'eval scratch %'")
                )
        evaluation.send_signal(signal.SIGTERM)  # while it trains
        assert await asyncio.to_thread(evaluation.wait, 120) != 0  # stopped, not finished
    finally:
        evaluation.kill()
    async with db.system_session() as session:
        assert (
            await session.scalar(text("SELECT count(*) FROM organizations WHERE id = :id"), {"id": scratch})
            == 0
        )


def test_an_empty_or_broken_dataset_file_is_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    from supportdesk.cli import app as cli

    empty, broken = tmp_path / "empty.jsonl", tmp_path / "broken.jsonl"
    empty.write_text("\n")
    broken.write_text('{"id": "q1", "title": "Hi", "text": "hi"}\n{"id": \n')
    for path, message in ((empty, "no rows"), (broken, "line 2, column 8: not JSON")):
        result = CliRunner().invoke(cli, ["eval", "answer", "--docs", str(path), "--queries", str(path)])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_a_file_of_another_kind_is_refused_by_eval_answer_before_it_measures(tmp_path):
    from typer.testing import CliRunner

    from supportdesk.cli import app as cli

    documents, classified = tmp_path / "docs.jsonl", tmp_path / "classified.jsonl"
    documents.write_text('{"id": "d1", "title": "Refunds", "content": "Refunds take five days."}\n')
    classified.write_text('{"id": "c1", "text": "Where is my refund?", "label": "refund"}\n')
    for docs, queries, message in (
        (documents, classified, "line 1: no gold_doc_ids"),  # it would measure as all rightly handed off
        (classified, documents, "line 1: no title or content"),
    ):
        result = CliRunner().invoke(cli, ["eval", "answer", "--docs", str(docs), "--queries", str(queries)])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
