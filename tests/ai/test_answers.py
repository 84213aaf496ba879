"""The answer model on its own (no database): what a retraining embeds again."""

import numpy as np

from supportdesk.ai import answers, embeddings

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
