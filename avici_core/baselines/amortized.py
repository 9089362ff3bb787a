"""AVICI as a method: a trained model's edge probabilities (it standardizes inside its forward pass)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from avici_core.baselines.implementations import register
from avici_core.prediction import MethodOutput


def resolve_model(model: str, models_dir: str | None = None) -> str:
    """A directory as given, else ``<models_dir>/<model>`` (the workflow's trained models), else
    a name for load_model (a shipped model)."""
    candidates = [Path(model)] + ([Path(models_dir) / model] if models_dir else [])
    for candidate in candidates:
        if candidate.is_dir():
            return str(candidate)
    return model


def first_rows(x: np.ndarray, mask: np.ndarray, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``max_rows`` rows with the obs:int ratio kept (the paper's ``lim_n_obs``, size study).

    Interventional rows get ``floor(max_rows * n_int / n)``, observational rows the rest; each group
    keeps its own first rows, in data order.
    """
    if max_rows < 1:
        raise ValueError(f"avici: max_rows must be >= 1, got {max_rows}")
    n = x.shape[0]
    if max_rows >= n:
        return x, mask
    is_int = mask.any(axis=1)  # [n]
    n_int = int(np.floor(max_rows * is_int.sum() / n))
    obs_rows = np.flatnonzero(~is_int)[: max_rows - n_int]
    int_rows = np.flatnonzero(is_int)[:n_int]
    rows = np.sort(np.concatenate([obs_rows, int_rows]))  # [max_rows]
    return x[rows], mask[rows]


@functools.lru_cache(maxsize=4)
def _loaded(source: str) -> Any:
    """The model at ``source``, loaded once per process: a batch of datasets (``run_many``) shares
    one load and one compiled forward pass per shape."""
    from avici_core.model import load_model

    return load_model(source)


@register(
    "avici",
    interventional=True,
    zero_columns_ok=True,  # the model decides: only a count-data model accepts them
    standardize=False,
    output_kind="probs",
    preload=("avici_core.model",),
)
def avici(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    model: str,
    max_rows: int | None = None,
    shipped: bool = False,
    models_dir: str | None = None,
) -> MethodOutput:
    """``model``: a model directory, a model id under ``models_dir`` or a name for ``load_model``;
    ``max_rows``: see only that many rows (the size study's n), obs:int ratio kept;
    ``shipped``: ``model`` names a model shipped with the package (never a workflow-trained one
    of the same id); ``models_dir``: where the workflow's trained models are (``run-method
    --models-dir``)."""
    from avici_core.config import SHIPPED_MODELS

    if max_rows is not None:
        x, mask = first_rows(x, mask, max_rows)

    source = SHIPPED_MODELS / model if shipped else resolve_model(model, models_dir)
    loaded = _loaded(str(source))
    probs = np.asarray(loaded(x, interv=mask), dtype=np.float64)  # [d, d]
    d = x.shape[1]
    if probs.shape != (d, d):
        raise ValueError(f"model {model!r} returned shape {probs.shape}, expected {(d, d)}")
    # the hard graph at the model's validated threshold (0.5 for a model that stores none)
    graph = (probs > loaded.graph_threshold).astype(np.int8)
    meta = {"threshold": loaded.graph_threshold, "compile_s": loaded.last_compile_s}
    return MethodOutput(probs, graph, "probs", has_probs=True, meta=meta)
