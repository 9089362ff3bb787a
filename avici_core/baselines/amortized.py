"""AVICI as a method: a trained model's edge probabilities (it standardizes inside its forward pass)."""

from __future__ import annotations

import numpy as np

from avici_core.baselines.implementations import register
from avici_core.baselines.prediction import MethodOutput


@register("avici", interventional=True, standardize=False, output_kind="probs")
def avici(
    rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, *, model: str
) -> MethodOutput:
    """``model`` is a model directory or registered name for ``avici_core.model.load_model``."""
    from avici_core.model import load_model

    probs = np.asarray(load_model(model)(x, interv=mask), dtype=np.float64)  # [d, d]
    d = x.shape[1]
    if probs.shape != (d, d):
        raise ValueError(f"model {model!r} returned shape {probs.shape}, expected {(d, d)}")
    return MethodOutput(probs, (probs > 0.5).astype(np.int8), "probs", has_probs=True)
