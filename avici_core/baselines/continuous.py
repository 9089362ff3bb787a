"""Continuous-optimisation methods: DAGMA-linear (the NOTEARS-family representative)."""

from __future__ import annotations

import numpy as np

from avici_core.baselines.graphs import weighted_graph
from avici_core.baselines.implementations import register
from avici_core.prediction import MethodOutput


@register("dagma-linear", output_kind="weighted", preload=("dagma.linear",))
def dagma_linear(
    rng: np.random.Generator,
    x: np.ndarray,
    mask: np.ndarray,
    *,
    lambda1: float = 0.02,
    w_threshold: float = 0.3,
    loss_type: str = "l2",
) -> MethodOutput:
    """Scores are the unthresholded ``|W|``; the graph keeps ``|W| > w_threshold`` (baselines.md §4.4)."""
    from dagma.linear import DagmaLinear

    w = DagmaLinear(loss_type=loss_type).fit(x, lambda1=lambda1, w_threshold=0.0)  # [d, d]
    scores, graph = weighted_graph(w, threshold=w_threshold)
    return MethodOutput(scores, graph, "weighted")
