"""What baselines see: standardized data and interventional regimes derived from the row mask.

Shapes: n rows, d variables, e environments (regimes = distinct intervention target sets).
"""

from __future__ import annotations

import numpy as np


def zscore(x: np.ndarray) -> np.ndarray:
    """Per-variable z-score over all rows (population std, std 0 -> 1), as the paper's baselines get."""
    x = np.asarray(x, dtype=np.float64)  # [n, d]
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std == 0, 1.0, std)


def cpm_standardize(x: np.ndarray) -> np.ndarray:
    """Count data: log2-CPM per row with zeros kept at exactly 0 after a global shift and scale.

    Mirrors AVICI's count standardizer (avici.md §1.1): log2(x / (rowsum * 1e-6)), zeros -> NaN,
    subtract the global nanmin, divide by the global nanstd, NaN -> 0.
    """
    x = np.asarray(x, dtype=np.float64)  # [n, d]
    if (x < 0).any():
        raise ValueError(
            "count data must be non-negative; pass is_count_data=False for real values"
        )
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
    return cpm_standardize(x) if is_count_data else zscore(x)


def regimes(mask: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Group rows by their intervention target set.

    Returns:
      labels [n] int, index into ``targets``; targets[0] is always the observational regime ``()``
      (present even when no row is observational, so methods can rely on the slot).
    """
    mask = np.asarray(mask) != 0  # [n, d]
    keys = [tuple(np.flatnonzero(row).tolist()) for row in mask]
    targets: list[tuple[int, ...]] = [(), *sorted({k for k in keys if k})]
    index = {t: i for i, t in enumerate(targets)}
    return np.asarray([index[k] for k in keys], dtype=np.int64), targets
