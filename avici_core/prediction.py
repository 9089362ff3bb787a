"""The prediction record every method returns and its ``.npz`` file (no pickle).

Shapes with d variables:
  scores  [d, d] float64  edge probabilities or edge scores (NaN-free); scores[i, j] is i -> j
  graph   [d, d] int8     hard graph; an undirected CPDAG edge i - j is graph[i, j] = graph[j, i] = 1
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from avici_core.io import write_npz

KINDS = ("dag", "cpdag", "weighted", "probs")
STATUSES = ("ok", "failed", "timeout")


@dataclasses.dataclass(frozen=True)
class MethodOutput:
    """What a wrapper function returns: the method's own result before timing and status."""

    scores: np.ndarray  # [d, d]
    graph: np.ndarray  # [d, d]
    kind: str
    has_probs: bool = False
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One method's result on one dataset, as written to ``results/predictions/...npz``."""

    scores: np.ndarray  # [d, d]
    graph: np.ndarray  # [d, d]
    kind: str
    has_probs: bool
    status: str
    message: str = ""
    walltime_s: float = float("nan")
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"prediction kind {self.kind!r} is not one of {KINDS}")
        if self.status not in STATUSES:
            raise ValueError(f"prediction status {self.status!r} is not one of {STATUSES}")
        d = self.scores.shape[0]
        if self.scores.shape != (d, d) or self.graph.shape != (d, d):
            raise ValueError(
                f"scores {self.scores.shape} and graph {self.graph.shape} must both be [d, d]"
            )
        if not np.isfinite(self.scores).all():
            raise ValueError("prediction scores contain NaN/inf; methods must return finite scores")


def from_output(out: MethodOutput, walltime_s: float, meta: dict[str, Any]) -> Prediction:
    """An ``ok`` prediction from a method's output, with the graph cast to 0/1 int8."""
    return Prediction(
        scores=np.asarray(out.scores, dtype=np.float64),
        graph=(np.asarray(out.graph) != 0).astype(np.int8),
        kind=out.kind,
        has_probs=bool(out.has_probs),
        status="ok",
        walltime_s=float(walltime_s),
        meta={**meta, **out.meta},
    )


def failed_prediction(
    d: int, status: str, message: str, walltime_s: float, meta: dict[str, Any]
) -> Prediction:
    """Zero matrices with a failure status, so downstream rules still find a file to score."""
    return Prediction(
        scores=np.zeros((d, d)),
        graph=np.zeros((d, d), np.int8),
        kind="dag",
        has_probs=False,
        status=status,
        message=message,
        walltime_s=float(walltime_s),
        meta=meta,
    )


def save_prediction(path: str | os.PathLike, pred: Prediction) -> None:
    """Write atomically (temp file + rename) so an interrupted job never leaves a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "scores": np.asarray(pred.scores, np.float64),
        "graph": np.asarray(pred.graph, np.int8),
        "kind": np.asarray(pred.kind),
        "has_probs": np.asarray(bool(pred.has_probs)),
        "status": np.asarray(pred.status),
        "message": np.asarray(pred.message),
        "walltime_s": np.asarray(float(pred.walltime_s)),
        "meta": np.asarray(json.dumps(pred.meta, sort_keys=True, default=str)),
    }
    write_npz(path, arrays, compress=True)


def load_prediction(path: str | os.PathLike) -> Prediction:
    with np.load(path, allow_pickle=False) as f:
        missing = [
            k for k in ("scores", "graph", "kind", "has_probs", "status") if k not in f.files
        ]
        if missing:
            raise ValueError(f"{path}: not a prediction file, missing arrays {missing}")
        return Prediction(
            scores=f["scores"],
            graph=f["graph"],
            kind=str(f["kind"]),
            has_probs=bool(f["has_probs"]),
            status=str(f["status"]),
            message=str(f["message"]) if "message" in f.files else "",
            walltime_s=float(f["walltime_s"]) if "walltime_s" in f.files else float("nan"),
            meta=json.loads(str(f["meta"])) if "meta" in f.files else {},
        )
