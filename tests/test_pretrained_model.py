"""The shipped model: loads by name, offline, and keeps its accuracy on five fixed datasets.

The floors are the AUROCs measured when the model was exported, minus 0.05: a retrained or
re-exported model that loses accuracy, or a change to the network or the standardization that
silently alters its outputs, fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from avici_core import simulate_data
from avici_core.model import load_model
from avici_core.model.api import MODELS_DIR

NAME = "avici-small-v1"
# (domain, d, observational rows, interventional rows, seed) -> AUROC floor; measured at export
# (2026-11-25, 14,000 steps): 0.943, 0.645, 1.000, 0.800, 0.721
FLOORS = {
    ("lin-gauss", 10, 500, 100, 0): 0.89,
    ("lin-gauss-heterosked", 10, 500, 0, 1): 0.59,
    ("rff-gauss", 10, 500, 100, 2): 0.95,
    ("rff-gauss-heterosked", 15, 500, 0, 3): 0.75,
    ("lin-laplace-cauchy", 15, 500, 100, 4): 0.67,
}


@pytest.fixture(scope="module")
def model():
    return load_model(NAME)


def test_ships_small_and_without_pickle():
    files = list((MODELS_DIR / NAME).iterdir())
    assert sum(f.stat().st_size for f in files) < 20e6
    assert {f.suffix for f in files} <= {".json", ".npz", ".md"}


@pytest.mark.parametrize("case", list(FLOORS), ids=lambda c: f"{c[0]}-d{c[1]}")
def test_auroc_stays_above_its_floor(model, case):
    domain, d, n, n_interv, seed = case
    g, x, interv = simulate_data(d=d, n=n, n_interv=n_interv, domain=domain, seed=seed)
    probs = model(x, interv=interv)
    off_diagonal = ~np.eye(d, dtype=bool)
    auroc = roc_auc_score(g[off_diagonal], probs[off_diagonal])
    assert auroc >= FLOORS[case], f"{domain}: AUROC {auroc:.3f} below the floor {FLOORS[case]}"
