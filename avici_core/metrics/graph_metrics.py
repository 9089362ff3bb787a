"""Metrics on hard graphs (avici.md §4): SHD, precision/recall/F1, SID, ancestor-AID, cyclicity.

All flatten the full d x d matrix including the diagonal (the true diagonal is 0).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_fscore_support


def _binary(g: np.ndarray) -> np.ndarray:
    return (np.asarray(g) != 0).astype(np.int8)


def shd(truth: np.ndarray, pred: np.ndarray) -> int:
    """Unordered pairs whose status differs: a reversal, a missing or an extra edge each cost 1."""
    diff = np.abs(_binary(truth).astype(int) - _binary(pred))  # [d, d]
    per_pair = np.clip(diff + diff.T, 0, 1)
    return int(np.triu(per_pair).sum())


def precision_recall_f1(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    """sklearn binary scores; no true and no predicted edges -> 1.0 each, exactly one empty -> 0.0."""
    y, h = _binary(truth).ravel(), _binary(pred).ravel()
    has_true, has_pred = bool(y.any()), bool(h.any())
    if not has_true and not has_pred:
        return 1.0, 1.0, 1.0
    if not has_true or not has_pred:
        return 0.0, 0.0, 0.0
    p, r, f, _ = precision_recall_fscore_support(y, h, average="binary", zero_division=0.0)
    return float(p), float(r), float(f)


def is_cyclic(g: np.ndarray) -> bool:
    """The paper's test: trace((I + G/d)^d) - d is nonzero iff G has a directed cycle."""
    a = _binary(g).astype(np.float64)
    d = a.shape[0]
    return not bool(np.isclose(np.trace(np.linalg.matrix_power(np.eye(d) + a / d, d)) - d, 0.0))


def is_dag(g: np.ndarray) -> bool:
    """Exact acyclicity test. The paper's ``is_cyclic`` formula (the ``cyclic`` metric) misses
    long cycles: one of length k adds about d^(1-k) to a trace of d, below ``isclose``'s tolerance."""
    import networkx as nx

    return nx.is_directed_acyclic_graph(nx.from_numpy_array(_binary(g), create_using=nx.DiGraph))


def n_edges(g: np.ndarray) -> int:
    return int(_binary(g).sum())


def sid(truth: np.ndarray, pred: np.ndarray) -> float:
    """Structural intervention distance (gadjid); NaN when the prediction has a cycle."""
    import gadjid

    if not is_dag(pred):
        return float("nan")
    return float(gadjid.sid(_binary(truth), _binary(pred), edge_direction="from row to column")[1])


def ancestor_aid(truth: np.ndarray, pred: np.ndarray) -> float:
    """Ancestor adjustment identification distance (gadjid); NaN when the prediction has a cycle."""
    import gadjid

    if not is_dag(pred):
        return float("nan")
    return float(
        gadjid.ancestor_aid(_binary(truth), _binary(pred), edge_direction="from row to column")[1]
    )
