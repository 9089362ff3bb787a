"""Interventional regimes derived from the row mask (standardization: ``avici_core.data.standardize``).

Shapes: n rows, d variables, e environments (regimes = distinct intervention target sets).
"""

from __future__ import annotations

import numpy as np


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
