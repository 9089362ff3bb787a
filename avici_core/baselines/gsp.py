"""Permutation-based CI methods from causaldag: GSP, IGSP (known targets), UT-IGSP.

causaldag draws from Python's ``random`` and NumPy's global state; the runner seeds both.
"""

from __future__ import annotations

import numpy as np

from avici_core.baselines.graphs import from_arcs
from avici_core.baselines.implementations import register
from avici_core.baselines.preprocess import regimes
from avici_core.prediction import MethodOutput


def _dag_output(d: int, dag: object, **meta: object) -> MethodOutput:
    graph = from_arcs(d, dag.arcs)
    return MethodOutput(graph.astype(np.float64), graph, "dag", meta=dict(meta))


def _testers(x: np.ndarray, mask: np.ndarray, alpha: float, alpha_inv: float):
    """CI tester on the observational rows and invariance tester across interventional regimes."""
    import causaldag as cd

    labels, targets = regimes(mask)
    if not (labels == 0).any():
        raise ValueError("IGSP needs observational rows (mask all zero) as its reference regime")
    obs = x[labels == 0]  # [n_0, d]
    present = [r for r in range(1, len(targets)) if (labels == r).any()]
    contexts = [x[labels == r] for r in present]
    ci = cd.MemoizedCI_Tester(
        cd.partial_correlation_test, cd.partial_correlation_suffstat(obs), alpha=alpha
    )
    inv = cd.MemoizedInvarianceTester(
        cd.gauss_invariance_test, cd.gauss_invariance_suffstat(obs, contexts), alpha=alpha_inv
    )
    return ci, inv, [targets[r] for r in present]


@register("gsp", preload=("causaldag",))
def gsp(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    alpha: float = 1e-3,
    nruns: int = 5,
) -> MethodOutput:
    import causaldag as cd

    d = x.shape[1]
    ci = cd.MemoizedCI_Tester(
        cd.partial_correlation_test, cd.partial_correlation_suffstat(x), alpha=alpha
    )
    dag = cd.gsp(set(range(d)), ci, nruns=nruns)
    return _dag_output(d, dag)


@register("igsp", interventional=True, preload=("causaldag",))
def igsp(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    alpha: float = 1e-3,
    alpha_inv: float = 1e-3,
    nruns: int = 5,
) -> MethodOutput:
    import causaldag as cd

    d = x.shape[1]
    ci, inv, targets = _testers(x, mask, alpha, alpha_inv)
    settings = [dict(interventions=list(t)) for t in targets]
    dag = cd.igsp(settings, set(range(d)), ci, inv, nruns=nruns)
    return _dag_output(d, dag)


@register("ut-igsp", interventional=True, preload=("causaldag",))
def ut_igsp(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    alpha: float = 1e-3,
    alpha_inv: float = 1e-3,
    nruns: int = 5,
) -> MethodOutput:
    """Targets unknown to the method; its estimated target sets are kept in ``meta``."""
    import causaldag as cd

    d = x.shape[1]
    ci, inv, targets = _testers(x, mask, alpha, alpha_inv)
    settings = [dict(known_interventions=[]) for _ in targets]
    dag, est = cd.unknown_target_igsp(settings, set(range(d)), ci, inv, nruns=nruns)
    return _dag_output(d, dag, estimated_targets=[sorted(int(v) for v in s) for s in est])
