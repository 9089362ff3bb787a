"""Structure-learning metrics (avici.md §4) and long-form scoring of prediction files."""

from avici_core.metrics.cpdag import orient_cpdag_oracle
from avici_core.metrics.graph_metrics import (
    ancestor_aid,
    is_cyclic,
    n_edges,
    precision_recall_f1,
    shd,
    sid,
)
from avici_core.metrics.prob_metrics import brier, ece, ranking_metrics
from avici_core.metrics.score import METRICS, metric_rows, score_prediction

__all__ = [
    "METRICS",
    "ancestor_aid",
    "brier",
    "ece",
    "is_cyclic",
    "metric_rows",
    "n_edges",
    "orient_cpdag_oracle",
    "precision_recall_f1",
    "ranking_metrics",
    "score_prediction",
    "shd",
    "sid",
]
