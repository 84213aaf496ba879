"""The auto-answer confidence's calibration: fits `answers.WEIGHTS` and `BIAS` on the development sets.

    .venv/bin/python bench/answer_calibration.py [--datasets ../shared/datasets]

Each knowledge base (hint3_faq's three bots, stackfaq) is read whole and as small knowledge bases drawn
from it: SIZES documents at random, DRAWS times (stackfaq: fewer, it is slow). For each, an answer model
is trained on the documents alone (`answers.train`, no database) and each question's first document
(the most probable) is read (`answers.readings`). It is right when it is one of the question's gold
documents that were drawn; a question whose gold documents were not drawn is one that knowledge base
cannot answer. Two logistic regressions of "right" give the calibration: one over the readings of the
whole knowledge bases (each weighted the same) gives how they weigh against each other (`WEIGHTS`: their
score), the other over that score and the log of the number of documents, on the whole and the small
knowledge bases (each knowledge base at each size weighted the same), how sure the score makes us
(`SCORE_WEIGHT`, `DOCUMENTS_WEIGHT`, `BIAS`). Within a knowledge base the second keeps the first's order.
Prints the fitted calibration, then for the one in the code, the fitted one and the one fitted with each
knowledge base left out:

- per whole knowledge base: accuracy (right answers and rightful hand-offs) and realized precision with
  the threshold chosen on half of the questions for 95 % precision and applied to the other half
  (2-fold, 50 random halvings);
- per size, at the default threshold 0.8: the share of answers that are right, and the share of the
  questions the knowledge base can answer that it answered.

Two to five minutes on 2 cores (most of it embedding stackfaq). Asserts nothing.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from supportdesk import datasets
from supportdesk.ai import answer_eval, answers, classifier, embeddings

SIZES = (3, 6, 10, 20)
DRAWS = {"stackfaq": 3}  # others: 6
THRESHOLD = 0.8
TARGET_PRECISION = 0.95
HALVINGS = 50


def knowledge_bases(folder: Path) -> dict[str, tuple[list[dict], list[dict]]]:
    """Each knowledge base's documents and questions, read as `supportdesk eval answer` reads them."""
    found = {}
    for name in ("hint3_faq", "stackfaq"):
        queries = datasets.read_jsonl(str(folder / name / "queries.jsonl"), ("text",))
        by_kb = datasets.knowledge_bases(datasets.read_jsonl(str(folder / name / "docs.jsonl"), ("id",)))
        for kb, docs in sorted(by_kb.items()):
            found[kb or name] = (docs, [q for q in queries if datasets.knowledge_base_of(q, by_kb) == kb])
    return found


def first_documents(model: answers.AnswerModel, queries: list[dict], vectors: np.ndarray, kept: set[str]):
    """Per question: the readings of its first document, and whether that document is right."""
    for query, vector in zip(queries, vectors, strict=True):
        read = answers.readings(model, vector, query["text"])
        probability = np.where([d == answers.NO_DOCUMENT for d in model.documents], -1, read["probability"])
        first = int(probability.argmax())
        gold = datasets.gold_documents(query) & kept
        yield {
            "x": [read[name][first] for name in answers.WEIGHTS],
            "documents": read["documents"][first],
            "right": model.documents[first] in gold,
            "answerable": bool(gold),
        }


def read_all(folder: Path) -> list[dict]:
    rows, draw = [], random.Random(0)
    for kb, (docs, queries) in knowledge_bases(folder).items():
        documents = [(str(d["id"]), *datasets.as_document(d)) for d in docs]
        whole = answers.train(documents)
        vectors = embeddings.embed([classifier.normalize_text(q["text"]) for q in queries])
        samples = [("whole", documents)] + [
            (size, draw.sample(documents, size))
            for size in SIZES
            if size < len(documents)
            for _ in range(DRAWS.get(kb, 6))
        ]
        for size, drawn in samples:
            model = whole if size == "whole" else answers.train(drawn, previous=whole)
            kept = {document_id for document_id, _, _ in drawn}
            rows += [{"kb": kb, "size": size} | row for row in first_documents(model, queries, vectors, kept)]
        print(f"read {kb}: {len(documents)} documents, {len(queries)} questions", flush=True)
    return rows


@dataclass(frozen=True)
class Calibration:
    weights: np.ndarray  # of the readings, in the order of answers.WEIGHTS
    score_weight: float
    documents_weight: float
    bias: float

    def confidences(self, rows: list[dict]) -> np.ndarray:
        score = np.array([row["x"] for row in rows]) @ self.weights
        documents = np.array([row["documents"] for row in rows])
        return 1.0 / (
            1.0 + np.exp(-(self.score_weight * score + self.documents_weight * documents + self.bias))
        )


IN_CODE = Calibration(
    np.array(list(answers.WEIGHTS.values())), answers.SCORE_WEIGHT, answers.DOCUMENTS_WEIGHT, answers.BIAS
)


def regression(rows: list[dict], x: list[list[float]]) -> LogisticRegression:
    """A logistic regression of "right" over `x`, each knowledge base at each size weighted the same."""
    groups = defaultdict(int)
    for row in rows:
        groups[row["kb"], row["size"]] += 1
    weight = np.array([1.0 / groups[row["kb"], row["size"]] for row in rows])
    fitted = LogisticRegression(C=1.0, max_iter=2000)
    return fitted.fit(x, [row["right"] for row in rows], sample_weight=weight / weight.mean())


def fit(rows: list[dict]) -> Calibration:
    whole = [row for row in rows if row["size"] == "whole"]
    weights = regression(whole, [row["x"] for row in whole]).coef_[0]
    scores = np.array([row["x"] for row in rows]) @ weights
    second = regression(rows, [[score, row["documents"]] for score, row in zip(scores, rows, strict=True)])
    return Calibration(weights, *second.coef_[0], float(second.intercept_[0]))


def two_fold(rows: list[dict], confidence: np.ndarray) -> tuple[float, float]:
    """Accuracy and realized precision, the threshold chosen on one half for TARGET_PRECISION as
    `supportdesk eval answer --calibrate` chooses it."""
    accuracies, precisions = [], []
    for seed in range(HALVINGS):
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        halves = order[: len(order) // 2], order[len(order) // 2 :]
        for calibrating, measured in (halves, halves[::-1]):
            scored = [{"confidence": confidence[i], "right": rows[i]["right"]} for i in calibrating]
            threshold = answer_eval.choose_threshold(scored, TARGET_PRECISION)
            answers_given = {i for i in measured if confidence[i] >= threshold}
            accuracies.append(
                sum(rows[i]["right"] if i in answers_given else not rows[i]["answerable"] for i in measured)
                / len(measured)
            )
            if answers_given:
                precisions.append(sum(rows[i]["right"] for i in answers_given) / len(answers_given))
    return float(np.mean(accuracies)), float(np.mean(precisions))


def report(name: str, rows: list[dict], confidence: np.ndarray) -> None:
    """The figures of the module docstring, each row's confidence given."""
    print(f"\n{name}")
    for kb in sorted({row["kb"] for row in rows}):
        whole = [i for i, row in enumerate(rows) if row["kb"] == kb and row["size"] == "whole"]
        accuracy, precision = two_fold([rows[i] for i in whole], confidence[whole])
        print(f"  {kb:12} whole: accuracy {accuracy:.3f}, realized precision {precision:.3f}")
    for size in ("whole", *SIZES):
        sized = [i for i, row in enumerate(rows) if row["size"] == size]
        answered = [i for i in sized if confidence[i] >= THRESHOLD]
        right = sum(rows[i]["right"] for i in answered)
        answerable = sum(rows[i]["answerable"] for i in sized)
        print(
            f"  {size!s:>5} documents at {THRESHOLD}: {len(answered)} answered,"
            f" {right / max(1, len(answered)):.0%} right,"
            f" {right / max(1, answerable):.0%} of the answerable answered"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    parser.add_argument("--datasets", type=Path, default=default)
    rows = read_all(parser.parse_args().datasets)

    fitted = fit(rows)
    weights = {name: round(float(w), 3) for name, w in zip(answers.WEIGHTS, fitted.weights, strict=True)}
    print(f"\nfitted: WEIGHTS = {weights}")
    print(f"        SCORE_WEIGHT, DOCUMENTS_WEIGHT, BIAS = {fitted.score_weight:.3f}, ", end="")
    print(f"{fitted.documents_weight:.3f}, {fitted.bias:.3f}")
    report("the calibration in the code", rows, IN_CODE.confidences(rows))
    report("the fitted calibration", rows, fitted.confidences(rows))
    kbs = {row["kb"] for row in rows}
    left_out = {kb: fit([row for row in rows if row["kb"] != kb]).confidences(rows) for kb in kbs}
    each = np.array([left_out[row["kb"]][i] for i, row in enumerate(rows)])
    report("fitted with each knowledge base left out", rows, each)


if __name__ == "__main__":
    main()
