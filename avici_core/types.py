"""Type aliases shared across the library (one place, as in optax's ``base.py``).

Shape letters used in docstrings and comments everywhere:
  B: datasets in a batch, n: rows (observations), d: variables, D: model width.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

Array = Any  # a jax.Array or np.ndarray; kept loose so numpy-only modules need not import jax
Params = Any  # a haiku parameter mapping
PRNGKey = Any  # a jax PRNG key
Graph = np.ndarray  # [d, d] int8 adjacency, g[i, j] = 1  <=>  i -> j
Setting = Literal["obs", "int"]
Stream = Literal["test", "tune", "train"]

SETTINGS: tuple[str, ...] = ("obs", "int")
STREAMS: dict[str, int] = {
    "train": 0,
    "test": 1,
    "tune": 2,
}  # SeedSequence entropy per stream (paper)
