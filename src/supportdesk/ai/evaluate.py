"""Offline evaluation of the triage classifier on files in the format of the shared datasets README.

Classification rows are JSON lines ``{"id", "text", "label", ...}``; ``label == "oos"`` marks an
out-of-scope row (the right answer is "none of the categories"). Usage::

    python -m supportdesk.ai.evaluate classify --train FILE [--test FILE] [--per-subset]

Without ``--test`` the file is split by the original split in its ids (``name:train:N`` and
``name:oos_train:N`` train; ``val``/``valid``/``test`` rows test); a file with training rows only is split
80/20, stratified by label, with a fixed seed. ``--per-subset`` evaluates each ``subset`` (e.g. each
HINT3 bot) as its own label space. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score

from supportdesk.ai import classifier, embeddings, training
from supportdesk.datasets import read_jsonl


def _origin(row: dict) -> str:
    parts = str(row.get("id", "")).split(":")
    return parts[-2] if len(parts) >= 3 else ""


def split_rows(rows: Sequence[dict], test_fraction: float = 0.2, seed: int = 0):
    """(train, test) from the split named in the ids, else a stratified holdout."""
    train = [r for r in rows if "train" in _origin(r)]
    test = [r for r in rows if "train" not in _origin(r)]
    if train and test:
        return train, test
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_label.setdefault(str(r["label"]), []).append(i)
    test_idx: set[int] = set()
    for label in sorted(by_label):
        idx = by_label[label]
        rng.shuffle(idx)
        if len(idx) >= 2:
            test_idx.update(idx[: max(1, int(round(test_fraction * len(idx))))])
    return [r for i, r in enumerate(rows) if i not in test_idx], [
        r for i, r in enumerate(rows) if i in test_idx
    ]


def _pct(x: float) -> float:
    return round(100.0 * float(x), 2)


def classify_metrics(
    train_rows: Sequence[dict], test_rows: Sequence[dict], params: classifier.Params | None = None
) -> dict:
    """Train on ``train_rows``, predict ``test_rows``; metrics in percent (see `decision_metrics`)."""
    train_texts = [classifier.normalize_text(r["text"]) for r in train_rows]
    test_texts = [classifier.normalize_text(r["text"]) for r in test_rows]
    t0 = time.process_time()
    train_vectors = embeddings.embed(train_texts)
    t1 = time.process_time()
    model = training.train(
        train_texts, [r["label"] for r in train_rows], params=params, vectors=train_vectors
    )
    t2 = time.process_time()
    test_vectors = embeddings.embed(test_texts)
    predictions = classifier.classify(model, test_texts, vectors=test_vectors)
    t3 = time.process_time()

    gold = [None if classifier.is_oos(r["label"]) else str(r["label"]) for r in test_rows]
    return {
        "n_train": len(train_rows),
        "n_classes": len(model.classes),
        **decision_metrics(gold, [p.label for p in predictions], [p.best for p in predictions]),
        "thresholds": [round(a.threshold, 4) for a in model.abstentions],
        "calibration": model.info.get("calibration"),
        "cpu_seconds_embed_train": round(t1 - t0, 2),
        "cpu_seconds_fit": round(t2 - t1, 2),
        "cpu_ms_per_prediction_batched": round(1000 * (t3 - t2) / max(len(gold), 1), 2),
    }


def decision_metrics(gold: list[str | None], pred: list[str | None], forced: list[str | None]) -> dict:
    """Metrics (percent) of decisions against gold labels; None is out-of-scope (gold) or an
    abstention (pred). `forced` are the top-1 labels without abstaining.

    ``accuracy``: right when the gold label, or an abstention on an out-of-scope row.
    ``in_scope_accuracy``: in-scope rows only (an abstention is wrong); ``forced_in_scope_accuracy``:
    the same without abstention. ``macro_f1`` over the gold labels, out-of-scope as one class."""
    n = len(gold)
    in_idx = [i for i, g in enumerate(gold) if g is not None]
    oos_idx = [i for i, g in enumerate(gold) if g is None]
    abstained = [i for i, p in enumerate(pred) if p is None]

    def tag(label: str | None) -> str:
        return classifier.OOS if label is None else label

    out: dict = {
        "n_test": n,
        "n_test_oos": len(oos_idx),
        "accuracy": _pct(np.mean([p == g for p, g in zip(pred, gold, strict=True)])) if n else None,
        "macro_f1": _pct(
            f1_score(
                [tag(g) for g in gold],
                [tag(p) for p in pred],
                labels=sorted({tag(g) for g in gold}),
                average="macro",
                zero_division=0,
            )
        )
        if n
        else None,
        "in_scope_accuracy": _pct(np.mean([pred[i] == gold[i] for i in in_idx])) if in_idx else None,
        "forced_in_scope_accuracy": _pct(np.mean([forced[i] == gold[i] for i in in_idx])) if in_idx else None,
        "abstain_rate": _pct(len(abstained) / n) if n else None,
    }
    if oos_idx:  # out-of-scope figures only where there are out-of-scope rows
        true_abstain = sum(1 for i in abstained if gold[i] is None)
        out["oos_recall"] = _pct(true_abstain / len(oos_idx))
        out["oos_precision"] = _pct(true_abstain / len(abstained)) if abstained else None
    return out


def evaluate_files(train_path: str, test_path: str | None = None, per_subset: bool = False) -> dict:
    rows = read_jsonl(train_path, ["text", "label"])
    if test_path:
        train_rows, test_rows = rows, read_jsonl(test_path, ["text", "label"])
    else:
        train_rows, test_rows = split_rows(rows)
    if not per_subset:
        return classify_metrics(train_rows, test_rows)
    subsets = sorted({str(r.get("subset")) for r in train_rows + test_rows})
    result = {}
    for s in subsets:
        tr = [r for r in train_rows if str(r.get("subset")) == s]
        te = [r for r in test_rows if str(r.get("subset")) == s]
        if tr and te:
            result[s] = classify_metrics(tr, te)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m supportdesk.ai.evaluate")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classify", help="train on one file, measure on another (or on a split of it)")
    c.add_argument("--train", required=True)
    c.add_argument("--test")
    c.add_argument("--per-subset", action="store_true", help="one label space per 'subset' (e.g. HINT3 bots)")
    args = parser.parse_args(argv)
    if args.command == "classify":
        json.dump(evaluate_files(args.train, args.test, args.per_subset), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
