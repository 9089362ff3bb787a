"""Every default method recovers the Markov equivalence class of a small linear-Gaussian SCM.

Graph: collider 0 -> 2 <- 1 followed by the chain 2 -> 3 -> 4. Its CPDAG is fully directed (the
v-structure plus Meek's rule 1), so recovering the MEC means recovering exactly this graph.
DAG and weighted outputs are compared through their CPDAG (causaldag); CPDAG outputs directly.
Interventional methods run in the interventional setting (single-node perfect interventions).

Two default methods cannot recover it from z-scored Gaussian data, by theory rather than by bug:
DirectLiNGAM needs non-Gaussian noise (it gets uniform noise here, its identifiable model), and
DAGMA-linear relies on the raw scales (varsortability, baselines.md §4.4): on z-scored data it is
a strict xfail, and its wrapper is checked on raw data instead.
"""

from __future__ import annotations

import causaldag as cd
import numpy as np
import pytest

from avici_core.baselines import run
from avici_core.baselines.registry import DEFAULT_PATH, load_methods

TRUTH = np.zeros((5, 5), np.int8)
TRUTH[0, 2] = TRUTH[1, 2] = TRUTH[2, 3] = TRUTH[3, 4] = 1
WEIGHTS = TRUTH * np.array([1.0, -1.2, 0.9, 1.1, 0.8])[:, None]  # [d, d], parent-row
# References meant to be beaten, and AVICI (needs a trained model; tested with the model).
NOT_STRUCTURE_LEARNERS = {"empty", "random", "var-sort", "r2-sort", "partial-correlation", "avici"}


NON_GAUSSIAN = {"direct-lingam"}
SCALE_DEPENDENT = {"dagma-linear"}


def noise(rng: np.random.Generator, n: int, gaussian: bool) -> np.ndarray:
    """Unit-variance noise: Gaussian, or uniform on [-sqrt(3), sqrt(3)]."""
    return rng.normal(size=n) if gaussian else rng.uniform(-np.sqrt(3), np.sqrt(3), size=n)


def sample(
    rng: np.random.Generator, n: int, target: int | None = None, *, gaussian: bool = True
) -> np.ndarray:
    """Linear rows in topological order; ``target`` is set to N(2, 1) (perfect intervention)."""
    x = np.zeros((n, 5))
    for j in range(5):
        x[:, j] = x @ WEIGHTS[:, j] + noise(rng, n, gaussian)
        if j == target:
            x[:, j] = rng.normal(2.0, 1.0, size=n)
    return x


def setting_data(interventional: bool, gaussian: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = sample(rng, 5000, gaussian=gaussian)
    mask = np.zeros_like(x, dtype=np.int8)
    if not interventional:
        return x, mask
    blocks, masks = [x[:3000]], [mask[:3000]]
    for target in range(5):  # 5 x 400 interventional rows
        blocks.append(sample(rng, 400, target))
        m = np.zeros((400, 5), np.int8)
        m[:, target] = 1
        masks.append(m)
    return np.concatenate(blocks), np.concatenate(masks)


def cpdag_of(graph: np.ndarray, kind: str) -> np.ndarray:
    if kind == "cpdag":
        return (graph != 0).astype(int)
    amat, _ = cd.DAG.from_amat((graph != 0).astype(int)).cpdag().to_amat()
    return np.asarray(amat)


DEFAULT = {
    spec.id: spec
    for spec in load_methods(DEFAULT_PATH).values()
    if spec.default and spec.implementation not in NOT_STRUCTURE_LEARNERS
}


def marks(method_id: str) -> list[pytest.MarkDecorator]:
    if DEFAULT[method_id].implementation in SCALE_DEPENDENT:
        return [pytest.mark.xfail(strict=True, reason="scale-dependent; z-scored input (§4.4)")]
    return []


@pytest.mark.parametrize("method_id", [pytest.param(m, marks=marks(m)) for m in sorted(DEFAULT)])
def test_default_method_recovers_the_mec(method_id):
    spec = DEFAULT[method_id]
    interventional = "obs" not in spec.settings
    x, mask = setting_data(interventional, gaussian=spec.implementation not in NON_GAUSSIAN)
    pred = run(spec.implementation, x, mask, spec.hparams, 0, timeout_s=300, truth=TRUTH)
    assert pred.status == "ok", pred.message
    expected = cpdag_of(TRUTH, "dag")
    np.testing.assert_array_equal(expected, TRUTH)  # the MEC here is a single DAG
    np.testing.assert_array_equal(cpdag_of(pred.graph, pred.kind), expected, err_msg=method_id)


def test_dagma_wrapper_recovers_the_graph_on_raw_data():
    from avici_core.baselines.continuous import dagma_linear

    x, mask = setting_data(False)
    out = dagma_linear(np.random.default_rng(0), x, mask)
    np.testing.assert_array_equal(out.graph, TRUTH)
