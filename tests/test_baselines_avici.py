"""AVICI as a method: the ``avici`` implementation on a tiny (untrained) checkpoint."""

from __future__ import annotations

import numpy as np

from avici_core.baselines import run


def test_avici_method_returns_probabilities(tiny_model_dir):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)) * 3 + 1  # raw: AVICI standardizes inside its forward pass
    mask = np.zeros((60, 4), np.int8)
    mask[40:, 2] = 1
    pred = run("avici", x, mask, {"model": str(tiny_model_dir)}, 0, timeout_s=300, threads=1)
    assert pred.status == "ok", pred.message
    assert pred.kind == "probs" and pred.has_probs and pred.scores.shape == (4, 4)
    assert ((pred.scores >= 0) & (pred.scores <= 1)).all()
    np.testing.assert_array_equal(pred.graph, (pred.scores > 0.5).astype(np.int8))


def test_avici_method_missing_model_is_a_failed_status(tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 3))
    pred = run("avici", x, None, {"model": str(tmp_path / "none")}, 0, timeout_s=300)
    assert pred.status == "failed" and "no model" in pred.message


def test_shipped_model_is_read_from_models_not_from_a_trained_run(tmp_path, monkeypatch):
    from avici_core.model import load_model

    # a workflow-trained run of the same id must not shadow the shipped model
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "models" / "avici-small-v1").mkdir(parents=True)
    x = np.random.default_rng(0).normal(size=(50, 5))
    hparams = {"model": "avici-small-v1", "shipped": True}
    pred = run("avici", x, None, hparams, 0, timeout_s=300, threads=1)
    assert pred.status == "ok", pred.message
    np.testing.assert_allclose(pred.scores, load_model("avici-small-v1")(x), atol=1e-6)
