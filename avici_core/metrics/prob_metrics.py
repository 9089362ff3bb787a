"""Metrics on edge scores/probabilities (avici.md §4): AUROC, AUPRC (trapezoid), AP, ECE, Brier,
and the share of the logit variance that row + column effects explain.

All flatten the full d x d matrix including the diagonal (the true diagonal is 0).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

N_BINS = 10


def _flat(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = (np.asarray(truth) != 0).astype(np.int8).ravel()
    p = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"scores shape {np.shape(scores)} does not match truth {np.shape(truth)}")
    return y, p


def ranking_metrics(truth: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUROC, AUPRC = auc(recall, precision) and AP, with the paper's degenerate cases.

    No scores and no true edges -> all 1.0; exactly one of sum(scores), sum(truth) zero ->
    AUROC 0.5, AUPRC 0, AP 0.
    """
    y, p = _flat(truth, scores)
    has_true, has_score = bool(y.any()), bool(p.sum() != 0)
    if not has_true and not has_score:
        return {"auroc": 1.0, "auprc": 1.0, "ap": 1.0}
    if not has_true or not has_score:
        return {"auroc": 0.5, "auprc": 0.0, "ap": 0.0}
    fpr, tpr, _ = roc_curve(y, p)
    precision, recall, _ = precision_recall_curve(y, p)
    return {
        "auroc": float(auc(fpr, tpr)),
        "auprc": float(auc(recall, precision)),
        "ap": float(average_precision_score(y, p)),
    }


def ece(truth: np.ndarray, probs: np.ndarray, n_bins: int = N_BINS) -> float:
    """Expected calibration error over equal-width bins on [0, 1 + 1e-8] (so p = 1 has a bin)."""
    y, p = _flat(truth, probs)
    edges = np.linspace(0.0, 1.0 + 1e-8, n_bins + 1)
    bins = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)  # [d*d]
    total = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            total += abs(y[in_bin].mean() - p[in_bin].mean()) * in_bin.sum() / p.size
    return float(total)


def brier(truth: np.ndarray, probs: np.ndarray) -> float:
    y, p = _flat(truth, probs)
    return float(np.mean((p - y) ** 2))


def row_column_share(logits: np.ndarray) -> float:
    """Share of the off-diagonal variance of ``logits [d, d]`` explained by ``mu + r_i + c_j``.

    A model that only ranks variables as causes (row effect ``r_i``) or effects (column effect
    ``c_j``) scores near 1; one that resolves individual edges scores lower. The additive fit is
    least squares over the off-diagonal entries (the diagonal is never an edge), so the design
    is unbalanced and solved with ``lstsq`` rather than with row and column means. ``nan`` when
    the logits are constant (no variance to explain) or ``d < 3`` (the fit is exact).
    """
    z = np.asarray(logits, np.float64)
    d = z.shape[-1]
    if z.shape != (d, d):
        raise ValueError(f"row_column_share: logits must be [d, d], got {z.shape}")
    if d < 3:
        return float("nan")
    rows, cols = np.nonzero(~np.eye(d, dtype=bool))
    y = z[rows, cols]
    if not y.max() > y.min():  # (a mean's round-off would give a spurious tiny variance)
        return float("nan")
    total = float(((y - y.mean()) ** 2).sum())
    design = np.zeros((y.size, 2 * d))
    design[np.arange(y.size), rows] = 1.0
    design[np.arange(y.size), d + cols] = 1.0
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = float(((y - design @ coef) ** 2).sum())
    return 1.0 - resid / total


def probability_row_column_share(probs: np.ndarray) -> float:
    """:func:`row_column_share` of the logits of edge probabilities ``probs [d, d]``, clipped to
    [1e-7, 1 - 1e-7] (float32 resolution), so that a saturated 0 or 1 stays finite."""
    p = np.clip(np.asarray(probs, np.float64), 1e-7, 1.0 - 1e-7)
    return row_column_share(np.log(p) - np.log1p(-p))
