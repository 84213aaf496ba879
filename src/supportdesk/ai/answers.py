"""Auto-answers: which public document answers a ticket, and how sure we are.

Each organization has an answer model (`answer_models`) learned from its **public** documents only: a
private document is never in it, so no ticket text can make the auto-responder cite or quote one. A
document's sentences are its title and those of its text (lines, for FAQ-style documents listing the
questions they answer). Past tickets teach it how customers ask: a ticket a person marked with the
public document that answers it (`answer_document_id`) is one more sentence of that document, and the
tickets they said no document answers (`no_document_answers`) are the sentences of a class of their own,
`NO_DOCUMENT`, which is never an answer. The model holds the sentences' embeddings and a logistic
regression over them (the documents as classes, L2, C=LR_C), fitted on those sentences and nothing
else; its probability of each document for a ticket's embedding (`probability`) ranks the documents,
those linked to the ticket's category first (of those in scope; see `rank`). Three other readings check
its choice:

- `similarity`: the document's sentence closest to the ticket (cosine of the embeddings), and `margin`,
  its lead over the closest sentence of any other document (negative when another is closer). One
  sentence really close to the ticket is what tells a question the knowledge base answers from one it
  merely resembles;
- the character n-grams of the ticket (TF-IDF fitted on the organization's own sentences, so typos and
  transliterated words still match) and its words (TF-IDF too) each point to a document by its closest
  sentence, and `agree` (`agree_words`) when that document is this one;
- short tickets ("weight gain", "No cancellation") are the ambiguous ones.

A document's confidence is calibrated in two steps, each a logistic regression (L2, C=1) of whether the
first document is right, fitted on the development sets by `bench/answer_calibration.py`:

    score = WEIGHTS["similarity"] * similarity + WEIGHTS["margin"] * margin
            + WEIGHTS["probability"] * probability + WEIGHTS["agree"] * agree
            + WEIGHTS["agree_words"] * agree_words + WEIGHTS["length"] * log(1 + min(words, MAX_WORDS))
    confidence = sigmoid(SCORE_WEIGHT * score + DOCUMENTS_WEIGHT * log(documents) + BIAS)

The score's weights are fitted on hint3_faq's three bots and stackfaq (each weighted the same). The
second step is fitted on the same knowledge bases whole and drawn small (3, 6, 10 and 20 of their
documents at random, six draws of each size, stackfaq three; a question whose document was not drawn is
one the small knowledge base cannot answer), each knowledge base at each size weighted the same: among a
few documents, the probability, the margin and the agreements favour the one document a question is near,
whether it answers it or not. So a confidence reads as the chance the answer is right, whatever the size
of the knowledge base. The organization's `auto_response_threshold` is compared with it; `supportdesk eval
answer --calibrate` chooses a threshold for a target precision on an organization's own questions.

Before the second step (the score's own sigmoid), the confidence was right at the default threshold (0.8)
only 40 / 52 / 63 / 73 % of the time in the knowledge bases of 3 / 6 / 10 / 20 documents: a new
organization's six documents answered "How do I change the email address on my account?" with the
password reset at 0.84. Now 100 / 94 / 91 / 87 %, answering 13 / 30 / 33 / 40 % of the questions they can
answer (before: 71 / 73 / 66 / 63); fitted with each knowledge base left out, 96 / 91 / 90 / 83 %. The
whole knowledge bases at 0.8: 94 % right both, 60 % of the answerable questions answered (before: 53).
Within one knowledge base the second step keeps the score's order, so a threshold chosen on its own
questions answers the same ones as before: with the threshold chosen on half of a bot's questions for
95 % precision and applied to the other half (2-fold, averaged over 50 splits), accuracy (right answers
and rightful hand-offs) is 0.72 / 0.74 / 0.62 on hint3 curekart / powerplay11 / sofmattress and 0.83 on
stackfaq, realized precision 0.94 / 0.93 / 0.93 / 0.95 (each knowledge base left out of the fit:
0.72 / 0.74 / 0.61 / 0.78). Ranking by the closest sentence (its score mixing similarity and a softmax of
it), with the character agreement and length, had 0.70 / 0.75 / 0.63 and 0.76: the regression's first
document is right more often (curekart 0.88 against 0.80). Measured and not taken: one regression over
the readings and the number of documents on the whole and small knowledge bases together, without the
margin (97 / 92 / 91 / 85 % right at 0.8 in the small ones), which cost the organizations that choose
their threshold on marked tickets (`--calibrate`, odd and even questions): curekart 0.839 / 0.729 ->
0.781 / 0.716, sofmattress 0.712 / 0.610 -> 0.695 / 0.458.

A limit: the number counts every public document, so unrelated ones (legal pages, a press kit) make a
knowledge base read as larger and surer than it is. Six documents drawn from a knowledge base plus 25 from
another answered rightly 62 % of the time at 0.8 (88 % without them), ten plus 25 72 % (90 %). Counting
only the documents near the question instead (closest sentence within 0.1 of the best one's, or above 0.3
/ 0.4 / 0.5) resists the padding (73–89 %) but reorders the questions within a knowledge base: the
thresholds chosen on its own questions lose 0.4–12 points of accuracy (sofmattress 0.623 -> 0.505–0.598).
Not taken; `--calibrate` on an organization's own questions is the remedy.

Measured against the triage classifier over the documents (SVM + TF-IDF + neighbours): with 623
documents it took 167 s to train into a 138 MB model, and its SVM alone (embeddings, word and character
TF-IDF of the sentences) ranks no better: first document right 0.868 / 0.777 / 0.840 / 0.872 on curekart /
powerplay11 / sofmattress / stackfaq against the regression's 0.881 / 0.755 / 0.827 / 0.930. The
regression over the embeddings trains in about 4 s and adds a float per document and embedding dimension
(stackfaq: 2.5 to 3.5 MB). A retraining embeds only the sentences the previous model did not have:
stackfaq's first model takes 45 s (embedding its sentences), a retraining after one document changed 3 s.
The regression's cost grows with documents times sentences: 1,200 documents of 8 sentences take 51 s of
CPU, 2,400 take 156 s (its stopping rule, `_tolerance`, keeps it from stopping early as they grow); a
retraining starts from the previous model's weights (`_start`): 1,200 documents, one added, 14 s.

Marked tickets, measured through `supportdesk eval answer --calibrate` (which marks its calibration
tickets; the queries' odd and even lines, each half calibrating the other): accuracy 0.807 / 0.712 /
0.678 → 0.839 / 0.712 / 0.712 on half B of curekart / powerplay11 / sofmattress, 0.703 / 0.773 / 0.542 →
0.736 / 0.786 / 0.610 on half A, and stackfaq (questions that paraphrase one another) 0.795 / 0.826 →
0.966 / 0.975. Over five random halvings: sofmattress 0.614 → 0.651, powerplay11 0.739 → 0.755,
curekart 0.719 → 0.707 (precision 0.934 → 0.944: the class of unanswered tickets turns more away),
stackfaq 0.824 → 0.972. The class takes a share of the probability and is often the closest sentence;
whether a ticket it wins is turned away outright or left to the threshold (the documents' confidences
fall) measured the same (within 0.4 points): it is left to the threshold, the simpler.

The same functions serve the answer job (`supportdesk.ai.jobs`) and `supportdesk eval answer`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from supportdesk.ai import classifier, embeddings

LR_C = 100.0
LR_TOLERANCE = 0.1
# The calibration (see the module docstring), fitted on the development sets by bench/answer_calibration.py:
# how the readings weigh against each other (on whole knowledge bases), and how sure their score makes us
# in a knowledge base of so many documents (on whole and small ones).
WEIGHTS = {
    "similarity": 5.834,
    "margin": 0.878,
    "probability": 2.29,
    "agree": 0.943,
    "agree_words": 0.511,
    "length": 1.246,
}
SCORE_WEIGHT = 1.174
DOCUMENTS_WEIGHT = 0.822
BIAS = -13.251
MAX_WORDS = 20
CHAR_NGRAMS = (2, 4)
# Below this confidence a ticket is out of the knowledge base's scope: no suggestion either.
SUGGEST_MIN = 0.2
# A document linked to the ticket's category with this much of the probability is one the text could mean
# ("a refund for my purchase", in the category of marketplace purchases): see `category_disagrees`.
LINKED_PLAUSIBLE = 0.1
# The class of the past tickets people said no document answers: it takes a share of the probability
# and is the closest sentence of some tickets (lowering each document's confidence), but never answers.
NO_DOCUMENT = ""
# Examples per document: its title and this many sentences at most, each cut to EXAMPLE_CHARS.
MAX_SENTENCES = 40
EXAMPLE_CHARS = 300
MIN_EXAMPLE_CHARS = 3

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def document_examples(title: str, content: str) -> list[str]:
    """What a document is learned from: its title, then its sentences (or lines)."""
    sentences = [s.strip()[:EXAMPLE_CHARS] for s in _SENTENCE.split(content or "")]
    return [title.strip()] + [s for s in sentences if len(s) >= MIN_EXAMPLE_CHARS][:MAX_SENTENCES]


class _Reading:
    """A TF-IDF over the organization's sentences: which document's sentence is closest to a text."""

    def __init__(self, vectorizer: TfidfVectorizer, sentences: list[str], owners: np.ndarray, documents: int):
        self.vectorizer = vectorizer
        self.sentences = vectorizer.fit_transform(sentences).T.tocsr()  # terms x sentences
        self.owners = owners
        self.documents = documents

    def agree(self, query: str) -> np.ndarray:
        """Of each document: whether its closest sentence is the closest of all (and shares a term)."""
        closest = np.zeros(self.documents, dtype=np.float64)
        np.maximum.at(
            closest, self.owners, (self.vectorizer.transform([query]) @ self.sentences).toarray()[0]
        )
        return (closest > 0) & (closest == closest.max())


@dataclass
class AnswerModel:
    documents: list[str]  # document ids
    vectors: np.ndarray  # unit embeddings of the documents' sentences (stored as float16)
    owners: np.ndarray  # each sentence's document, an index into `documents`
    sentences: list[str]  # the sentences, normalized
    weights: np.ndarray  # the regression: documents x embedding dimensions
    biases: np.ndarray  # and one per document
    # the characters' and words' readings, refitted on load: the stored model is plain data
    characters: _Reading = field(init=False, repr=False)
    words: _Reading = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.vectors = self.vectors.astype(np.float32)  # once, not per ticket
        n = len(self.documents)
        characters = TfidfVectorizer(
            analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, dtype=np.float32
        )
        self.characters = _Reading(characters, self.sentences, self.owners, n)
        words = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, dtype=np.float32)
        self.words = _Reading(words, self.sentences, self.owners, n)


@dataclass(frozen=True)
class Candidate:
    document_id: str
    score: float
    confidence: float
    in_category: bool


def train(
    documents: list[tuple[str, str, str]],
    previous: AnswerModel | None = None,
    marks: Sequence[tuple[str | None, str]] = (),
) -> AnswerModel:
    """A model over `documents` (id, title, content), at least one (CPU: embedding their sentences, but
    those the `previous` model already had). `marks` are past tickets' texts with the document a person
    said answers each, or None (no document does): examples of the one, or of `NO_DOCUMENT`."""
    ids = sorted({document_id for document_id, _, _ in documents})
    examples = [
        (document_id, example)
        for document_id, title, content in documents
        for example in document_examples(title, content)
    ]
    known = set(ids)
    examples += [
        (document_id, wording[:EXAMPLE_CHARS]) for document_id, wording in marks if document_id in known
    ]
    unanswered = [
        (NO_DOCUMENT, wording[:EXAMPLE_CHARS]) for document_id, wording in marks if document_id is None
    ]
    if unanswered:
        ids.insert(0, NO_DOCUMENT)
        examples += unanswered
    index = {document_id: i for i, document_id in enumerate(ids)}
    texts = [classifier.normalize_text(example) for _, example in examples]
    owners = [index[document_id] for document_id, _ in examples]
    vectors = _embed(texts, previous)
    start = None if previous is None else _start(previous, ids)
    weights, biases = _regression(vectors.astype(np.float32), np.array(owners), len(ids), start)
    return AnswerModel(ids, vectors, np.array(owners, dtype=np.int32), texts, weights, biases)


def _embed(sentences: list[str], previous: AnswerModel | None) -> np.ndarray:
    """The sentences' embeddings (float16), but those the previous model has, not embedded again."""
    known = {} if previous is None else dict(zip(previous.sentences, previous.vectors, strict=True))
    return embeddings.embed_new(sentences, known).astype(np.float16)


def _start(previous: AnswerModel, ids: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Where a retraining's fit starts: the previous model's weights and bias of each document it had
    (zeros for a new one), so that after a few documents changed it starts near its answer: with 1,200
    documents, one added, 48 s of CPU from zero and 14 s from there. None when the previous model had no
    softmax (two documents or fewer) or none of these documents."""
    known = {document_id: i for i, document_id in enumerate(previous.documents)}
    if len(previous.documents) <= 2 or len(ids) <= 2 or not known.keys() & set(ids):
        return None
    weights = np.zeros((len(ids), previous.weights.shape[1]), dtype=np.float64)
    biases = np.zeros(len(ids), dtype=np.float64)
    for i, document_id in enumerate(ids):
        if document_id in known:
            weights[i], biases[i] = previous.weights[known[document_id]], previous.biases[known[document_id]]
    return weights, biases


def _regression(
    vectors: np.ndarray,
    owners: np.ndarray,
    documents: int,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases of a softmax over the documents, learned from their sentences' embeddings
    (from `start`, a guess of them, when given; it converges to the same)."""
    weights = np.zeros((documents, vectors.shape[1]), dtype=np.float32)
    biases = np.zeros(documents, dtype=np.float32)
    if documents == 1:
        return weights, biases
    fitted = LogisticRegression(
        C=LR_C, max_iter=1000, tol=_tolerance(vectors, owners, documents), warm_start=start is not None
    )
    if start is not None:
        fitted.coef_, fitted.intercept_ = start
    fitted.fit(vectors, owners)
    if documents == 2:  # one row: the second document's log-odds against the first
        weights[1], biases[1] = fitted.coef_[0], fitted.intercept_[0]
    else:
        weights[:], biases[:] = fitted.coef_, fitted.intercept_
    return weights, biases


def _tolerance(vectors: np.ndarray, owners: np.ndarray, documents: int) -> float:
    """When the fit may stop: once its largest gradient is below LR_TOLERANCE of the first one (and
    1e-4, lbfgs' default). Each document is 1/n of the loss, so the first gradient shrinks as documents
    are added: with 1e-4 alone, 1,200 documents stopped at two thirds of it and 2,400 before their
    first step, every document then as likely as any other."""
    sums = np.zeros((documents, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, vectors)
    counts = np.bincount(owners, minlength=documents)[:, None]
    first = np.abs(counts * vectors.mean(axis=0) - sums).max() / len(vectors)  # at zero weights
    return min(1e-4, LR_TOLERANCE * first)


def readings(model: AnswerModel, vector: np.ndarray, query: str) -> dict[str, np.ndarray]:
    """What the confidence of each document reads, for a ticket text `query` and its embedding `vector`:
    an array of a value per document for each of WEIGHTS, and the log of the number of documents
    (`documents`). See the module docstring."""
    query = classifier.normalize_text(query)
    vector = vector.astype(np.float32)
    logits = model.weights @ vector + model.biases
    probability = np.exp(logits - logits.max())
    probability /= probability.sum()
    similarity = np.full(len(model.documents), -1.0, dtype=np.float64)
    np.maximum.at(similarity, model.owners, model.vectors @ vector)
    # each document's lead over the closest of the others (negative for all but the closest)
    first, second = np.sort(similarity)[::-1][:2] if len(similarity) > 1 else (similarity[0], 0.0)
    same = np.ones(len(model.documents))
    return {
        "similarity": similarity,
        "margin": similarity - np.where(similarity == first, second, first),
        "probability": probability,
        "agree": model.characters.agree(query).astype(np.float64),
        "agree_words": model.words.agree(query).astype(np.float64),
        "length": same * math.log1p(min(len(query.split()), MAX_WORDS)),
        "documents": same * math.log(len(model.documents) - (NO_DOCUMENT in model.documents)),
    }


def confidence(read: dict[str, np.ndarray]) -> np.ndarray:
    """The calibrated chance that each document answers the ticket, from its `readings`."""
    score = sum(weight * read[name] for name, weight in WEIGHTS.items())
    z = SCORE_WEIGHT * score + DOCUMENTS_WEIGHT * read["documents"] + BIAS
    return 1.0 / (1.0 + np.exp(-z))


def rank(model: AnswerModel, vector: np.ndarray, linked: set[str], query: str) -> list[Candidate]:
    """Every document for a ticket text `query` and its embedding `vector`, best first; `linked` are
    the documents linked to the ticket's category, first when in scope (SUGGEST_MIN): a document the ticket
    is nowhere near does not answer it because of its category (which triage may have chosen wrongly)."""
    read = readings(model, vector, query)
    confidences = confidence(read)
    candidates = [
        Candidate(document_id, float(read["probability"][i]), float(confidences[i]), document_id in linked)
        for i, document_id in enumerate(model.documents)
        if document_id != NO_DOCUMENT
    ]
    return sorted(
        candidates,
        key=lambda c: (not (c.in_category and c.confidence >= SUGGEST_MIN), -c.score, c.document_id),
    )


def category_disagrees(candidates: list[Candidate]) -> bool:
    """Whether the ticket's category points elsewhere than its text: the best document is not linked to the
    category, and one that is could be meant (LINKED_PLAUSIBLE). Then a person decides, not the model."""
    best, *others = candidates
    return not best.in_category and any(c.in_category and c.score >= LINKED_PLAUSIBLE for c in others)
