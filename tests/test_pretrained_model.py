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

CASES = [  # (domain, d, observational rows, interventional rows, seed)
    ("lin-gauss", 10, 500, 100, 0),
    ("lin-gauss-heterosked", 10, 500, 0, 1),
    ("rff-gauss", 10, 500, 100, 2),
    ("rff-gauss-heterosked", 15, 500, 0, 3),
    ("lin-laplace-cauchy", 15, 500, 100, 4),
]
# model -> AUROC floor per case, measured at export minus 0.05. avici-small-v1 (2026-11-25,
# 14,000 steps): 0.943, 0.645, 1.000, 0.800, 0.721; avici-small-v2 (2026-11-30, v1 + 11,025
# steps): 0.985, 0.756, 1.000, 0.836, 0.735; avici-small-v3 (2026-11-30, the v2 run at 22,451
# steps): 0.992, 0.814, 1.000, 0.817, 0.749; avici-small-v4 (2026-11-30, the same run at 35,001
# steps): 0.996, 0.901, 1.000, 0.815, 0.768; avici-small-v5 (2026-11-30, the same run at its end,
# 60,000 steps): 0.996, 0.930, 1.000, 0.932, 0.811; avici-small-v6 (2026-11-30, v5 fine-tuned on
# normal scores for 22,000 steps): 1.000, 0.910, 1.000, 0.910, 0.908; avici-small-v7 (2026-11-30,
# v6 trained 26,000 more steps on normal scores): 1.000, 0.898, 1.000, 0.908, 0.928; avici-small-v8
# (2026-12-01, v7 trained 45,000 more steps on normal scores): 1.000, 0.887, 1.000, 0.935, 0.918;
# avici-small-v9 (2026-12-01, v8 trained 7,000 more steps on 192 + 64 rows per dataset): 1.000,
# 0.968, 1.000, 0.931, 0.929; avici-small-v10 (2026-12-01, v9 with a pair-statistics head, 8,000
# more steps): 1.000, 0.968, 1.000, 0.946, 0.951.
FLOORS = {
    "avici-small-v1": [0.89, 0.59, 0.95, 0.75, 0.67],
    "avici-small-v2": [0.93, 0.70, 0.95, 0.78, 0.68],
    "avici-small-v3": [0.94, 0.76, 0.95, 0.76, 0.69],
    "avici-small-v4": [0.94, 0.85, 0.95, 0.76, 0.71],
    "avici-small-v5": [0.94, 0.88, 0.95, 0.88, 0.76],
    "avici-small-v6": [0.95, 0.86, 0.95, 0.86, 0.85],
    "avici-small-v7": [0.95, 0.84, 0.95, 0.85, 0.87],
    "avici-small-v8": [0.95, 0.83, 0.95, 0.88, 0.86],
    "avici-small-v9": [0.95, 0.91, 0.95, 0.88, 0.87],
    "avici-small-v10": [0.95, 0.91, 0.95, 0.89, 0.90],
}


@pytest.fixture(scope="module", params=sorted(FLOORS))
def shipped(request):
    return request.param, load_model(request.param)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_ships_small_and_without_pickle(name):
    files = list((MODELS_DIR / name).iterdir())
    assert sum(f.stat().st_size for f in files) < 20e6
    assert {f.suffix for f in files} <= {".json", ".npz", ".md"}


@pytest.mark.parametrize("k", range(len(CASES)), ids=lambda k: f"{CASES[k][0]}-d{CASES[k][1]}")
def test_auroc_stays_above_its_floor(shipped, k):
    name, model = shipped
    domain, d, n, n_interv, seed = CASES[k]
    floor = FLOORS[name][k]
    g, x, interv = simulate_data(d=d, n=n, n_interv=n_interv, domain=domain, seed=seed)
    probs = model(x, interv=interv)
    off_diagonal = ~np.eye(d, dtype=bool)
    auroc = roc_auc_score(g[off_diagonal], probs[off_diagonal])
    assert auroc >= floor, f"{name} on {domain}: AUROC {auroc:.3f} below the floor {floor}"
