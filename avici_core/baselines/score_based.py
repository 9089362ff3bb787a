"""Score-based searches with the Gaussian BIC: GES, GRaSP, BOSS (causal-learn), FLOP, GIES."""

from __future__ import annotations

import numpy as np

from avici_core.baselines.constraint import _cpdag_output
from avici_core.baselines.graphs import from_endpoint_matrix
from avici_core.baselines.implementations import register
from avici_core.baselines.preprocess import regimes
from avici_core.prediction import MethodOutput


@register("ges", output_kind="cpdag", preload=("causallearn.search.ScoreBased.GES",))
def ges(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> MethodOutput:
    from causallearn.search.ScoreBased.GES import ges as cl_ges

    record = cl_ges(x, score_func="local_score_BIC")
    return _cpdag_output(from_endpoint_matrix(record["G"].graph))


@register("grasp", output_kind="cpdag", preload=("causallearn.search.PermutationBased.GRaSP",))
def grasp(
    rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, *, depth: int = 3
) -> MethodOutput:
    """Uses Python's ``random``; the runner seeds it from the method seed."""
    from causallearn.search.PermutationBased.GRaSP import grasp as cl_grasp

    g = cl_grasp(x, score_func="local_score_BIC_from_cov", depth=depth, verbose=False)
    return _cpdag_output(from_endpoint_matrix(g.graph))


@register("boss", output_kind="cpdag", preload=("causallearn.search.PermutationBased.BOSS",))
def boss(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> MethodOutput:
    from causallearn.search.PermutationBased.BOSS import boss as cl_boss

    g = cl_boss(x, score_func="local_score_BIC_from_cov", verbose=False)
    return _cpdag_output(from_endpoint_matrix(g.graph))


@register("flop", output_kind="cpdag", preload=("flopsearch",))
def flop(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    lambda_bic: float = 2.0,
    restarts: int = 20,
) -> MethodOutput:
    """flopsearch has no seed argument; repeated runs can differ on hard (nonlinear) data."""
    import flopsearch

    m = np.asarray(flopsearch.flop(np.ascontiguousarray(x), lambda_bic, restarts=restarts))
    return _cpdag_output((m != 0).astype(np.int8))


@register("gies", interventional=True, output_kind="cpdag", preload=("gies",))
def gies(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> MethodOutput:
    """One environment per distinct target set, known targets (the paper's GaussL0penIntScore)."""
    import gies as gies_pkg

    labels, targets = regimes(mask)
    present = [r for r in range(len(targets)) if (labels == r).any()]
    data = [x[labels == r] for r in present]  # list of [n_e, d]
    interventions = [list(targets[r]) for r in present]
    cpdag, _ = gies_pkg.fit_bic(data, interventions)
    return _cpdag_output((np.asarray(cpdag) != 0).astype(np.int8), n_environments=len(present))
