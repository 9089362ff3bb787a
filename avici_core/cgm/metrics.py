"""Counterfactual image metrics: ground-truth L1 / IoU, composition, reversibility,
effectiveness, counterfactual-parent error, and the in-support test for intervened parents.

A counterfactual map f(x, a, a*, rows) -> x* takes images in [0, 1] [n, s, s], factual and
counterfactual attributes [n, d] and the test-row indices (the renderer uses them to fetch the
stored image noise). Distances follow Monteiro et al.: mean absolute error on the 0-255 scale.

Shape letters: n images, s side, d attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from avici_core.cgm.scm import Attribute

CFMap = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def l1(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-image mean |x - y| on the 0-255 scale; inputs in [0, 1]: [n]."""
    return 255.0 * np.abs(np.asarray(x, float) - np.asarray(y, float)).mean((1, 2))


def iou(x: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    """Per-image IoU of the figure masks (grey > threshold on 0-255); 1 when both are empty."""
    mx, my = 255.0 * np.asarray(x) > threshold, 255.0 * np.asarray(y) > threshold
    inter, union = (mx & my).sum((1, 2)), (mx | my).sum((1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def attribute_error(at: Attribute, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-row error: 0/1 mismatch for a categorical attribute, absolute error otherwise."""
    if at.categorical:
        return (np.rint(pred) != np.rint(target)).astype(float)
    return np.abs(pred - target)


def effectiveness(
    attrs: Sequence[Attribute], pred: np.ndarray, target: np.ndarray
) -> dict[str, float]:
    """Oracle read-outs against target attributes: ``acc_<name>`` or ``mae_<name>`` per observed one."""
    out = {}
    for j, at in enumerate(attrs):
        if at.observed:
            err = attribute_error(at, pred[:, j], target[:, j]).mean()
            out[f"acc_{at.name}" if at.categorical else f"mae_{at.name}"] = float(
                1.0 - err if at.categorical else err
            )
    return out


def parent_error(
    attrs: Sequence[Attribute], a_model: np.ndarray, a_true: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Counterfactual-parent error per row [n]: mean over attributes of mismatch or |diff| / scale_j."""
    cols = [
        attribute_error(at, a_model[:, j], a_true[:, j]) / (1.0 if at.categorical else scale[j])
        for j, at in enumerate(attrs)
    ]
    return np.mean(cols, 0)


def attribute_scale(attrs: Sequence[Attribute], a: np.ndarray) -> np.ndarray:
    """Robust range (1st to 99th percentile) per continuous attribute, 1 for categorical: [d]."""
    lo, hi = np.percentile(a, [1, 99], axis=0)
    return np.array(
        [1.0 if at.categorical else max(hi[j] - lo[j], 1e-9) for j, at in enumerate(attrs)]
    )


def support_mask(
    attrs: Sequence[Attribute],
    a_train: np.ndarray,
    a_query: np.ndarray,
    *,
    bins: int = 4,
    min_count: int = 5,
) -> np.ndarray:
    """In-support rows [n] bool: the query's joint cell (categories x quantile bins of observed
    attributes) holds at least ``min_count`` training rows (Monteiro's joint-pmf idea)."""
    keys_train, keys_query = [], []
    for j, at in enumerate(attrs):
        if not at.observed:
            continue
        if at.categorical:
            keys_train.append(a_train[:, j].astype(int))
            keys_query.append(a_query[:, j].astype(int))
        else:
            edges = np.quantile(a_train[:, j], np.linspace(0, 1, bins + 1)[1:-1])
            keys_train.append(np.searchsorted(edges, a_train[:, j]))
            keys_query.append(np.searchsorted(edges, a_query[:, j]))
    cells, counts = np.unique(np.stack(keys_train, 1), axis=0, return_counts=True)
    lookup = {tuple(c): k for c, k in zip(cells.tolist(), counts.tolist())}
    return np.array(
        [lookup.get(tuple(q), 0) >= min_count for q in np.stack(keys_query, 1).tolist()]
    )


def composition(
    f: CFMap, x: np.ndarray, a: np.ndarray, rows: np.ndarray, horizons: Sequence[int] = (1, 10)
) -> dict[str, float]:
    """L1 between x and m-fold null interventions f(., a, a); ideal 0 (the identity achieves it)."""
    out, cur = {}, x
    for m in range(1, max(horizons) + 1):
        cur = f(cur, a, a, rows)
        if m in horizons:
            out[f"composition_{m}"] = float(l1(x, cur).mean())
    return out


def reversibility(
    f: CFMap, x: np.ndarray, a: np.ndarray, a_prime: np.ndarray, rows: np.ndarray, cycles: int = 2
) -> float:
    """Mean L1 to x after each do(a -> a') then do(a' -> a) cycle; ideal 0."""
    cur, dists = x, []
    for _ in range(cycles):
        cur = f(f(cur, a, a_prime, rows), a_prime, a, rows)
        dists.append(l1(x, cur).mean())
    return float(np.mean(dists))
