"""A real one-node SLURM run (start it with `.ci/slurm/start.sh`; skipped when `sinfo` fails).

The tiny config goes through `--profile slurm` plus the test overlay, and PC's `run_method_group`
job asks for a GPU, which SLURM must schedule against the fake gres of the test cluster.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from test_workflow import copy_workflow, jobs_by_rule, snakemake


def slurm_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    return r.returncode == 0 and any(s in r.stdout for s in ("idle", "mixed", "allocated"))


pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(not slurm_answers(), reason="no local SLURM (run .ci/slurm/start.sh)"),
]


def test_tiny_config_runs_through_slurm_with_a_gpu_request(tmp_path: Path):
    wf = copy_workflow(tmp_path)
    args = (
        "--profile",
        "slurm",
        "--profile",
        "fixtures/ci-slurm",
        "--configfile",
        "fixtures/slurm_tiny.yaml",
    )
    plan = snakemake(wf, "-n", *args)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "gpu=1" in plan.stdout[plan.stdout.index("rule run_method_group") :]
    r = snakemake(wf, *args, timeout=540)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    table = pd.read_csv(wf / "results" / "tables" / "benchmark.csv")
    assert set(table["method"]) == {"pc"} and (table["n"] == 1).all()
    # the method's job really went through SLURM and held the fake GPU
    jobs = subprocess.run(["scontrol", "-o", "show", "job"], capture_output=True, text=True).stdout
    ours = [
        line for line in jobs.splitlines() if str(wf) in line and "rule_run_method_group" in line
    ]
    assert ours and all(
        "gres/gpu=1" in line or "gpu:a100:1" in line or "gpu:1" in line for line in ours
    )
    assert jobs_by_rule(snakemake(wf, "-n", *args).stdout) == {}
