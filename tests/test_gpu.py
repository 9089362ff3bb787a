"""Checks that need a GPU (marker ``gpu``; skipped where JAX sees none): run by
``scripts/gpu_check.sh`` on a GPU machine."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from avici_core.model import AviciModel, ModelConfig
from avici_core.model.network import make_network
from avici_core.model.train import TrainConfig, train

pytestmark = pytest.mark.gpu


def _gpu():
    try:
        return jax.devices("gpu")[0]
    except RuntimeError:
        pytest.skip("no GPU visible to JAX")


def test_gpu_forward_equals_cpu_forward_on_fixed_weights():
    gpu, cpu = _gpu(), jax.devices("cpu")[0]
    config = ModelConfig()  # the paper's network
    params = make_network(config).init(jax.random.key(0), np.zeros((1, 4, 10, 2)), False, False)
    x = np.random.default_rng(0).normal(size=(300, 10))
    with jax.default_device(cpu):
        on_cpu = AviciModel(params, config)(x)
    with jax.default_device(gpu), jax.default_matmul_precision("highest"):
        on_gpu = AviciModel(jax.device_put(params, gpu), config)(x)
    np.testing.assert_allclose(on_gpu, on_cpu, atol=1e-4)


@pytest.mark.parametrize("mixed_precision", [False, True])
def test_a_few_train_steps_on_the_gpu_stay_finite(tmp_path, mixed_precision):
    _gpu()
    config = TrainConfig(
        domains=("lin-gauss",),
        n_vars=(5, 10),
        n_steps=5,
        batch_size_unit=60,
        checkpoint_every=5,
        eval_every=5,
        log_every=1,
        val_n_datasets=4,
        val_n_vars=(10,),
        n_workers=0,
        mixed_precision=mixed_precision,
    )
    summary = train(config, tmp_path / "run")
    assert summary["step"] == 5 and "gpu" in summary["hardware"].lower()
    assert all(math.isfinite(v) for v in summary["val"].values())
