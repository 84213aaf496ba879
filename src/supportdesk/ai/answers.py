"""Auto-answers: which public document answers a ticket, and how sure we are.

Each organization has an answer model (`answer_models`): the embeddings of its **public** documents'
sentences, and only those: a private document is never in it, so no ticket text can make the
auto-responder cite or quote one. A document's sentences are its title and those of its text (lines, for
FAQ-style documents listing the questions they answer). A ticket's text is scored against every document
by its closest sentence there (cosine similarity, `similarity`); a softmax of those over the documents
(`probability`, temperature TEMPERATURE) says how much the best stands out, and

    score = (probability + similarity) / 2

ranks the documents; documents linked to the ticket's category rank first (`CATEGORY_BOOST`, ranking
only). One sentence really close to the ticket is what tells a question the knowledge base answers from
one it merely resembles. A second, independent reading checks the first: the character n-grams of the
ticket (TF-IDF fitted on the organization's own sentences, so typos and transliterated words still
match) point to a document by its closest sentence too, and the two `agree` when that document is
this one. Short tickets ("weight gain", "No cancellation") are the ambiguous ones. A document's
confidence is calibrated:

    confidence = sigmoid(W_PROBABILITY * probability + W_SIMILARITY * similarity
                         + W_MARGIN * (its score - the best other document's score)
                         + W_AGREEMENT * agree + W_LENGTH * log(1 + min(words, MAX_WORDS)) + BIAS)

a logistic regression (L2, C=1) fitted on the development sets (hint3_faq's three bots and stackfaq,
each weighted the same), so that a confidence reads as the chance the answer is right. With the
threshold chosen on half of a bot's questions for 95 % precision and applied to the other half (2-fold,
averaged over 50 splits), accuracy went from 0.60/0.77/0.59 to 0.70/0.75/0.63 on hint3 curekart /
powerplay11 / sofmattress, stackfaq 0.75 to 0.76; fitted with each knowledge base left out, the
agreement and length features still gained (0.58/0.75/0.58/0.64 to 0.70/0.75/0.62/0.68). The organization's
`auto_response_threshold` is compared with it; `supportdesk eval answer --calibrate` chooses a threshold
for a target precision on an organization's own questions.

Measured against a classifier over the documents (the triage classifier, SVM + TF-IDF + neighbours): its
top document was right more often (hint3 curekart 0.87 against 0.80), but at 95 % precision the nearest
sentence answered as many questions or more (accuracy 0.59/0.76/0.62/0.76 against 0.61/0.78/0.65/0.76 on
the three bots and stackfaq), and with 623 documents it took 167 s to train into a 138 MB model, where
the sentences' embeddings take 2 MB.

The same functions serve the answer job (`supportdesk.ai.jobs`) and `supportdesk eval answer`.
"""

from __future__ import annotations

import asyncio
import io
import math
import pickle
import re
import uuid
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db
from supportdesk.ai import classifier, embeddings
from supportdesk.ai.stored_models import ModelStore, training_lock

FORMAT_VERSION = 3
MAGIC = b"SDANSWER"

TEMPERATURE = 10.0
# Calibration (see the module docstring): fitted on the development sets.
W_PROBABILITY = 1.377
W_SIMILARITY = 6.164
W_MARGIN = 1.861
W_AGREEMENT = 1.407
W_LENGTH = 1.22
BIAS = -7.75
MAX_WORDS = 20
CHAR_NGRAMS = (2, 4)
# Below this confidence a ticket is out of the knowledge base's scope: no suggestion either.
SUGGEST_MIN = 0.2
# Ranking only: a document linked to the ticket's category has its score multiplied by this.
CATEGORY_BOOST = 1.25
# Examples per document: its title and this many sentences at most, each cut to EXAMPLE_CHARS.
MAX_SENTENCES = 40
EXAMPLE_CHARS = 300
MIN_EXAMPLE_CHARS = 3

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def document_examples(title: str, content: str) -> list[str]:
    """What a document is learned from: its title, then its sentences (or lines)."""
    sentences = [s.strip()[:EXAMPLE_CHARS] for s in _SENTENCE.split(content or "")]
    return [title.strip()] + [s for s in sentences if len(s) >= MIN_EXAMPLE_CHARS][:MAX_SENTENCES]


@dataclass
class AnswerModel:
    documents: list[str]  # document ids
    vectors: np.ndarray  # float16 unit embeddings of the documents' sentences
    owners: np.ndarray  # each sentence's document, an index into `documents`
    sentences: list[str]  # the sentences, normalized
    # their character n-grams (TF-IDF over these sentences only), refitted on load: the stored model
    # is plain data
    characters: TfidfVectorizer = field(init=False, repr=False)
    character_vectors: sparse.csr_matrix = field(init=False, repr=False)  # n-grams x sentences

    def __post_init__(self) -> None:
        self.characters = TfidfVectorizer(
            analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, dtype=np.float32
        )
        self.character_vectors = self.characters.fit_transform(self.sentences).T.tocsr()


@dataclass(frozen=True)
class Candidate:
    document_id: str
    score: float
    confidence: float
    in_category: bool


def train(documents: list[tuple[str, str, str]]) -> AnswerModel:
    """A model over `documents` (id, title, content), at least one (CPU: embedding their sentences)."""
    ids = sorted({document_id for document_id, _, _ in documents})
    index = {document_id: i for i, document_id in enumerate(ids)}
    texts: list[str] = []
    owners: list[int] = []
    for document_id, title, content in documents:
        for example in document_examples(title, content):
            texts.append(classifier.normalize_text(example))
            owners.append(index[document_id])
    vectors = embeddings.embed(texts)
    return AnswerModel(ids, vectors.astype(np.float16), np.array(owners, dtype=np.int32), texts)


def confidence(
    probability: np.ndarray, similarity: np.ndarray, margin: np.ndarray, agree: np.ndarray, words: int
) -> np.ndarray:
    """The calibrated chance that a document answers the ticket (of each document, element-wise)."""
    z = (
        W_PROBABILITY * probability
        + W_SIMILARITY * similarity
        + W_MARGIN * margin
        + W_AGREEMENT * agree
        + W_LENGTH * math.log1p(min(words, MAX_WORDS))
        + BIAS
    )
    return 1.0 / (1.0 + np.exp(-z))


def rank(model: AnswerModel, vector: np.ndarray, linked: set[str], query: str) -> list[Candidate]:
    """Every document for a ticket text `query` and its embedding `vector`, best first; `linked` are
    the documents linked to the ticket's category."""
    query = classifier.normalize_text(query)
    closest = np.full(len(model.documents), -1.0, dtype=np.float64)
    np.maximum.at(closest, model.owners, model.vectors.astype(np.float32) @ vector.astype(np.float32))
    z = TEMPERATURE * closest
    probability = np.exp(z - z.max())
    probability /= probability.sum()
    scores = (probability + closest) / 2
    # each document's lead over the best of the others (negative for all but the best)
    first, second = np.sort(scores)[::-1][:2] if len(scores) > 1 else (scores[0], 0.0)
    margin = scores - np.where(scores == first, second, first)
    # the character n-grams' reading: each document's closest sentence; it agrees on the closest
    by_characters = np.zeros(len(model.documents), dtype=np.float64)
    sentences = (model.characters.transform([query]) @ model.character_vectors).toarray()[0]
    np.maximum.at(by_characters, model.owners, sentences)
    agree = (by_characters > 0) & (by_characters == by_characters.max())
    confidences = confidence(probability, closest, margin, agree, len(query.split()))
    candidates = [
        Candidate(document_id, float(scores[i]), float(confidences[i]), document_id in linked)
        for i, document_id in enumerate(model.documents)
    ]
    return sorted(
        candidates,
        key=lambda c: (-c.score * (CATEGORY_BOOST if c.in_category else 1.0), c.document_id),
    )


def dumps(model: AnswerModel) -> bytes:
    buf = io.BytesIO()
    buf.write(MAGIC)
    buf.write(FORMAT_VERSION.to_bytes(2, "big"))
    fields = (model.documents, model.vectors, model.owners, model.sentences)
    pickle.dump(fields, buf, protocol=pickle.HIGHEST_PROTOCOL)
    return buf.getvalue()


def loads(data: bytes) -> AnswerModel:
    """Load bytes written by `dumps` (only from our own storage: this unpickles)."""
    header = len(MAGIC) + 2
    if not data.startswith(MAGIC) or int.from_bytes(data[len(MAGIC) : header], "big") != FORMAT_VERSION:
        raise classifier.IncompatibleModel("answer model of another format: retrain")
    return AnswerModel(*pickle.loads(data[header:]))


STORE = ModelStore("answer_models", loads)

_PUBLIC_DOCUMENTS = text(
    "SELECT id::text AS id, title, content FROM documents"
    " WHERE organization_id = :org AND is_public IS TRUE ORDER BY id"
)
# What the model learns from, summarized: when it differs from the stored model's, retrain.
_FINGERPRINT = text(
    "SELECT md5(coalesce(string_agg(id::text || ':' || updated_at::text, ',' ORDER BY id), ''))"
    " FROM documents WHERE organization_id = :org AND is_public IS TRUE"
)


async def fingerprint(session: AsyncSession, organization_id: uuid.UUID) -> str:
    return str(await session.scalar(_FINGERPRINT, {"org": organization_id}))


async def train_organization(organization_id: uuid.UUID, *, force: bool = False) -> int | None:
    """Train and store the organization's answer model when its public documents changed (or
    `force`); returns the new version, or None (up to date, or no public document: model dropped)."""
    if not force and await _up_to_date(organization_id):
        return None  # without waiting for the training lock (another organization may hold it)
    async with training_lock():
        async with db.tenant_session(organization_id) as session:
            current = await fingerprint(session, organization_id)
            if not force and await STORE.is_current(session, organization_id, current):
                return None
            rows = (await session.execute(_PUBLIC_DOCUMENTS, {"org": organization_id})).all()
            if not rows:
                await STORE.delete(session, organization_id)
                return None
        documents = [(row.id, row.title, row.content) for row in rows]
        model = await asyncio.to_thread(train, documents)
        async with db.tenant_session(organization_id) as session:
            return await STORE.save(
                session,
                organization_id,
                model,
                dumps(model),
                current,
                documents={row.id: row.title for row in rows},
            )


async def _up_to_date(organization_id: uuid.UUID) -> bool:
    async with db.tenant_session(organization_id) as session:
        return await STORE.is_current(session, organization_id, await fingerprint(session, organization_id))


async def current_model(organization_id: uuid.UUID) -> AnswerModel | None:
    """The answer model of the organization's public documents as they are now (retrained first when
    they changed since); None when it has none. A document made private since is never in it."""
    return await STORE.trained(organization_id, train_organization)
