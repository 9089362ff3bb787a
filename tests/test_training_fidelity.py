"""One training update equals the original avici 1.0.7's, run in its own pinned venv.

Same parameters (the paper's network) and batch in, one clip(1.0) + LAMB update out, with the
acyclicity penalty off (dual 0) and on (dual 1). Both codes run in float64 (``JAX_ENABLE_X64``)
for the exact comparison: loss within 1e-5, every gradient and every updated parameter array
within 1e-4 relative (Euclidean norm of the array; arrays that are zero by construction, such as
an attention key bias's gradient, are measured against 1e-4 of the norm over all arrays). In float32,
as trained, the loss agrees to 1e-5 and gradients to 1e-3: sixteen attention blocks in another
order of operations accumulate round-off of about 1e-4, which float64 shows is only round-off.

The venv is built on first use (avici without its TensorFlow dependencies, jax 0.6.2, about
300 MB from PyPI) under ``~/.cache/avici-core/`` or ``$AVICI_REF_VENV``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from avici_core.model import checkpoint as ckpt
from avici_core.model.network import ModelConfig, make_network

pytestmark = pytest.mark.slow

PINS = ("jax==0.6.2", "jaxlib==0.6.2", "dm-haiku==0.0.17", "optax==0.2.8", "numpy<2")
HERE = Path(__file__).parent / "reference"
VENV = Path(
    os.environ.get("AVICI_REF_VENV", Path.home() / ".cache" / "avici-core" / "avici-1.0.7-train")
)


@pytest.fixture(scope="module")
def ref_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([*pip, "--no-deps", "avici==1.0.7"], check=True, timeout=900)
        subprocess.run([*pip, *PINS], check=True, timeout=900)
    return python


def _update(python: Path, driver: str, src: Path, dst: Path, x64: bool) -> dict[str, np.ndarray]:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_ENABLE_X64": "1" if x64 else "0"}
    run = subprocess.run(
        [str(python), str(HERE / driver), str(src), str(dst)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return dict(np.load(dst))


def _inputs(path: Path, dual: float, dtype: type) -> None:
    config = ModelConfig()  # the paper's network, dropout 0
    rng = np.random.default_rng(0)
    x = np.zeros((4, 60, 10, 2), dtype)  # [B, n, d, 2]
    x[..., 0] = rng.normal(size=(4, 60, 10)) * rng.uniform(0.5, 3.0, size=10) + 1.0
    x[:, 40:, 3, 1] = 1.0  # the last 20 rows intervened on variable 3
    g = np.triu(rng.random((4, 10, 10)) < 0.3, 1).astype(dtype)
    params = make_network(config).init(jax.random.key(1), jnp.zeros((1, 4, 10, 2)), False, False)
    flat = {f"param/{k}": np.asarray(v, dtype) for k, v in ckpt.flatten_tree(params).items()}
    kwargs = {
        "dim": config.dim,
        "layers": config.layers,
        "key_size": config.key_size,
        "num_heads": config.num_heads,
        "widening_factor": config.widening,
        "dropout": config.dropout,
        "cosine_temp_init": config.cosine_temp_init,
    }
    np.savez(path, x=x, g=g, dual=dtype(dual), lr=1e-3, kwargs=json.dumps(kwargs), **flat)


@pytest.mark.parametrize(
    ("x64", "dual", "grad_tol"),
    [(True, 0.0, 1e-4), (True, 1.0, 1e-4), (False, 1.0, 1e-3)],
    ids=["float64-bce", "float64-penalty", "float32-penalty"],
)
def test_one_update_equals_the_original(ref_python, tmp_path, x64, dual, grad_tol):
    _inputs(tmp_path / "in.npz", dual, np.float64 if x64 else np.float32)
    ref = _update(ref_python, "avici_ref_update.py", tmp_path / "in.npz", tmp_path / "r.npz", x64)
    ours = _update(
        Path(sys.executable), "ours_update.py", tmp_path / "in.npz", tmp_path / "o.npz", x64
    )

    assert abs(float(ours["loss"]) - float(ref["loss"])) < 1e-5
    assert ours.keys() == ref.keys()
    kinds = ("grad/", "new/") if x64 else ("grad/",)
    for kind, tol in zip(kinds, (grad_tol, 1e-4)):
        keys = [k for k in ref if k.startswith(kind)]
        # arrays that are (near) zero by construction are judged against 1e-4 of the total
        floor = 1e-4 * np.sqrt(sum(np.sum(ref[k] ** 2) for k in keys))
        for key in keys:
            error = np.linalg.norm(ours[key] - ref[key]) / max(np.linalg.norm(ref[key]), floor)
            assert error < tol, f"{key}: relative error {error:.2e}"
