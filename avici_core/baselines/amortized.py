"""AVICI as a method: a trained model's edge probabilities (it standardizes inside its forward pass)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avici_core.baselines.implementations import register
from avici_core.baselines.prediction import MethodOutput

WORKFLOW_MODELS = Path("results/models")  # where the workflow's train_model rule writes models


def resolve_model(model: str) -> str:
    """A directory as given, else a model id trained by the workflow, else a name for load_model."""
    for candidate in (Path(model), WORKFLOW_MODELS / model):
        if candidate.is_dir():
            return str(candidate)
    return model


@register(
    "avici",
    interventional=True,
    standardize=False,
    output_kind="probs",
    preload=("avici_core.model",),
)
def avici(rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, *, model: str) -> MethodOutput:
    """``model``: a model directory, a model id under ``results/models/`` or a name for ``load_model``."""
    from avici_core.model import load_model

    probs = np.asarray(load_model(resolve_model(model))(x, interv=mask), dtype=np.float64)  # [d, d]
    d = x.shape[1]
    if probs.shape != (d, d):
        raise ValueError(f"model {model!r} returned shape {probs.shape}, expected {(d, d)}")
    return MethodOutput(probs, (probs > 0.5).astype(np.int8), "probs", has_probs=True)
