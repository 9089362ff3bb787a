"""Bayesian structure learning: DiBS (optional; dibs-lib is not installed by default)."""

from __future__ import annotations

import importlib.util

import numpy as np

from avici_core.baselines.implementations import register
from avici_core.prediction import MethodOutput


def require(module: str, install_hint: str) -> None:
    """Raise a clear 'package not installed' error, recorded as the method's failed status."""
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"package not installed: {module} ({install_hint})")


@register("dibs", interventional=True, output_kind="probs")
def dibs(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    n_particles: int = 10,
    steps: int = 3000,
    edges_per_node: float = 2.0,
) -> MethodOutput:
    """Marginal DiBS with the BGe score; edge probabilities are particle frequencies (baselines.md §4.9)."""
    require("dibs", "pip install --no-deps dibs-lib==1.3.3")
    import jax
    from dibs.inference import MarginalDiBS
    from dibs.models import BGe, ErdosReniDAGDistribution

    d = x.shape[1]
    model = MarginalDiBS(
        x=x,
        interv_mask=mask if mask.any() else None,
        graph_model=ErdosReniDAGDistribution(d, n_edges_per_node=edges_per_node),
        likelihood_model=BGe(n_vars=d),
    )
    key = jax.random.PRNGKey(int(rng.integers(2**31 - 1)))
    particles = np.asarray(model.sample(key=key, n_particles=n_particles, steps=steps))  # [P, d, d]
    probs = particles.mean(axis=0)
    return MethodOutput(probs, (probs > 0.5).astype(np.int8), "probs", has_probs=True)
