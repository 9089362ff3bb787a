"""``bootstrap-<method>``: edge probabilities from hard graphs on seeded row resamples.

Following avici.md §4, each resample's hard graph is averaged; CPDAG outputs are first expanded
by the semi-oracle orientation, which needs the true graph. When the caller passes no truth, an
undirected edge contributes 0.5 to each direction instead (recorded as ``meta.cpdag_orientation``).
The true graph is used only to orient edges the method left undirected - exactly what scoring
does for the un-bootstrapped CPDAG method - never to choose adjacencies.
"""

from __future__ import annotations

import functools

import numpy as np

from avici_core.baselines.graphs import cpdag_scores
from avici_core.baselines.implementations import Implementation, get_implementation
from avici_core.metrics.cpdag import orient_cpdag_oracle
from avici_core.prediction import MethodOutput

N_RESAMPLES = 10


def _directed(rng: np.random.Generator, out: MethodOutput, truth: np.ndarray | None) -> np.ndarray:
    """One resample's graph as directed edge indicators (0.5 for an unoriented CPDAG edge)."""
    if out.kind != "cpdag":
        return (np.asarray(out.graph) != 0).astype(np.float64)
    if truth is None:
        return cpdag_scores(out.graph)
    return orient_cpdag_oracle(rng, out.graph, truth).astype(np.float64)


def bootstrap_fn(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    inner_name: str,
    n_resamples: int = N_RESAMPLES,
    truth: np.ndarray | None = None,
    **hparams: object,
) -> MethodOutput:
    """Run ``inner_name`` on ``n_resamples`` row resamples (rows drawn with replacement)."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    inner = get_implementation(inner_name)
    n, d = x.shape
    total = np.zeros((d, d))
    for child in rng.spawn(n_resamples):
        rows = child.integers(0, n, size=n)  # [n]
        out = inner.fn(child, x[rows], mask[rows], **hparams)
        total += _directed(child, out, truth)
    probs = total / n_resamples  # [d, d]
    orientation = "semi-oracle" if truth is not None else "half"
    meta = {"n_resamples": n_resamples, "cpdag_orientation": orientation}
    return MethodOutput(probs, (probs > 0.5).astype(np.int8), "probs", has_probs=True, meta=meta)


def bootstrap_implementation(inner: Implementation) -> Implementation:
    return Implementation(
        name=f"bootstrap-{inner.name}",
        fn=functools.partial(bootstrap_fn, inner_name=inner.name),
        interventional=inner.interventional,
        needs_interventions=inner.needs_interventions,
        zero_columns_ok=inner.zero_columns_ok,
        standardize=inner.standardize,
        context=tuple(dict.fromkeys((*inner.context, "truth"))),
        output_kind="probs",
        preload=inner.preload,
    )
