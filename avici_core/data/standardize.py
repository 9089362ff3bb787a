"""Standardization every method sees, computed in float64 so that units never matter.

Shapes: ``x [n, d]`` (n rows, d variables). Real values get a per-column z-score; counts get
AVICI's log2-CPM standardizer (avici.md §1.1). Both first rescale by a power of two (exact in
floating point) so that no intermediate overflows: any finite input gives a finite output, and
shifting or rescaling a column leaves a real-valued column's result unchanged to round-off.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata


def _rescale(x: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """``x / 2**e`` with ``magnitude / 2**e`` in [0.5, 1): exact, and never through ``inf``."""
    _, exponent = np.frexp(magnitude)
    return np.ldexp(x, -exponent)


def zscore(x: np.ndarray) -> np.ndarray:
    """Per-column z-score over all rows (population std; a constant column maps to 0)."""
    x = np.asarray(x, dtype=np.float64)  # [n, d]
    x = _rescale(x, np.abs(x).max(axis=0))  # in [-1, 1]: no overflow below
    centered = x - x.mean(axis=0)
    centered = _rescale(centered, np.abs(centered).max(axis=0))
    std = centered.std(axis=0)
    return centered / np.where(std == 0, 1.0, std)


def cpm_standardize(x: np.ndarray) -> np.ndarray:
    """Count data: log2-CPM per row with zeros kept at exactly 0 after a global shift and scale.

    log2(x / (rowsum * 1e-6)), zeros -> NaN, subtract the global nanmin, divide by the global
    nanstd, NaN -> 0. Each row is first divided by a power of two of its maximum, which leaves
    log2(x / rowsum) unchanged and keeps the row sum finite.
    """
    x = np.asarray(x, dtype=np.float64)  # [n, d]
    if (x < 0).any():
        raise ValueError(
            "count data must be non-negative; pass is_count_data=False for real values"
        )
    x = _rescale(x, x.max(axis=1, keepdims=True))
    rowsum = x.sum(axis=1, keepdims=True)  # [n, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logcpm = np.log2(x / (np.where(rowsum == 0, 1.0, rowsum) * 1e-6))
    logcpm[x == 0] = np.nan
    if np.isnan(logcpm).all():
        raise ValueError("count data has no nonzero entry")
    std = np.nanstd(logcpm)
    z = (logcpm - np.nanmin(logcpm)) / (std if std > 0 else 1.0)
    return np.nan_to_num(z, nan=0.0)


def standardize(x: np.ndarray, *, is_count_data: bool) -> np.ndarray:
    """What methods see: :func:`cpm_standardize` for counts, else :func:`zscore`."""
    return cpm_standardize(x) if is_count_data else zscore(x)


def nonparanormal(x: np.ndarray) -> np.ndarray:
    """Per column, ranks (ties averaged) mapped to standard-normal quantiles ``Phi^-1(r / (n+1))``,
    then z-scored: the Gaussian copula transform, invariant to any increasing map of a column."""
    x = np.asarray(x, dtype=np.float64)  # [n, d]
    scores = ndtri(rankdata(x, axis=0) / (x.shape[0] + 1))
    return zscore(scores)


TRANSFORMS = ("zscore", "nonparanormal")


def transform_for_method(x: np.ndarray, *, is_count_data: bool, transform: str) -> np.ndarray:
    """What a standardizing method sees (``transform`` from the method registry)."""
    if transform == "nonparanormal":
        return nonparanormal(x)
    if transform != "zscore":
        raise ValueError(f"unknown transform {transform!r}; known: {TRANSFORMS}")
    return standardize(x, is_count_data=is_count_data)
