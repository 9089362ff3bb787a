"""The dataset record every stage exchanges, its ``.npz`` file format, and input checks.

One file per (domain, seed) holds (shapes with d variables):
  g                 [d, d] int8     true graph, g[i, j] = 1 <=> i -> j
  x_obs             [n_obs, d]      observational rows used for inference
  x_int             [n_int, d]      interventional rows used for inference
  mask_int          [n_int, d] int8 1 where the row's value was set by a hard intervention
  x_obs_heldout, x_int_heldout, mask_int_heldout   the same for held-out rows
  is_count_data     []  bool        gene-expression counts (selects the count standardizer)
  meta              []  str         JSON: domain, seed, stream and the drawn spec

Arrays are stored without pickle (``allow_pickle=False`` on load), so files are safe to share.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

from avici_core.io import write_npz

ARRAY_KEYS = (
    "g",
    "x_obs",
    "x_int",
    "mask_int",
    "x_obs_heldout",
    "x_int_heldout",
    "mask_int_heldout",
)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One simulated (or real) dataset with its ground-truth graph."""

    g: np.ndarray  # [d, d]
    x_obs: np.ndarray  # [n_obs, d]
    x_int: np.ndarray  # [n_int, d]
    mask_int: np.ndarray  # [n_int, d]
    x_obs_heldout: np.ndarray  # [n_obs_heldout, d]
    x_int_heldout: np.ndarray  # [n_int_heldout, d]
    mask_int_heldout: np.ndarray  # [n_int_heldout, d]
    is_count_data: bool = False
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def n_vars(self) -> int:
        return int(self.g.shape[0])


def save_dataset(path: str | os.PathLike, ds: Dataset) -> None:
    """Write atomically and byte-reproducibly (see :mod:`avici_core.io`)."""
    arrays = {k: np.asarray(getattr(ds, k)) for k in ARRAY_KEYS}
    arrays["is_count_data"] = np.asarray(bool(ds.is_count_data))
    arrays["meta"] = np.asarray(json.dumps(ds.meta, sort_keys=True))
    write_npz(path, arrays)


def load_dataset(path: str | os.PathLike) -> Dataset:
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in (*ARRAY_KEYS, "meta") if k not in f.files]
        if missing:
            raise ValueError(f"{path}: not a dataset file, missing arrays {missing}")
        arrays = {k: f[k] for k in ARRAY_KEYS}
        return Dataset(
            **arrays,
            is_count_data=bool(f["is_count_data"]) if "is_count_data" in f.files else False,
            meta=json.loads(str(f["meta"])),
        )


def select_setting(ds: Dataset, setting: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows a method sees, with an equal sample budget in both settings (the paper's rule).

    ``obs``: all observational rows, mask zero. ``int``: the first ``n_obs - n_int`` observational
    rows followed by all interventional rows (e.g. 500 + 500 of 1000 + 500).

    Returns:
      x [n, d] and mask [n, d] (int8, 1 where a value was intervened on).
    """
    n_obs, d = ds.x_obs.shape
    if setting == "obs":
        return ds.x_obs, np.zeros((n_obs, d), dtype=np.int8)
    if setting == "int":
        n_int = ds.x_int.shape[0]
        if n_int == 0:
            raise ValueError("setting 'int' needs interventional rows, but this dataset has none")
        keep = max(n_obs - n_int, 0)
        x = np.concatenate([ds.x_obs[:keep], ds.x_int], axis=0)
        mask = np.concatenate([np.zeros((keep, d), np.int8), ds.mask_int.astype(np.int8)], axis=0)
        return x, mask
    raise ValueError(f"unknown setting {setting!r}; use 'obs' or 'int'")


def check_observations(
    x: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    min_rows: int = 2,
    min_vars: int = 2,
    reject_constant: bool = True,
) -> None:
    """Refuse data no method can use, with a message that says what to fix.

    Checks rank ``[n, d]``, at least ``min_rows`` rows and ``min_vars`` variables, finite values,
    no constant column (unless ``reject_constant=False``: AVICI's standardizer maps a zero
    standard deviation to 1), and a 0/1 mask of the same shape.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"data must be a 2-D array [n_rows, n_vars], got shape {x.shape}")
    n, d = x.shape
    if d < min_vars:
        raise ValueError(f"data has {d} variable(s); causal discovery needs at least {min_vars}")
    if n < min_rows:
        raise ValueError(f"data has {n} row(s); at least {min_rows} are needed")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"data must be numeric, got dtype {x.dtype}")
    bad = ~np.isfinite(x)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise ValueError(
            f"data has {bad.sum()} NaN/inf value(s), first at row {rows[0]}, column {cols[0]}; "
            "drop or impute them first"
        )
    constant = np.flatnonzero(np.ptp(x, axis=0) == 0)
    if reject_constant and constant.size:
        raise ValueError(
            f"column(s) {constant.tolist()} are constant; remove them (they carry no information)"
        )
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != x.shape:
            raise ValueError(f"intervention mask has shape {mask.shape}, data has {x.shape}")
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("intervention mask must contain only 0 and 1")
