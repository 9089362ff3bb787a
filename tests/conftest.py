"""Shared fixtures."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from avici_core.model import ModelConfig
from avici_core.model import checkpoint as ckpt
from avici_core.model.network import make_network

TINY = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)


@pytest.fixture
def tiny_model_dir(tmp_path):
    """A tiny untrained AVICI checkpoint in our format (fast to compile)."""
    directory = tmp_path / "tiny-model"
    directory.mkdir()
    x = np.zeros((1, 8, 4, 2), np.float32)  # [B, n, d, 2]
    params = make_network(TINY).init(jax.random.key(0), x, False, False)
    ckpt.write_json(
        directory / ckpt.CONFIG_FILE, {"model": TINY.to_dict(), "expects_counts": False}
    )
    ckpt.save_checkpoint(directory, 0, {"params": jax.device_get(params)}, {})
    return directory
