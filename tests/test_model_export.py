"""``export-model``: a finished run -> one parameter set, its config and a model card."""

from __future__ import annotations

import json

import numpy as np
import pytest

from avici_core.model import checkpoint as ckpt
from avici_core.model import load_model
from avici_core.model.export import export_model, learning_curve, pick_params
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


def test_learning_curve_lists_every_validation_in_order():
    records = [
        {"step": 1000, "val/d20/params/auroc": 0.7, "val/d20/params/auprc": 0.2,
         "val/d20/ave/auroc": 0.6, "val/d20/ave/auprc": 0.1},
        {"step": 2000, "val/d5/params/auroc": 0.9, "val/d20/params/auroc": 0.8},
    ]  # fmt: skip
    assert learning_curve(records).splitlines() == [
        "| 1,000 | 20 | 0.700 | 0.200 | 0.600 | 0.100 |",
        "| 2,000 | 5 | 0.900 | nan | nan | nan |",
        "| 2,000 | 20 | 0.800 | nan | nan | nan |",
    ]


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
    assert "Input: each column's z-score, as in the paper." in card
    evals = range(TINY_TRAIN["eval_every"], TINY_TRAIN["n_steps"] + 1, TINY_TRAIN["eval_every"])
    assert all(f"| {step} | 5 | " in card for step in evals)  # the curve, every validation
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


def test_the_cards_commands_reproduce_a_run_exported_from_another_directory(finished_run, tmp_path):
    """``--run DIR``: the card's train command writes that directory and its export command reads
    it back, so a model exported under a new id from an older run's directory is reproducible."""
    from avici_core.model.export import main

    registry = tmp_path / "models.yaml"
    registry.write_text("models:\n  tiny-v1:\n    description: the run at a later step\n")
    out = tmp_path / "tiny-v1"
    assert (
        main(
            ["tiny-v1", "--registry", str(registry), "--run", str(finished_run), "--out", str(out)]
        )
        == 0
    )
    step = ckpt.read_json(finished_run / "final.json")["step"]
    card = (out / "README.md").read_text()
    assert f"--model tiny-v1 --out {finished_run} --steps {step}\n" in card
    assert f"python -m avici_core export-model tiny-v1 --run {finished_run}\n" in card
