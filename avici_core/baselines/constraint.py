"""Constraint-based methods from causal-learn: PC (Fisher-z or KCI) and JCI-PC (interventional)."""

from __future__ import annotations

import numpy as np

from avici_core.baselines.graphs import cpdag_scores, from_endpoint_matrix
from avici_core.baselines.implementations import register
from avici_core.baselines.preprocess import regimes
from avici_core.prediction import MethodOutput

CL_PC = "causallearn.search.ConstraintBased.PC"


def _cpdag_output(cpdag: np.ndarray, **meta: object) -> MethodOutput:
    return MethodOutput(cpdag_scores(cpdag), cpdag, "cpdag", meta=dict(meta))


@register("pc", output_kind="cpdag", preload=(CL_PC,))
def pc(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    alpha: float = 0.05,
    ci_test: str = "fisherz",
    max_rows: int | None = None,
) -> MethodOutput:
    """PC-stable; ``ci_test="kci"`` is O(n^3) per test, so pair it with ``max_rows`` (e.g. 300)."""
    from causallearn.search.ConstraintBased.PC import pc as cl_pc

    rows = x  # [n, d]
    if max_rows is not None and x.shape[0] > max_rows:
        rows = x[np.sort(rng.choice(x.shape[0], size=max_rows, replace=False))]
    cg = cl_pc(rows, alpha, ci_test, stable=True, show_progress=False)
    return _cpdag_output(from_endpoint_matrix(cg.G.graph), n_rows_used=int(rows.shape[0]))


@register(
    "jci-pc",
    interventional=True,
    needs_interventions=True,
    output_kind="cpdag",
    preload=(CL_PC,),
)
def jci_pc(
    rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, *, alpha: float = 0.05
) -> MethodOutput:
    """PC on [X, one-hot regime indicators] with system -> context edges forbidden (JCI, baselines.md §4.10).

    The observational regime is the reference level, so one indicator per interventional regime.
    """
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.search.ConstraintBased.PC import pc as cl_pc
    from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

    d = x.shape[1]
    labels, targets = regimes(mask)
    if len(targets) < 2:  # the runner refuses such data before the call; this guards direct use
        raise ValueError("jci-pc needs interventional rows; the mask is all zero")
    context = np.stack([(labels == r).astype(float) for r in range(1, len(targets))], axis=1)
    z = np.hstack([x, context])  # [n, d + regimes - 1]
    names = [f"X{i + 1}" for i in range(z.shape[1])]
    bk = BackgroundKnowledge()
    for i in range(d):
        for k in range(d, z.shape[1]):
            bk.add_forbidden_by_node(GraphNode(names[i]), GraphNode(names[k]))
    cg = cl_pc(
        z,
        alpha,
        "fisherz",
        stable=True,
        background_knowledge=bk,
        node_names=names,
        show_progress=False,
    )
    return _cpdag_output(from_endpoint_matrix(cg.G.graph[:d, :d]), n_regimes=len(targets))
