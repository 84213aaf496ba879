"""The answer model on its own (no database): what a retraining embeds again."""

import numpy as np

from supportdesk.ai import answers, embeddings
from supportdesk.demo.texts import DOCUMENTS as DEMO

DOCUMENTS = [
    ("a", "Resetting your password", "Open the sign-in page.\nChoose 'Forgot password'."),
    ("b", "Refunds", "Refunds reach your card within 5 days. Ask support for a refund."),
    ("c", "Exporting data", "Export any report to CSV from its menu."),
]


def test_a_retraining_embeds_only_the_sentences_the_previous_model_did_not_have(monkeypatch):
    previous = answers.train(DOCUMENTS)
    embedded: list[str] = []
    embed = embeddings.embed

    def counting(texts, **options):
        embedded.extend(texts)
        return embed(texts, **options)

    monkeypatch.setattr(answers.embeddings, "embed", counting)
    edited = [*DOCUMENTS[:2], ("c", "Exporting data", "Export any report to CSV from its menu. Or to JSON.")]
    model = answers.train(edited, previous)

    assert embedded == ["Or to JSON."]
    assert np.allclose(model.vectors, answers.train(edited).vectors, atol=2e-3)  # as if trained afresh


def test_the_regression_learns_its_documents_however_many_there_are():
    """Each document is 1/n of the loss, so the gradient the fit stops on shrinks as documents are added:
    with a fixed tolerance, a thousand documents of similar sentences (as a real knowledge base's are:
    they share a direction) stopped before the first step, every document as likely as the next."""
    documents = 1000
    rng = np.random.default_rng(0)
    topics = rng.normal(size=(documents, 32))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    shared = np.eye(32)[0]
    vectors = shared + 0.05 * np.repeat(topics, 2, axis=0) + 0.01 * rng.normal(size=(2 * documents, 32))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owners = np.repeat(np.arange(documents), 2)

    weights, biases = answers._regression(vectors.astype(np.float32), owners, documents)

    assert ((vectors @ weights.T + biases).argmax(axis=1) == owners).mean() > 0.9


def test_a_retraining_starts_from_the_previous_model_and_reaches_the_same_answers():
    previous = answers.train(DOCUMENTS)
    grown = [*DOCUMENTS, ("d", "Deleting your account", "Close your account from the settings page.")]

    start_weights, start_biases = answers._start(previous, ["a", "b", "c", "d"])
    assert np.array_equal(start_weights[:3], previous.weights) and not start_weights[3].any()
    assert np.array_equal(start_biases[:3], previous.biases) and start_biases[3] == 0

    retrained, afresh = answers.train(grown, previous), answers.train(grown)
    for model in (retrained, afresh):
        logits = model.vectors.astype(np.float32) @ model.weights.T + model.biases
        assert (logits.argmax(axis=1) == model.owners).all()
    assert np.allclose(retrained.weights, afresh.weights, atol=0.05)  # the weights reach about 1


def best(model: answers.AnswerModel, query: str) -> answers.Candidate:
    return answers.rank(model, embeddings.embed_one(query), set(), query)[0]


def test_a_small_knowledge_base_is_not_sure_of_a_question_it_only_resembles():
    """With six documents the regression's probability and the other readings favour the one document a
    question is near, answered or not: "change my email" was answered with the password reset at 0.84
    (the default threshold is 0.8). The calibration weighs how many documents there are."""
    public = [(title, "\n".join(paragraphs)) for title, is_public, _, paragraphs in DEMO if is_public]
    model = answers.train([(str(i), title, content) for i, (title, content) in enumerate(public[:6])])
    resembles = ["How do I change the email address on my account?", "I forgot my username"]
    answered = ["How do I reset my password?", "How do I add our VAT number to invoices?"]
    # measured: 0.37 and 0.07 (before: 0.84 and 0.48); 0.89 and 0.86 (before: 0.98 and 0.97)
    assert max(best(model, query).confidence for query in resembles) < 0.8
    assert min(best(model, query).confidence for query in answered) >= 0.8
