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
