"""``export-model``: a finished run -> one parameter set, its config and a model card."""

from __future__ import annotations

import json

import numpy as np
import pytest

from avici_core.model import checkpoint as ckpt
from avici_core.model import load_model
from avici_core.model.export import export_model, pick_params
from avici_core.model.train import TrainConfig, train
from tests.test_model_train import TINY_TRAIN


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    train(TrainConfig.from_dict({**TINY_TRAIN, "n_workers": 0}), run)
    return run


def test_pick_params_takes_the_higher_validation_auprc():
    val = {"step": 9, "val/d5/params/auprc": 0.4, "val/d5/ave/auprc": 0.5}
    assert pick_params(val) == "ave_params"
    assert pick_params({**val, "val/d5/ave/auprc": 0.3}) == "params"


def test_export_keeps_one_parameter_set_that_loads_and_predicts_the_same(finished_run, tmp_path):
    out = export_model(
        finished_run, tmp_path / "tiny-v0", name="tiny-v0", description="a test", command="cmd"
    )
    trees, meta = ckpt.load_checkpoint(out)
    assert set(trees) == {"params"}  # no optimizer state, no second copy
    chosen = meta["source"]
    source_trees, _ = ckpt.load_checkpoint(finished_run)
    for key, value in trees["params"].items():
        np.testing.assert_array_equal(value, source_trees[chosen][key])

    x = np.random.default_rng(0).normal(size=(40, 5))
    shipped = load_model(out)(x)
    original = load_model(finished_run, use_polyak=chosen == "ave_params")(x)
    np.testing.assert_allclose(shipped, original, atol=1e-6)

    card = (out / "README.md").read_text()
    assert "# tiny-v0" in card and "a test" in card and "cmd" in card
    assert ckpt.read_json(finished_run / "final.json")["hardware"] in card  # the run's, not ours
    assert f"{TINY_TRAIN['n_steps']:,} steps" in card and "lin-gauss" in card
    assert (
        json.loads((out / "config.json").read_text())["train"]["n_steps"] == TINY_TRAIN["n_steps"]
    )


def test_export_refuses_an_unfinished_run(finished_run, tmp_path):
    (tmp_path / "run").mkdir()
    for f in finished_run.iterdir():
        if f.name != "final.json":
            (tmp_path / "run" / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ValueError, match="not finished"):
        export_model(tmp_path / "run", tmp_path / "out", name="x", description="", command="")
