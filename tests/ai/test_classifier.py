import uuid

import numpy as np
import pytest
import scipy.sparse as sp

from supportdesk.ai import classifier, embeddings, specialists, training


def test_learns_small_banking_slice(banking_slice, banking_model):
    _, test = banking_slice
    predictions = classifier.classify(banking_model, [r["text"] for r in test])
    accuracy = sum(p.best == r["label"] for p, r in zip(predictions, test, strict=True)) / len(test)
    assert accuracy >= 0.75  # chance is 0.05
    assert all(0.0 <= p.confidence <= 1.0 for p in predictions)
    assert all(p.label in (None, p.best) for p in predictions)
    assert banking_model.classes == sorted({r["label"] for r in banking_slice[0]})


def test_abstains_on_unrelated_text(banking_model):
    unrelated = [
        "What is the capital of Australia?",
        "Recommend me a good recipe for lasagna",
        "Who won the football world cup in 1998?",
        "How tall is Mount Everest?",
    ]
    predictions = classifier.classify(banking_model, unrelated)
    assert sum(p.label is None for p in predictions) >= 3, predictions


def test_confident_in_scope_predictions_are_kept(banking_model):
    (prediction,) = classifier.classify(banking_model, ["My PIN is blocked, how do I unblock it?"])
    assert prediction.label == "pin_blocked" and prediction.confidence > 0.5


def test_the_abstention_score_weighs_novelty_with_the_confidence():
    """The abstention score ranks a text by its confidence and its closeness to the training rows, each as
    a percentile of the calibration rows': a confident text unlike every training row falls below an
    unsure one among familiar texts."""
    reference = (np.linspace(0.1, 1.0, 100), np.linspace(0.2, 0.9, 100))  # confidences, similarities
    confident_but_novel, unsure_but_familiar = classifier.abstention_score(
        np.array([0.95, 0.15]), np.array([0.1, 0.6]), reference, weight=0.4
    )
    assert confident_but_novel < unsure_but_familiar
    assert classifier.abstention_score(np.array([0.95]), np.array([0.1]), reference, weight=0.0)[0] > 0.9


def test_the_novelty_rule_is_for_models_calibrated_on_held_out_categories(banking_model):
    assert all(a.reference is not None and 0 < a.threshold < 1 for a in banking_model.abstentions)


def test_serialization_round_trip(banking_slice, banking_model):
    _, test = banking_slice
    texts = [r["text"] for r in test[:10]]
    data = classifier.dumps(banking_model)
    assert isinstance(data, bytes) and data.startswith(classifier.MAGIC)
    loaded = classifier.loads(data)
    assert classifier.classify(loaded, texts) == classifier.classify(banking_model, texts)
    assert loaded.version == classifier.FORMAT_VERSION


def test_rejects_foreign_or_old_bytes(banking_model):
    with pytest.raises(classifier.IncompatibleModel):
        classifier.loads(b"not a model")
    data = bytearray(classifier.dumps(banking_model))
    data[len(classifier.MAGIC) + 1] = 99
    with pytest.raises(classifier.IncompatibleModel):
        classifier.loads(bytes(data))


OFF_TOPIC = [
    "tell me a joke",
    "what time is it in Tokyo",
    "play some jazz music",
    "how do I bake bread",
    "what's the weather tomorrow",
    "set an alarm for 7am",
    "translate hello into French",
    "who wrote Hamlet",
    "recommend a good science fiction novel",
    "how tall is the Eiffel tower",
    "what is the capital of Australia",
    "find me a vegetarian lasagna recipe",
    "how many calories are in an apple",
    "when does the next football season start",
    "what's a good name for a golden retriever",
    "how do I fix a flat bicycle tyre",
    "which planet is closest to the sun",
    "book a table for two at an Italian restaurant",
    "how do you say thank you in Japanese",
    "what movies are playing tonight",
    "how long should I boil an egg",
    "who won the world cup in 2010",
    "what is the square root of 144",
    "remind me to water the plants",
]


def test_oos_rows_in_training_become_abstentions(banking_slice):
    train, _ = banking_slice
    train = [r for r in train if r["label"] in ("card_arrival", "pin_blocked", "terminate_account")]
    assert len(OFF_TOPIC) >= classifier.Params().min_oos_rows
    model = training.train(
        [r["text"] for r in train] + OFF_TOPIC, [r["label"] for r in train] + ["oos"] * len(OFF_TOPIC)
    )
    assert model.classes == ["card_arrival", "pin_blocked", "terminate_account"]
    assert classifier.OOS in model.svm.classes_ and model.info["calibration"] == "oos rows"
    song, card = classifier.classify(model, ["sing me a song please", "when will my new card get here?"])
    assert song.label is None
    assert card.label == "card_arrival"
    assert all(a.reference is None for a in model.abstentions)  # real oos rows: the confidence alone


def test_a_text_the_out_of_scope_class_fits_best_is_turned_away_even_with_nothing_calibrated():
    """Support history repeats itself: two wordings per category, too few to hold any out."""
    history = {
        "billing": ["I was charged twice", "Please refund my last invoice"],
        "access": ["I cannot log in", "My password reset email never arrives"],
        "shipping": ["Where is my parcel?", "My order has not been delivered"],
    }
    texts = [text for rows in history.values() for text in rows * 4] + OFF_TOPIC
    labels = [label for label, rows in history.items() for _ in rows * 4] + ["oos"] * len(OFF_TOPIC)
    model = training.train(texts, labels)
    assert classifier.OOS in model.svm.classes_ and [a.threshold for a in model.abstentions] == [0.0]
    joke, refund = classifier.classify(
        model, ["tell me a funny joke", "I want a refund for the double charge"]
    )
    assert joke.label is None and joke.best in history
    assert refund.label == "billing"


def test_a_few_oos_rows_or_more_than_the_categories_examples_are_left_out(banking_slice):
    """Beside categories known by a description only, a class of a few off-topic rows took in-scope
    tickets, and a class larger than the categories' own history turned every ticket away."""
    train, _ = banking_slice
    texts, labels = [r["text"] for r in train], [r["label"] for r in train]
    model = training.train(texts + OFF_TOPIC[:5], labels + ["oos"] * 5)
    assert classifier.OOS not in model.svm.classes_ and model.info["n_train"] == len(texts)
    assert model.info["calibration"] == "pseudo-oos classes"
    names = ["Billing. Invoices and refunds", "Account access. Passwords", "Shipping. Parcels"]
    model = training.train(
        names + OFF_TOPIC,
        ["billing", "access", "shipping"] + ["oos"] * len(OFF_TOPIC),
        examples=[False] * 3 + [True] * len(OFF_TOPIC),
    )
    assert classifier.OOS not in model.svm.classes_


def test_an_organization_with_few_categories_turns_away_what_none_of_them_is_about():
    """Three categories are too few to hold one out in calibration: the novelty floor alone turns away
    a text unlike every training row."""
    texts = {
        "account": ["Account & Security: passwords, sign-in, two-factor authentication", "cant log in"],
        "billing": ["Billing & Refunds: invoices, charges and refunds", "I was charged twice"],
        "shipping": ["Shipping: delivery times and tracking", "where is my parcel"],
    }
    model = training.train(
        [t for rows in texts.values() for t in rows], [label for label, rows in texts.items() for _ in rows]
    )
    off_topic, refund = classifier.classify(
        model, ["Can you recommend a good pizza place in Rome?", "How do I get my money back for an order?"]
    )
    assert off_topic.label is None and off_topic.best in texts  # the closest category all the same
    assert refund.label == "billing"


# Support history repeats itself: an organization's past tickets are a few wordings, each many times.
REPEATED = {
    "login": [
        "I can't sign in to my account",
        "Password reset email never arrives",
        "Locked out of my account",
    ],
    "billing": [
        "I was charged twice this month",
        "I need a copy of my invoice",
        "Payment failed but card is valid",
    ],
    "outages": [
        "The site is not loading for anyone",
        "The dashboard returns 502 errors",
        "Everything is very slow",
    ],
    "api": [
        "API key suddenly unauthorized",
        "Rate limit too low for our import",
        "Webhooks are not delivered",
    ],
    "data": [
        "How do I export all our tickets?",
        "How long do you keep our data?",
        "Please restore deleted records",
    ],
    "ideas": [
        "Please add a dark mode",
        "Feature idea: Slack notifications",
        "We would love keyboard shortcuts",
    ],
}


def test_repeated_tickets_do_not_make_every_new_wording_look_out_of_scope():
    texts = [text for rows in REPEATED.values() for text in rows for _ in range(15)]
    labels = [label for label, rows in REPEATED.items() for _ in rows for _ in range(15)]
    model = training.train(texts, labels)

    new_wordings = {
        "My password reset link does not work": "login",
        "You billed my credit card two times": "billing",
        "Our API token is rejected since this morning": "api",
        "Can I download a CSV of all tickets?": "data",
    }
    predictions = classifier.classify(model, [*new_wordings, "Can you recommend a good pizza place in Rome?"])

    assert [p.label for p in predictions[:-1]] == list(new_wordings.values())
    assert predictions[-1].label is None


def test_a_calibration_text_is_new_to_the_calibration_model():
    texts = [text.casefold() for rows in REPEATED.values() for text in rows for _ in range(15)]
    labels = [label for label, rows in REPEATED.items() for _ in rows for _ in range(15)]

    fit, held_in, held_oos, _ = training._calibration_split(
        texts, labels, [True] * len(texts), classifier.Params(), seed=0
    )

    held = [texts[i] for i in held_in + held_oos]
    assert held and len(set(held)) == len(held)  # each text held out once
    assert not set(held) & {texts[i] for i in fit}  # and none of its copies fitted


def test_calibration_holds_out_past_tickets_rather_than_what_describes_a_category():
    # each category's name, then its past tickets
    texts = [text for label, rows in REPEATED.items() for text in [label, *rows]]
    labels = [label for label, rows in REPEATED.items() for _ in range(1 + len(rows))]
    examples = [text not in REPEATED for text in texts]

    for seed in range(5):
        _, held_in, held_oos, _ = training._calibration_split(
            texts, labels, examples, classifier.Params(), seed
        )
        assert held_in and all(examples[i] for i in held_in + held_oos)


def test_a_small_organizations_model_abstains_by_the_majority_of_its_calibration_draws(
    banking_slice, banking_model
):
    _, test = banking_slice
    texts = [classifier.normalize_text(r["text"]) for r in test] + ["What is the capital of Australia?"]
    assert len(banking_model.abstentions) == banking_model.params.calibration_draws == 5
    _, scores, votes, nearest = classifier.evidence(
        banking_model.core, banking_model.params, texts, embeddings.embed(texts)
    )
    kept = np.array([a.keeps(scores, votes, nearest, banking_model) for a in banking_model.abstentions])
    predictions = classifier.classify(banking_model, texts)

    assert (kept.any(axis=0) & ~kept.all(axis=0)).any()  # the draws disagree on some texts
    expected = (kept.sum(axis=0) >= 3) & (nearest >= classifier.NOVELTY_FLOOR)
    assert [p.label is not None for p in predictions] == expected.tolist()


def test_the_same_history_gives_the_same_model_whatever_the_categories_ids(banking_slice, banking_model):
    """Category ids are random per installation: the calibration draws follow the texts, not the ids."""
    train, test = banking_slice
    renamed = {label: str(uuid.uuid4()) for label in banking_model.classes}
    model = training.train([r["text"] for r in train], [renamed[r["label"]] for r in train])
    texts = [r["text"] for r in test]

    again = classifier.classify(model, texts)
    assert [p.label and renamed[p.label] for p in classifier.classify(banking_model, texts)] == [
        p.label for p in again
    ]


def test_a_confusion_pair_specialist_decides_between_a_close_top_two():
    pairs = np.array([[0, 1]], dtype=np.int32)
    prefers_second = (
        pairs,
        sp.csr_matrix(np.array([[1.0, 0.0]], dtype=np.float32)),
        np.array([0.0], dtype=np.float32),
    )
    x = sp.csr_matrix(np.array([[2.0, 0.0], [2.0, 0.0]]))
    probs = np.array([[0.5, 0.4, 0.1], [0.8, 0.15, 0.05]])

    refined = specialists.refine(
        probs, x, prefers_second, ["a", "b", "c"], out_of_scope=classifier.OOS, gate=0.3
    )

    assert refined[0].tolist() == [0.4, 0.5, 0.1]  # the runner-up came close: the pair decided
    assert refined[1].tolist() == probs[1].tolist()  # 0.15 < 0.3 × 0.8: left alone
    assert refined.max(axis=1).tolist() == probs.max(axis=1).tolist()  # the confidence stays


def test_single_category_and_bad_input():
    model = training.train(["reset my password", "forgot password", "password reset link"], ["auth"] * 3)
    assert classifier.classify(model, ["I forgot my password"])[0].label in ("auth", None)
    assert classifier.classify(model, []) == []
    with pytest.raises(ValueError):
        training.train(["a", "b"], ["x"])
    with pytest.raises(ValueError):
        training.train(["a"], ["oos"])


def test_normalize_text():
    assert classifier.normalize_text("  I\u2019m   here\n") == "I'm here"


def test_out_of_scope_is_read_however_a_dataset_spells_it():
    assert all(
        classifier.is_oos(label) for label in (None, "", "oos", "OOS", " out_of_scope", "Out-Of-Scope")
    )
    assert not any(classifier.is_oos(label) for label in ("none", "card_arrival", 0))
