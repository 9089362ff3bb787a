"""Reference methods that any real method should beat: empty, random, sort-and-regress, |pcorr|.

Var-sort and R^2-sort (Reisach et al.'s sortability checks) expose how much of a benchmark can be
solved from marginal scales or predictability alone.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.linear_model import LassoLarsIC, LinearRegression

from avici_core.baselines.graphs import weighted_graph
from avici_core.baselines.implementations import register
from avici_core.data.standardize import zscore
from avici_core.prediction import MethodOutput


@register("empty", output_kind="probs")
def empty(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> MethodOutput:
    """All-zero edge probabilities (the metrics' "no predicted edges" edge cases apply)."""
    d = x.shape[1]
    return MethodOutput(np.zeros((d, d)), np.zeros((d, d), np.int8), "probs", has_probs=True)


@register("random", context=("n_edges",), output_kind="probs")
def random_dag(
    rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, *, n_edges: int
) -> MethodOutput:
    """A uniformly random DAG with exactly ``n_edges`` edges (the true count, from the caller)."""
    d = x.shape[1]
    upper = np.flatnonzero(np.triu(np.ones((d, d), bool), k=1))
    if not 0 <= n_edges <= upper.size:
        raise ValueError(
            f"n_edges={n_edges} is impossible for a DAG on {d} nodes (max {upper.size})"
        )
    a = np.zeros(d * d, np.int8)
    a[rng.choice(upper, size=n_edges, replace=False)] = 1
    perm = rng.permutation(d)
    graph = a.reshape(d, d)[np.ix_(perm, perm)]
    return MethodOutput(graph.astype(np.float64), graph, "probs", has_probs=True)


def _sort_and_regress(z: np.ndarray, order: np.ndarray) -> MethodOutput:
    """Regress each node on all nodes earlier in ``order`` with BIC-tuned lasso; |coef| are scores."""
    d = z.shape[1]
    w = np.zeros((d, d))
    for pos in range(1, d):
        child, parents = order[pos], order[:pos]
        coef = LassoLarsIC(criterion="bic").fit(z[:, parents], z[:, child]).coef_
        w[parents, child] = coef
    scores, graph = weighted_graph(w, threshold=0.0)
    return MethodOutput(scores, graph, "weighted", meta={"order": order.tolist()})


@register("var-sort", standardize=False, output_kind="weighted")
def var_sort(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> MethodOutput:
    """Order by raw marginal variance (ascending); needs raw data, since z-scoring erases it."""
    return _sort_and_regress(zscore(x), np.argsort(np.var(x, axis=0), kind="stable"))


def _r2_per_node(z: np.ndarray) -> np.ndarray:
    """R^2 of each variable regressed on all others (scale invariant)."""
    d = z.shape[1]
    others = [np.delete(np.arange(d), j) for j in range(d)]
    return np.array(
        [
            LinearRegression().fit(z[:, o], z[:, j]).score(z[:, o], z[:, j])
            for j, o in enumerate(others)
        ]
    )


@register("r2-sort", output_kind="weighted")
def r2_sort(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> MethodOutput:
    """Order by R^2 (ascending): in many simulated SCMs predictability grows along the causal order."""
    return _sort_and_regress(x, np.argsort(_r2_per_node(x), kind="stable"))


@register("partial-correlation", output_kind="weighted")
def partial_correlation(
    rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, *, alpha: float = 0.05
) -> MethodOutput:
    """Scores |partial correlation given all others| (symmetric); graph: Fisher-z test at ``alpha``."""
    n, d = x.shape
    precision = np.linalg.pinv(np.cov(x, rowvar=False))  # [d, d]
    scale = np.sqrt(np.outer(np.diag(precision), np.diag(precision)))
    pcorr = np.clip(-precision / scale, -1 + 1e-12, 1 - 1e-12)
    np.fill_diagonal(pcorr, 0.0)
    dof = max(n - (d - 2) - 3, 1)
    pvalue = 2 * stats.norm.sf(np.abs(np.arctanh(pcorr)) * np.sqrt(dof))
    scores = np.abs(pcorr)
    graph = (pvalue < alpha).astype(np.int8)
    np.fill_diagonal(graph, 0)
    return MethodOutput(scores, graph, "weighted")
