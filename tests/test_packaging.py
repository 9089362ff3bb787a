"""A wheel built with ``pip wheel .`` carries its registries, schemas and shipped model: installed
into a fresh venv and run from a folder outside the checkout, it simulates data, loads the shipped
model, and runs ``discover``."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

SMOKE = """
import pathlib, sys
import avici_core
from avici_core.config import SHIPPED_MODELS, read_registry
from avici_core.data import simulate_data
from avici_core.model import load_model

here = pathlib.Path(avici_core.__file__).resolve()
assert pathlib.Path(sys.prefix).resolve() in here.parents, here  # the wheel's copy, not the checkout
assert sorted(read_registry("tables")["tables"]) == ["benchmark", "probabilities", "walltime"]
g, x, interv = simulate_data(d=8, n=200, n_interv=50, domain="rff-gauss", seed=3)
model = load_model("avici-small-v1")
probs = model(x, interv=interv)
assert probs.shape == (8, 8) and ((probs >= 0) & (probs <= 1)).all()
import numpy as np
np.savetxt("table.csv", x[interv.sum(1) == 0], delimiter=",", header=",".join(f"v{i}" for i in range(8)),
           comments="")
print("OK", SHIPPED_MODELS)
"""


def test_a_wheel_runs_simulate_load_and_discover_from_any_folder(tmp_path: Path):
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("avici_core-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in ("domains", "methods", "models", "tables"):
        assert f"avici_core/registries/{kind}.yaml" in names, kind
        assert f"avici_core/schemas/{kind}.schema.yaml" in names, kind
    assert "avici_core/models/avici-small-v1/config.json" in names
    venv = tmp_path / "venv"
    # the dependencies come from this environment; only the wheel itself is new
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300
    )
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": ""}
    smoke = subprocess.run(
        [str(python), "-c", SMOKE], cwd=elsewhere, capture_output=True, text=True, env=env
    )
    assert smoke.returncode == 0 and "OK" in smoke.stdout, smoke.stdout + smoke.stderr[-3000:]
    assert str(venv) in smoke.stdout  # the shipped model came from the installed package
    discover = subprocess.run(
        [str(python), "-m", "avici_core", "discover", "table.csv", "--out", "found"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert discover.returncode == 0, discover.stdout + discover.stderr[-3000:]
    assert (elsewhere / "found").is_dir() and any((elsewhere / "found").iterdir())
