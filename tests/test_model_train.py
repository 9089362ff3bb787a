"""Training, checkpoints (ours and the original layout), and the train/infer CLIs."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
import optax
import pytest
import yaml

from avici_core.data import Dataset, save_dataset
from avici_core.model import ModelConfig, load_model
from avici_core.model import checkpoint as ckpt
from avici_core.model.cli_train import read_train_config
from avici_core.model.network import make_network
from avici_core.model.official import RestrictedUnpickler, restricted_load
from avici_core.model.train import (
    TrainConfig,
    Trainer,
    batch_size_per_device,
    curriculum,
    edge_metrics,
    make_optimizer,
    train,
)

TINY_TRAIN = {
    "domains": ["lin-gauss"],
    "n_vars": [5],  # one d: each d compiles its own train step (about 10 s here)
    "n_steps": 6,
    "batch_size_unit": 12,
    "dim": 16,
    "layers": 1,
    "num_heads": 2,
    "key_size": 4,
    "widening": 2,
    "n_obs_train": 20,
    "n_int_train": 10,
    "pool_n_obs": 40,
    "pool_n_int": 20,
    "pool_size": 8,
    "checkpoint_every": 2,
    "keep_checkpoints": 2,
    "eval_every": 3,
    "log_every": 1,
    "val_n_datasets": 4,
    "val_n_vars": [5],
    "n_workers": 1,
}
ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}


def test_paper_batch_sizes_curriculum_and_lr():
    assert {d: batch_size_per_device(d, 300) for d in (2, 5, 10, 20, 30, 40, 50)} == {
        2: 27,
        5: 23,
        10: 19,
        20: 13,
        30: 9,
        40: 7,
        50: 6,
    }
    p = curriculum((2, 5, 10, 20, 30, 40, 50), 300, 8)
    np.testing.assert_allclose(p, [0.004, 0.011, 0.027, 0.078, 0.169, 0.290, 0.422], atol=1.5e-3)


def test_train_config_validation_and_registry_forms(tmp_path):
    with pytest.raises(ValueError, match="unknown train config key.*'n_layers'"):
        TrainConfig.from_dict({"n_layers": 3})
    with pytest.raises(ValueError, match="acyclicity"):
        TrainConfig.from_dict({"acyclicity": "notears"})
    assert not TrainConfig(acyclicity="none").model_config().mask_diag
    registry = {
        "models": {
            "a": {"train": {"n_steps": 5, "domains": ["lin-gauss"]}, "resources": {}},
            "b": {"train_domains": ["lin-gauss"], "seed": 3, "hparams": {"heads": 2, "lr": 1e-3}},
            "c": {"train": {}, "bogus": 1},
        }
    }
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(registry))
    assert read_train_config(path, "a").n_steps == 5
    b = read_train_config(path, "b")
    assert (b.num_heads, b.lr_base, b.seed, b.domains) == (2, 1e-3, 3, ("lin-gauss",))
    with pytest.raises(ValueError, match="unknown key.*bogus"):
        read_train_config(path, "c")
    with pytest.raises(ValueError, match="unknown model 'z'"):
        read_train_config(path, "z")


def test_edge_metrics_perfect_and_inverted():
    g = np.array([[[0, 1, 0], [0, 0, 1], [0, 0, 0]]])
    perfect = edge_metrics(g * 0.9 + 0.05, g, mask_diag=True)
    assert {k: perfect[k] for k in ("auroc", "auprc", "f1")} == {
        "auroc": 1.0,
        "auprc": 1.0,
        "f1": 1.0,
    }
    # two distinct off-diagonal logits on a chain: rows and columns cannot explain all of it
    assert 0.0 < perfect["rowcol"] < 1.0
    assert edge_metrics(1 - g * 0.9, g, mask_diag=True)["auroc"] == 0.0


def test_checkpoint_roundtrip_keep_last_and_atomic_files(tmp_path):
    params = {"m/linear": {"w": np.arange(6.0).reshape(2, 3), "b": np.zeros(3)}}
    opt_state = optax.lamb(1e-3).init(params)
    for step in (1, 2, 3):
        ckpt.save_checkpoint(
            tmp_path, step, {"params": params, "opt_state": opt_state}, {"x": step}, keep=2
        )
    assert ckpt.checkpoint_steps(tmp_path) == [2, 3]
    assert not list(tmp_path.glob("*.tmp"))
    trees, meta = ckpt.load_checkpoint(tmp_path)
    assert meta == {"step": 3, "x": 3}
    np.testing.assert_array_equal(
        ckpt.unflatten_params(trees["params"])["m/linear"]["w"], params["m/linear"]["w"]
    )
    restored = ckpt.unflatten_like(opt_state, trees["opt_state"], what="opt_state")
    assert jax.tree_util.tree_structure(restored) == jax.tree_util.tree_structure(opt_state)
    with pytest.raises(ValueError, match="missing"):
        ckpt.unflatten_like({"other": np.zeros(1)}, trees["params"], what="params")
    with np.load(tmp_path / "checkpoint_0000003.npz", allow_pickle=False) as f:
        assert "params/m/linear/w" in f.files


def _train_cmd(config_path: Path, out: Path, steps: int | None = None) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "avici_core",
        "train",
        "--config",
        str(config_path),
        "--out",
        str(out),
    ]
    return cmd + (["--steps", str(steps)] if steps else [])


@pytest.mark.slow
def test_sigkill_and_resume_matches_uninterrupted_run(tmp_path):
    config_path = tmp_path / "train.yaml"
    config_path.write_text(yaml.safe_dump({**TINY_TRAIN, "n_vars": [3, 5]}))  # a curriculum
    full, killed = tmp_path / "full", tmp_path / "killed"
    subprocess.run(
        _train_cmd(config_path, full), check=True, env=ENV, capture_output=True, timeout=400
    )

    proc = subprocess.Popen(
        _train_cmd(config_path, killed),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not (killed / "checkpoint_0000002.json").exists():
        assert proc.poll() is None and time.time() < deadline, (
            "training ended before its first checkpoint"
        )
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "final.json").exists()
    subprocess.run(
        _train_cmd(config_path, killed), check=True, env=ENV, capture_output=True, timeout=400
    )

    a, _ = ckpt.load_checkpoint(full, 6)
    b, meta = ckpt.load_checkpoint(killed, 6)
    assert meta["step"] == 6 and a.keys() == b.keys()
    # wall time adds up over the killed process and its resumption
    assert ckpt.read_json(killed / "final.json")["walltime_s"] >= meta["walltime_s"] > 0
    for tree in a:
        for key in a[tree]:
            np.testing.assert_allclose(
                b[tree][key], a[tree][key], rtol=1e-6, atol=1e-7, err_msg=key
            )
    model = load_model(killed)
    assert model(np.random.default_rng(0).normal(size=(30, 5))).shape == (5, 5)


def test_resumption_may_add_a_later_decay_but_not_change_what_was_trained(tmp_path):
    base = {**TINY_TRAIN, "n_steps": 4, "n_workers": 0, "lr_boundaries": []}
    out = tmp_path / "run"
    assert train(TrainConfig.from_dict(base), out)["step"] == 4
    # a decay at step 5 has not been applied by step 4: extending the run with it is the same
    # as having trained with it from the start
    extended = {**base, "n_steps": 6, "lr_boundaries": [5]}
    assert train(TrainConfig.from_dict(extended), out)["step"] == 6
    assert ckpt.read_json(out / ckpt.CONFIG_FILE)["train"]["lr_boundaries"] == [5]
    for changed in ({"lr_boundaries": [3]}, {"lr_boundaries": [5], "lr_decay": 0.5}, {"dim": 8}):
        with pytest.raises(ValueError, match="different train config"):
            train(TrainConfig.from_dict({**extended, "n_steps": 8, **changed}), out)


def test_a_resumed_run_logs_each_step_once(tmp_path):
    base = {**TINY_TRAIN, "n_steps": 6, "n_workers": 0}
    out = tmp_path / "run"
    train(TrainConfig.from_dict(base), out, n_steps=4)
    log_path = out / "metrics.jsonl"
    # a process killed after its checkpoint at step 4 had logged step 5 already, and was cut
    # off in the middle of step 6's line
    with open(log_path, "a") as log_file:
        log_file.write(json.dumps({"step": 5, "loss": 123.0}) + "\n" + '{"step": 6, "lo')
    train(TrainConfig.from_dict(base), out)
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[4]["loss"] != 123.0


# ----- the original package's checkpoint layout ---------------------------------------------


class ModelState(NamedTuple):  # same fields as the original's avici.backbone.ModelState
    step: int
    rng: Any
    opt_state: Any
    params: Any
    dual: Any
    dual_penalty_polyak: Any
    ave_params: Any


class FlatMapping(
    dict
):  # stands in for haiku's legacy FlatMapping, which pickles as FlatMapping(dict)
    def __reduce__(self):
        return FlatMapping, (dict(self),)


def _write_official(directory: Path, params: dict, monkeypatch) -> None:
    """kwargs.json + checkpoint_*.pkl exactly as the original pickles them (module paths too)."""
    fake_avici = types.ModuleType("avici")
    fake_backbone = types.ModuleType("avici.backbone")
    ModelState.__module__, ModelState.__qualname__ = "avici.backbone", "ModelState"
    fake_backbone.ModelState = ModelState
    fake_haiku_ds = types.ModuleType("haiku._src.data_structures")
    FlatMapping.__module__ = "haiku._src.data_structures"
    fake_haiku_ds.FlatMapping = FlatMapping
    monkeypatch.setitem(sys.modules, "avici", fake_avici)
    monkeypatch.setitem(sys.modules, "avici.backbone", fake_backbone)
    monkeypatch.setitem(sys.modules, "haiku._src.data_structures", fake_haiku_ds)
    host = jax.device_get(params)
    flat = FlatMapping(
        {
            m: FlatMapping({k: np.asarray(v) for k, v in leaves.items()})
            for m, leaves in host.items()
        }
    )
    opt_state = jax.device_get(
        optax.chain(optax.clip_by_global_norm(1.0), optax.lamb(1e-3)).init(host)
    )
    state = ModelState(300000, np.array([0, 42], np.uint32), opt_state, flat, 0.5, 0.01, flat)
    kwargs = {
        "neural_net_kwargs": {
            "model_kwargs": {
                "layers": 1,
                "dim": 16,
                "key_size": 4,
                "num_heads": 2,
                "widening_factor": 2,
                "dropout": 0.1,
                "out_dim": None,
                "logit_bias_init": -3.0,
                "cosine_temp_init": 2.0,
                "ln_axis": -1,
            }
        },
        "inference_model_kwargs": {"mask_diag": True, "acyclicity": 1.0},
    }
    directory.mkdir()
    (directory / "kwargs.json").write_text(json.dumps(kwargs))
    (directory / "checkpoint_0300000.pkl").write_bytes(pickle.dumps(state))


def test_official_layout_loads_with_restricted_unpickler(tmp_path, monkeypatch):
    config = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)
    x = np.random.default_rng(1).normal(size=(40, 6))
    params = make_network(config).init(
        jax.random.key(3), np.zeros((1, 5, 6, 2), np.float32), False, False
    )
    _write_official(tmp_path / "official", params, monkeypatch)
    model = load_model(tmp_path / "official")
    assert model.config == config
    expected = jax.nn.sigmoid(
        make_network(config).apply(params, None, np.stack([x, 0 * x], -1)[None], False, False)
    )
    np.testing.assert_allclose(model(x), np.asarray(expected)[0], atol=1e-5)


def test_restricted_unpickler_refuses_code():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        restricted_load(pickle.dumps(Evil()))
    assert issubclass(RestrictedUnpickler, pickle.Unpickler)


# ----- infer CLI ---------------------------------------------------------------------------


def test_infer_cli_writes_prediction_contract(tmp_path):
    config = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)
    params = make_network(config).init(
        jax.random.key(0), np.zeros((1, 5, 4, 2), np.float32), False, False
    )
    ckpt.write_json(
        tmp_path / "m" / ckpt.CONFIG_FILE, {"model": config.to_dict(), "expects_counts": False}
    )
    ckpt.save_checkpoint(tmp_path / "m", 0, {"params": params, "ave_params": params}, {})
    rng = np.random.default_rng(0)
    g = np.triu(rng.random((4, 4)) < 0.5, 1).astype(np.int8)
    mask = np.zeros((20, 4), np.int8)
    mask[:, 1] = 1
    ds = Dataset(
        g,
        rng.normal(size=(40, 4)),
        rng.normal(size=(20, 4)),
        mask,
        rng.normal(size=(40, 4)),
        rng.normal(size=(20, 4)),
        mask,
    )
    save_dataset(tmp_path / "data.npz", ds)
    from avici_core.baselines.cli_infer import main

    for setting in ("obs", "int"):
        out = tmp_path / f"pred_{setting}.npz"
        assert (
            main(
                [
                    "--model",
                    str(tmp_path / "m"),
                    "--data",
                    str(tmp_path / "data.npz"),
                    "--out",
                    str(out),
                    "--setting",
                    setting,
                ]
            )
            == 0
        )
        with np.load(out, allow_pickle=False) as f:
            assert f["scores"].shape == (4, 4) and f["scores"].dtype == np.float64
            np.testing.assert_array_equal(f["graph"], (f["scores"] > 0.5).astype(np.int8))
            assert str(f["kind"]) == "probs" and bool(f["has_probs"]) and str(f["status"]) == "ok"
            meta = json.loads(str(f["meta"]))
            assert meta["compile_s"] > 0 and meta["setting"] == setting
            assert float(f["walltime_s"]) > meta["compile_s"]  # load + compile + run


def test_load_model_resolves_a_name_under_models_dir(tmp_path, monkeypatch):
    from avici_core.model import api

    config = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)
    params = make_network(config).init(
        jax.random.key(0), np.zeros((1, 5, 3, 2), np.float32), False, False
    )
    ckpt.write_json(tmp_path / "avici-small-v1" / ckpt.CONFIG_FILE, {"model": config.to_dict()})
    ckpt.save_checkpoint(tmp_path / "avici-small-v1", 7, {"params": params}, {})
    monkeypatch.setattr(api, "MODELS_DIR", tmp_path)
    assert load_model("avici-small-v1").config == config
    with pytest.raises(ValueError, match="has no ave_params"):
        load_model("avici-small-v1", use_polyak=True)


def test_finished_run_is_left_as_it_is_and_a_second_trainer_is_refused(tmp_path):
    config = TrainConfig.from_dict({**TINY_TRAIN, "n_steps": 2, "n_workers": 0})
    out = tmp_path / "run"
    first = train(config, out)
    before = (out / "final.json").read_bytes()
    assert train(config, out) == first and (out / "final.json").read_bytes() == before
    with ckpt.run_lock(out), pytest.raises(RuntimeError, match="is in use by pid"):
        train(TrainConfig.from_dict({**TINY_TRAIN, "n_steps": 4, "n_workers": 0}), out)


def test_a_run_stopped_at_a_chosen_step_is_finished_and_trains_on_when_asked(tmp_path):
    """``train --steps N`` below the config's n_steps ends like a finished run (what
    export-model needs); a later call with more steps resumes from there."""
    config = TrainConfig.from_dict({**TINY_TRAIN, "n_steps": 4, "n_workers": 0})
    out = tmp_path / "run"
    assert train(config, out, n_steps=2)["step"] == 2
    assert ckpt.read_json(out / "final.json")["step"] == 2
    assert train(config, out)["step"] == 4
    assert ckpt.read_json(out / "final.json")["step"] == 4
    assert ckpt.checkpoint_steps(out)[-1] == 4


def test_max_minutes_stops_at_a_checkpoint_like_a_finished_run(tmp_path):
    raw = {**TINY_TRAIN, "n_steps": 1000, "n_workers": 0, "lr_warmup": 10}
    summary = train(TrainConfig.from_dict({**raw, "max_minutes": 1e-6}), tmp_path / "run")
    final = ckpt.read_json(tmp_path / "run" / "final.json")
    assert final["step"] == summary["step"] == 1 and final["stopped"] == "max_minutes=1e-06"
    assert ckpt.checkpoint_steps(tmp_path / "run") == [1] and "val/d5/params/auroc" in final["val"]
    with pytest.raises(ValueError, match="lr_warmup"):
        TrainConfig.from_dict({**raw, "lr_warmup": -1})


def test_init_from_starts_a_run_from_another_runs_averaged_parameters(tmp_path):
    first = TrainConfig.from_dict({**TINY_TRAIN, "n_steps": 2, "n_workers": 0})
    train(first, tmp_path / "first")
    source, _ = ckpt.load_checkpoint(tmp_path / "first")
    warm = TrainConfig.from_dict(
        {**TINY_TRAIN, "n_workers": 0, "seed": 7, "init_from": str(tmp_path / "first")}
    )
    state = Trainer(warm, tmp_path / "warm").init_state()
    flat = ckpt.flatten_tree(state.params)
    assert flat.keys() == source["ave_params"].keys() and int(state.step) == 0
    for key, value in flat.items():
        np.testing.assert_array_equal(value, source["ave_params"][key])
    assert not np.allclose(source["ave_params"][key], source["params"][key])  # not the raw ones
    wider = TrainConfig.from_dict({**warm.to_dict(), "dim": 24})
    with pytest.raises(ValueError, match="init_from .* has shape"):
        Trainer(wider, tmp_path / "wider").init_state()


def test_a_warm_start_that_adds_an_input_channel_starts_from_the_sources_function(tmp_path):
    first = TrainConfig.from_dict({**TINY_TRAIN, "n_steps": 2, "n_workers": 0})
    train(first, tmp_path / "first")
    both = TrainConfig.from_dict(
        {
            **first.to_dict(),
            "init_from": str(tmp_path / "first"),
            "input_values": "zscore+normal_scores",
        }
    )
    state = Trainer(both, tmp_path / "both").init_state()
    source, _ = ckpt.load_checkpoint(tmp_path / "first")
    w = np.asarray(state.params["BaseModel/linear"]["w"])  # [3 channels, D]
    np.testing.assert_array_equal(w[:2], source["ave_params"]["BaseModel/linear/w"])
    assert np.all(w[2] == 0.0)
    x = np.random.default_rng(0).normal(size=(1, 30, 5, 2)).astype(np.float32)
    x[..., 1] = 0.0
    logits = {
        config.input_values: make_network(config.model_config()).apply(
            params, None, x, False, False
        )
        for config, params in (
            (first, ckpt.unflatten_params(source["ave_params"])),
            (both, state.params),
        )
    }
    np.testing.assert_allclose(logits["zscore+normal_scores"], logits["zscore"], atol=1e-6)


def test_a_warm_start_that_adds_the_pair_head_starts_from_the_sources_function(tmp_path):
    first = TrainConfig.from_dict({**TINY_TRAIN, "n_steps": 2, "n_workers": 0})
    train(first, tmp_path / "first")
    paired = TrainConfig.from_dict(
        {**first.to_dict(), "init_from": str(tmp_path / "first"), "pair_statistics": True}
    )
    state = Trainer(paired, tmp_path / "paired").init_state()
    source, _ = ckpt.load_checkpoint(tmp_path / "first")
    assert np.all(np.asarray(state.params["BaseModel/pair_statistics_out"]["w"]) == 0.0)
    x = np.random.default_rng(0).normal(size=(1, 30, 5, 2)).astype(np.float32)
    x[..., 1] = 0.0
    before, after = (
        make_network(config.model_config()).apply(params, None, x, False, False)
        for config, params in (
            (first, ckpt.unflatten_params(source["ave_params"])),
            (paired, state.params),
        )
    )
    np.testing.assert_allclose(after, before, atol=1e-6)
    train(paired, tmp_path / "paired")  # the head trains: its output weights leave zero
    trained, _ = ckpt.load_checkpoint(tmp_path / "paired")
    assert np.any(trained["params"]["BaseModel/pair_statistics_out/w"] != 0.0)


def test_the_pair_head_learns_at_adams_rate_where_lambs_trust_ratio_would_hold_it_at_zero():
    config = TrainConfig.from_dict({**TINY_TRAIN, "pair_statistics": True, "lr_base": 1e-3})
    net = make_network(config.model_config())
    x = np.random.default_rng(0).normal(size=(1, 20, 5, 2)).astype(np.float32)
    params = jax.jit(lambda key, x: net.init(key, x, False, False))(jax.random.key(0), x)
    optimizer = make_optimizer(config, n_devices=1)
    state = optimizer.init(params)
    grads = jax.tree_util.tree_map(np.ones_like, params)
    update = jax.jit(optimizer.update)  # op by op, each of its many small ops compiles alone
    for _ in range(3):
        updates, state = update(grads, state, params)
        params = optax.apply_updates(params, updates)
    lr = config.lr_base * np.sqrt(max(batch_size_per_device(d, 12) for d in config.n_vars))
    head = np.asarray(params["BaseModel/pair_statistics_out"]["w"])
    np.testing.assert_allclose(head, -3 * lr, rtol=1e-4)  # Adam: lr per step from zero
    lamb = optax.lamb(lr, weight_decay=0.0)  # from zero, LAMB's steps shrink with the norm
    zero = {"w": np.zeros_like(head)}
    lamb_state, moved = lamb.init(zero), zero
    for _ in range(3):
        step, lamb_state = lamb.update({"w": np.ones_like(head)}, lamb_state, moved)
        moved = optax.apply_updates(moved, step)
    assert np.abs(moved["w"]).max() < 1.5 * lr


def test_infer_cli_writes_a_failed_prediction_for_a_mask_that_does_not_fit(
    tmp_path, tiny_model_dir
):
    rng = np.random.default_rng(0)
    ds = Dataset(
        np.zeros((4, 4), np.int8),
        rng.normal(size=(40, 4)),
        rng.normal(size=(20, 4)),
        np.zeros((20, 3), np.int8),  # one column short
        rng.normal(size=(40, 4)),
        rng.normal(size=(20, 4)),
        np.zeros((20, 4), np.int8),
    )
    save_dataset(tmp_path / "data.npz", ds)
    from avici_core.baselines.cli_infer import main

    out = tmp_path / "pred.npz"
    args = ["--model", str(tiny_model_dir), "--data", str(tmp_path / "data.npz"), "--out", str(out)]
    assert main([*args, "--setting", "int"]) == 0
    with np.load(out, allow_pickle=False) as f:
        assert str(f["status"]) == "failed" and "do not fit 4 variables" in str(f["message"])
        assert f["scores"].shape == (4, 4)


_SHARDED_STEP = """
import json, sys, jax, numpy as np
from avici_core.model.train import TrainConfig, Trainer
cfg = TrainConfig.from_dict(json.loads(sys.argv[1]))
trainer = Trainer(cfg, sys.argv[2])
rng = np.random.default_rng(0)
x = np.zeros((8, 30, 5, 2), np.float32)
x[..., 0] = rng.normal(size=(8, 30, 5))
g = np.triu(rng.random((8, 5, 5)) < 0.4, 1).astype(np.int8)
put = lambda a: jax.device_put(a, trainer.batch_sharding)
state = jax.device_put(trainer.init_state(), trainer.replicated)
xs = put(x)
_, metrics = trainer._step(state, trainer.base_key, xs, put(g), put(np.zeros(8, bool)))
result = {"devices": len(jax.local_devices()), "shards": len(xs.sharding.device_set),
          "loss": float(metrics["loss"]), "grad_norm": float(metrics["grad_norm"])}
if result["devices"] > 1:  # and a whole run, its batches drawn from the pools, on every device
    from avici_core.model.pool import DataPools
    from avici_core.model.train import _pool_spec
    pools = DataPools(_pool_spec(cfg), list(cfg.n_vars), pool_size=8, fresh_per_step=1,
                      n_workers=0)
    _, xb, _, _ = trainer._global_batch(rng, pools)
    result.update(run_shards=len(xb.sharding.device_set), run_batch=xb.shape[0],
                  run_step=trainer.run()["step"])
print(json.dumps(result))
"""


def test_one_and_four_devices_give_the_same_loss_and_gradient_for_one_global_batch(tmp_path):
    """And a whole run over 4 host devices shards its batches over all of them."""
    raw = json.dumps({**TINY_TRAIN, "n_steps": 2, "n_workers": 0})
    results = []
    for n in (1, 4):
        env = {**ENV, "XLA_FLAGS": f"--xla_force_host_platform_device_count={n}"}
        out = subprocess.run(
            [sys.executable, "-c", _SHARDED_STEP, raw, str(tmp_path / f"run{n}")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    one, four = results
    assert (one["devices"], four["devices"], four["shards"]) == (1, 4, 4)
    assert four["run_shards"] == 4 and four["run_batch"] % 4 == 0 and four["run_step"] == 2
    # the step's loss and gradient (the update's size differs: the learning rate scales with
    # the square root of the global batch, devices x per-device batch, as in the paper)
    assert abs(one["loss"] - four["loss"]) < 1e-5
    assert abs(one["grad_norm"] - four["grad_norm"]) < 1e-5 * one["grad_norm"]


@pytest.mark.slow
def test_the_gpu_check_runs_end_to_end_at_toy_sizes_and_resumes(tmp_path):
    """scripts/gpu_check.sh on this CPU (GPU tests skip): benchmark, train, export, file sizes."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.sh"
    env = {**ENV, "GPU_CHECK_TINY": "1", "BUDGET_S": "130"}

    def check(out: Path) -> None:
        run = subprocess.run(
            ["bash", str(script), str(out)], env=env, capture_output=True, text=True, timeout=600
        )
        assert run.returncode == 0, run.stderr[-3000:]

    check(tmp_path / "a")
    bench = json.loads((tmp_path / "a" / "bench.json").read_text())
    assert bench["train_step"]["steps_per_s"] > 0 and bench["matmul_tflops"]["f32"] > 0
    done = ckpt.read_json(tmp_path / "a" / "run" / "final.json")
    assert done["stopped"].startswith("max_minutes") and done["step"] > 0
    assert (tmp_path / "a" / "export" / "config.json").exists()
    assert all(f.stat().st_size <= 15 * 2**20 for f in (tmp_path / "a").rglob("*") if f.is_file())
    env["RESUME_FROM"] = str(tmp_path / "a" / "run")
    check(tmp_path / "b")
    assert ckpt.read_json(tmp_path / "b" / "run" / "final.json")["step"] > done["step"]
