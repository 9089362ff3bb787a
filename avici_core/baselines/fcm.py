"""Functional-causal-model methods: DirectLiNGAM (lingam)."""

from __future__ import annotations

import numpy as np

from avici_core.baselines.graphs import weighted_graph
from avici_core.baselines.implementations import register
from avici_core.prediction import MethodOutput


@register("direct-lingam", output_kind="weighted", preload=("lingam",))
def direct_lingam(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray) -> MethodOutput:
    """Scores ``|W|``; the graph is lingam's pruned (adaptive-lasso) support. lingam is child-row."""
    import lingam

    model = lingam.DirectLiNGAM(random_state=int(rng.integers(2**31 - 1))).fit(x)
    scores, graph = weighted_graph(np.asarray(model.adjacency_matrix_).T, threshold=0.0)
    return MethodOutput(scores, graph, "weighted")
