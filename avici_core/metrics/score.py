"""Score one prediction against the true graph into long-form rows.

Hard-graph metrics use the prediction's graph, expanded by the seeded semi-oracle when it is a
CPDAG. Ranking metrics (AUROC/AUPRC/AP) use the scores of every kind (|W|, 1/0.5 CPDAG scores or
probabilities: all are valid rankings); ECE, Brier and the row + column share of the logit
variance (``rowcol``: near 1, a model that only ranks variables as causes or effects) only apply
to probabilities (``has_probs``) and are NaN with status ``n/a`` otherwise. Failed/timed-out
predictions give NaN for every metric with their status, so tables can mark them.
"""

from __future__ import annotations

import numpy as np

from avici_core.metrics.cpdag import orient_cpdag_oracle
from avici_core.metrics.graph_metrics import (
    ancestor_aid,
    is_cyclic,
    n_edges,
    precision_recall_f1,
    shd,
    sid,
)
from avici_core.metrics.prob_metrics import (
    brier,
    ece,
    probability_row_column_share,
    ranking_metrics,
)
from avici_core.prediction import Prediction

GRAPH_METRICS = ("shd", "sid", "ancestor_aid", "precision", "recall", "f1", "cyclic", "edges")
RANKING_METRICS = ("auroc", "auprc", "ap")
PROB_METRICS = ("ece", "brier", "rowcol")
METRICS = (*GRAPH_METRICS, *RANKING_METRICS, *PROB_METRICS, "walltime_s")
ROW_COLUMNS = ("domain", "setting", "method", "seed", "metric", "value", "status")


def hard_graph(rng: np.random.Generator, pred: Prediction, truth: np.ndarray) -> np.ndarray:
    """The directed graph metrics see: CPDAGs through the semi-oracle, others as predicted."""
    if pred.kind == "cpdag":
        return orient_cpdag_oracle(rng, pred.graph, truth)
    return (np.asarray(pred.graph) != 0).astype(np.int8)


def score_prediction(
    rng: np.random.Generator, pred: Prediction, truth: np.ndarray
) -> dict[str, tuple[float, str]]:
    """metric -> (value, status) for every name in ``METRICS``."""
    truth = np.asarray(truth)
    if pred.scores.shape != truth.shape:
        raise ValueError(f"prediction is {pred.scores.shape} but the true graph is {truth.shape}")
    if pred.status != "ok":
        return {m: (float("nan"), pred.status) for m in METRICS}
    g = hard_graph(rng, pred, truth)  # [d, d]
    precision, recall, f1 = precision_recall_f1(truth, g)
    values = {
        "shd": float(shd(truth, g)),
        "sid": sid(truth, g),
        "ancestor_aid": ancestor_aid(truth, g),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "cyclic": float(is_cyclic(g)),
        "edges": float(n_edges(g)),
        **ranking_metrics(truth, pred.scores),
        "walltime_s": float(pred.walltime_s),
    }
    out = {m: (v, "ok") for m, v in values.items()}
    for m in PROB_METRICS:
        out[m] = (float("nan"), "n/a")
    if pred.has_probs:
        out["ece"] = (ece(truth, pred.scores), "ok")
        out["brier"] = (brier(truth, pred.scores), "ok")
        share = probability_row_column_share(pred.scores)  # NaN for constant scores or d < 3
        out["rowcol"] = (share, "ok" if np.isfinite(share) else "n/a")
    return {m: out[m] for m in METRICS}


def metric_rows(
    scored: dict[str, tuple[float, str]], *, domain: str, setting: str, method: str, seed: int
) -> list[dict[str, object]]:
    """One long-form row per metric with the columns ``ROW_COLUMNS``."""
    return [
        dict(
            domain=domain,
            setting=setting,
            method=method,
            seed=int(seed),
            metric=m,
            value=v,
            status=s,
        )
        for m, (v, s) in scored.items()
    ]
