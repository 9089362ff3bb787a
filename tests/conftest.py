"""Shared fixtures, and one compilation cache for the whole test run."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import jax
import numpy as np
import pytest

from avici_core.model import ModelConfig
from avici_core.model import checkpoint as ckpt
from avici_core.model.network import make_network

# Many tests compile the same tiny train step or forward, in this process and in the
# subprocesses they start (which inherit the environment): JAX's persistent cache compiles each
# once per test run. It starts empty, so every run still compiles what it uses at least once.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache_dir = tempfile.mkdtemp(prefix="avici-tests-jax-cache-")
    atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache_dir
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update(
    "jax_persistent_cache_min_compile_time_secs",
    float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
)

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
