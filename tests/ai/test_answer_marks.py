"""A person's word on which document answers a ticket (`answer_document_id`), or that none does: kept on
the ticket, checked, and learned by the organization's answer model."""

import uuid

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.ai import answer_models, answers, embeddings
from tests.ai.test_auto_answer import (
    PUBLIC_DOCUMENTS,
    answer_model_is_current,
    decisions,
    post_document,
)
from tests.ai.test_triage import drain
from tests.factories import open_ticket, sign_up
from tests.test_bad_input import assert_problem


async def mark(client, org, ticket_id, document_id):
    response = await client.patch(
        f"/tickets/{ticket_id}", headers=org.headers, json={"answer_document_id": document_id}
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def knowledge_base(client):
    org = await sign_up(client, plan="pro")
    documents = {
        title: await post_document(client, org, title, content) for title, content in PUBLIC_DOCUMENTS
    }
    await drain()
    return org, documents


async def model_version(org) -> int:
    async with db.system_session() as session:
        return await session.scalar(
            text("SELECT version FROM answer_models WHERE organization_id = :org"), {"org": org.id}
        )


async def confidence_of(client, org, title, description):
    """The auto-responder's best document and its confidence for a new ticket."""
    ticket = await open_ticket(client, org, title=title, description=description)
    await drain()
    [decision] = await decisions(ticket["id"])
    return str(decision.document_ids[0]), decision.confidence


async def test_a_person_says_which_document_answers_a_ticket_or_that_none_does(client, knowledge_base):
    org, documents = knowledge_base
    shipping = documents["Shipping times"]["id"]
    ticket = await open_ticket(client, org, title="Parcel", description="Where is my parcel?")
    assert (ticket["answer_document_id"], ticket["no_document_answers"]) == (None, False)
    await drain()

    marked = await mark(client, org, ticket["id"], shipping)
    assert (marked["answer_document_id"], marked["no_document_answers"]) == (shipping, False)
    assert not await answer_model_is_current(org)  # the model learns it next, in the training deferred:
    version = await model_version(org)
    await answer_models.current_model(uuid.UUID(org.id))  # an answer meanwhile does not wait for it
    assert await model_version(org) == version
    await drain()
    assert await answer_model_is_current(org)

    none = await mark(client, org, ticket["id"], None)
    assert (none["answer_document_id"], none["no_document_answers"]) == (None, True)
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    assert {"answer_document_id": None, "no_document_answers": True} in [
        e["after"] for e in audit.json()["data"]
    ]


async def test_only_a_document_of_the_organization_answers_its_tickets(client, knowledge_base):
    org, _ = knowledge_base
    other = await sign_up(client, plan="pro")
    elsewhere = await post_document(client, other, *PUBLIC_DOCUMENTS[0])
    ticket = await open_ticket(client, org)
    for document_id in (elsewhere["id"], str(uuid.uuid4())):
        response = await client.patch(
            f"/tickets/{ticket['id']}", headers=org.headers, json={"answer_document_id": document_id}
        )
        assert_problem(response, 422, "validation_error")
    after = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()
    assert (after["answer_document_id"], after["no_document_answers"]) == (None, False)


async def test_a_deleted_document_answers_no_ticket_any_more(client, knowledge_base):
    org, documents = knowledge_base
    refunds = documents["Refunds and cancellations"]["id"]
    ticket = await open_ticket(client, org, title="Money back", description="I want my money back.")
    await mark(client, org, ticket["id"], refunds)
    assert (await client.delete(f"/documents/{refunds}", headers=org.headers)).status_code == 204
    after = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()
    assert (after["answer_document_id"], after["no_document_answers"]) == (None, False)


async def test_the_answer_model_learns_how_customers_ask(client, knowledge_base):
    """Tickets worded unlike the document a person said answers them teach the model that wording."""
    org, documents = knowledge_base
    shipping = documents["Shipping times"]["id"]
    asked = ("Still waiting", "My package has not turned up, it is still not here.")
    before = await confidence_of(client, org, *asked)
    for wording in (
        "The package has not turned up yet.",
        "Nothing turned up at my door, where is the box?",
        "Still no sign of the package I bought.",
    ):
        ticket = await open_ticket(client, org, title="Still waiting", description=wording)
        await mark(client, org, ticket["id"], shipping)
    await drain()
    after = await confidence_of(client, org, *asked)
    # measured: 0.23 before, 0.99 after (the default threshold answers from 0.8)
    assert before[1] < 0.8 <= after[1] and after[0] == shipping, (before, after)


async def test_tickets_no_document_answers_make_the_model_less_sure_of_their_like(client, knowledge_base):
    org, documents = knowledge_base
    asked = ("Gift cards", "Can I get a refund on a gift card purchase?")
    before = await confidence_of(client, org, *asked)
    for wording in ("Do you sell gift cards?", "I want to give a gift card.", "Gift card for a friend?"):
        ticket = await open_ticket(client, org, title="Gift cards", description=wording)
        await mark(client, org, ticket["id"], None)
    await drain()
    after = await confidence_of(client, org, *asked)
    # measured: 0.60 before (a suggestion for agents), 0.06 after (out of the knowledge base's scope)
    assert after[1] < answers.SUGGEST_MIN <= before[1], (before, after)
    assert after[0] in {document["id"] for document in documents.values()}  # "none" is never cited


def test_the_no_document_class_is_never_a_candidate():
    documents = [(f"d{i}", title, content) for i, (title, content) in enumerate(PUBLIC_DOCUMENTS)]
    model = answers.train(documents, marks=[(None, "Do you sell gift cards?"), ("d2", "Where is my box?")])
    assert model.documents[0] == answers.NO_DOCUMENT and len(model.documents) == 4
    query = "Do you sell gift cards?"
    ranked = answers.rank(model, embeddings.embed_one(query), set(), query)
    assert len(ranked) == 3 and answers.NO_DOCUMENT not in {c.document_id for c in ranked}
    assert sum(c.score for c in ranked) < 0.5  # the class took most of the probability
