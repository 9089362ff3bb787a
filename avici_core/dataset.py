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
from collections.abc import Sequence
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


def select_setting(
    ds: Dataset, setting: str, *, source: str = "data"
) -> tuple[np.ndarray, np.ndarray]:
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
            raise _refuse(source, "no interventional rows", "use setting 'obs' for this dataset")
        if ds.x_int.shape[1:] != (d,) or ds.mask_int.shape != ds.x_int.shape:
            raise _refuse(
                source,
                f"interventional rows {ds.x_int.shape} and their mask {ds.mask_int.shape} do "
                f"not fit {d} variables",
                "write x_int and mask_int with one column per variable",
            )
        keep = max(n_obs - n_int, 0)
        x = np.concatenate([ds.x_obs[:keep], ds.x_int], axis=0)
        mask = np.concatenate([np.zeros((keep, d), np.int8), ds.mask_int.astype(np.int8)], axis=0)
        return x, mask
    raise ValueError(f"unknown setting {setting!r}; use 'obs' or 'int'")


MIN_ROWS = 10  # fewer rows carry too little information for any method to be judged on


def _refuse(
    source: str,
    problem: str,
    fix: str,
    *,
    row: int | None = None,
    column: int | None = None,
    names: Sequence[str] | None = None,
) -> ValueError:
    """The one message format of refused input: where (source, 1-based row, column), what, fix."""
    where = source
    if row is not None:
        where += f", row {row + 1}"
    if column is not None:
        where += f", column {names[column]!r}" if names is not None else f", column {column + 1}"
    return ValueError(f"{where}: {problem}; {fix}")


def _first(flags: np.ndarray) -> tuple[int, int]:
    """Row and column (0-based) of the first True entry of ``flags [n, d]``, row-major."""
    rows, cols = np.nonzero(flags)
    return int(rows[0]), int(cols[0])


def check_observations(
    x: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    source: str = "data",
    names: Sequence[str] | None = None,
    min_rows: int = MIN_ROWS,
    min_vars: int = 2,
    zero_columns_ok: bool = False,
) -> None:
    """Refuse data no method can use, with a message that says where and what to fix.

    The same checks hold for the library, ``infer``, ``run-method`` and ``discover``: rank
    ``[n, d]``, at least ``min_vars`` variables and ``min_rows`` rows, numeric and finite values,
    no constant column (it carries no information, and a z-scored constant is an artefact), and
    a 0/1 mask of the same shape. ``zero_columns_ok``: count data for a method that takes it
    raw (AVICI's count standardizer), where an all-zero column is a gene never detected, not an
    error. ``source`` (e.g. a file name) and ``names`` (column names) locate the problem; rows and
    columns are counted from 1.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise _refuse(
            source,
            f"expected a 2-D table [rows, variables], got shape {x.shape}",
            "pass one dataset at a time",
        )
    n, d = x.shape
    if d < min_vars:
        raise _refuse(source, f"{d} variable(s)", f"causal discovery needs at least {min_vars}")
    if n < min_rows:
        raise _refuse(source, f"{n} row(s)", f"at least {min_rows} samples are needed")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise _refuse(source, f"values of type {x.dtype}", "encode every column as numbers")
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = _first(bad)
        raise _refuse(
            source,
            f"{int(bad.sum())} NaN/inf value(s), this one {x[r, c]}",
            "drop or impute them first",
            row=r,
            column=c,
            names=names,
        )
    constant = (x == x[:1]).all(axis=0)
    if zero_columns_ok:
        constant &= x[0] != 0
    constant = np.flatnonzero(constant)
    if constant.size:
        labels = [names[c] if names is not None else int(c) + 1 for c in constant]
        raise _refuse(
            source,
            f"constant column(s) {labels}",
            "remove them (a constant carries no information about causes or effects)",
        )
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != x.shape:
            raise _refuse(
                source,
                f"intervention mask has shape {mask.shape} ({mask.shape[-1] if mask.ndim else 0} "
                f"column(s)), the data {x.shape}",
                "give the mask one 0/1 entry per data value",
            )
        off = ~np.isin(mask, (0, 1))
        if off.any():
            r, c = _first(off)
            fix = "the mask may contain only 0 (observed) and 1 (intervened on)"
            problem = f"intervention mask value {mask[r, c]!r}"
            raise _refuse(source, problem, fix, row=r, column=c, names=names)
