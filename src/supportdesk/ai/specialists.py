"""The triage classifier's confusion-pair specialists (`classifier` fits and applies them): which pairs of
categories get a binary SVM of their own, and how it re-decides a close top two.

Confusion-pair specialists: each category is paired with its 3 nearest categories by mean embedding (162
pairs for banking77's 77 categories, 307 for clinc150's 150), and each pair gets a binary SVM on the same
features fitted on its two categories' rows only. When a text's top two form such a pair and the runner-up
has at least 0.3 of the best one's probability, the pair's SVM decides between them; their probabilities
are swapped, so the confidence, and with it the abstention, is the same. Measured before the calibration
draws (one draw, seed 0): banking77 on ten 80/20 splits +0.16 points on average (forced +0.19), never worse
on any (+0.00 to +0.30); split 0 92.09 -> 92.39 % (forced 92.34 -> 92.59), split 1 91.44 -> 91.69; hwu64
92.75 -> 92.94; HINT3 curekart / powerplay11 / sofmattress 65.5 / 69.4 / 72.0 -> 65.8 / 69.4 / 74.6;
clinc150 in scope 95.03 -> 95.00 (forced 96.73 -> 96.97), out-of-scope recall 87.0 both. Costs 1.5–2.5 s
(banking77) / 3.5 s (clinc150) more fitting, 0.3–0.4 ms more per ticket, stored models 17 -> 23 MB and 45
-> 54 MB. Measured and not taken (banking77, splits 0–9 unless said): 1 or 5 neighbours (+0.10 / +0.14),
gates 0.2 / 0.45 (+0.09 / +0.13), the pairs' SVMs at C 3 (+0.14, two splits worse), the embedding block
weighed twice as much in the pairs' features (+0.21, but +0.13 on the eight splits it was not chosen on);
splits 0–1 only: no gate (+0.05 / +0.10), pairs from 5-fold cross-validated confusions instead of the
nearest categories (+0.25 / +0.20 against +0.30 / +0.25, and 38 s more fitting), adding the specialist's
score to the one-vs-rest difference instead of letting it decide (-0.15 to +0.25).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC


def fit(
    x,
    y: np.ndarray,
    emb: np.ndarray,
    classes: list[str],
    *,
    out_of_scope: str,
    neighbours: int,
    C: float,
    seed: int,
):
    """A binary SVM for each category and each of its ``neighbours`` nearest categories (cosine of the mean
    embeddings), fitted on those two categories' rows only (the same features, the SVM's ``C`` and ``seed``);
    none for the ``out_of_scope`` class.

    The one-vs-rest SVM draws each category's boundary against all the others at once; a pair's own
    boundary is sharper where two intents differ by a detail ("top-up failed" / "top-up reverted"). Where
    the top two of a text form such a pair and the runner-up comes close (`specialist_gate`), the pair's SVM
    decides between them (`refine`)."""
    in_scope = np.array([j for j, c in enumerate(classes) if c != out_of_scope])
    k = min(neighbours, len(in_scope) - 1)
    if k <= 0:
        return None
    centroids = np.stack([emb[y == j].mean(axis=0) for j in in_scope])
    centroids /= np.clip(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9, None)
    sim = centroids @ centroids.T
    np.fill_diagonal(sim, -np.inf)
    nearest = np.argsort(-sim, axis=1)[:, :k]
    pairs = sorted({(min(a, b), max(a, b)) for a in range(len(in_scope)) for b in nearest[a]})
    pairs = np.array([(in_scope[a], in_scope[b]) for a, b in pairs], dtype=np.int32)
    rows, cols, vals, intercepts = [], [], [], []
    for n, (a, b) in enumerate(pairs):
        idx = np.flatnonzero((y == a) | (y == b))
        sub = x[idx]
        used = np.unique(sub.indices)
        svm = LinearSVC(C=C, class_weight="balanced", random_state=seed)
        svm.fit(sub[:, used], (y[idx] == b).astype(np.int8))
        rows.append(np.full(len(used), n))
        cols.append(used)
        vals.append(svm.coef_[0])
        intercepts.append(svm.intercept_[0])
    weights = sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(pairs), x.shape[1]),
    )
    return pairs, weights, np.array(intercepts, dtype=np.float32)


def refine(
    probs: np.ndarray, x, specialists, classes: list[str], *, out_of_scope: str, gate: float
) -> np.ndarray:
    """``probs`` with the top two in-scope classes' probabilities swapped where they form a specialist pair,
    the runner-up has at least ``gate`` times the best one's probability, and the pair's SVM prefers it
    (the confidence, and with it the abstention, stays the same). The ``out_of_scope`` class is not in
    scope."""
    pairs, weights, intercepts = specialists
    q = probs.copy()
    if out_of_scope in classes:
        q[:, classes.index(out_of_scope)] = -1.0
    top = np.argsort(-q, axis=1)[:, :2]
    index = {(int(a), int(b)): n for n, (a, b) in enumerate(pairs)}
    rows, which = [], []
    for i, (a, b) in enumerate(top):
        n = index.get((min(a, b), max(a, b)))
        if n is not None and q[i, b] >= gate * q[i, a]:
            rows.append(i)
            which.append(n)
    if not rows:
        return probs
    decision = np.asarray(x[rows].multiply(weights[which]).sum(axis=1)).ravel() + intercepts[which]
    winner = np.where(decision > 0, pairs[which, 1], pairs[which, 0])
    probs = probs.copy()
    for i, w in zip(rows, winner, strict=True):
        a, b = top[i]
        if w == b:
            probs[i, a], probs[i, b] = probs[i, b], probs[i, a]
    return probs
