"""Planning the paper: dry-run time of config/paper/neurips2022.yaml (bar 15 s), its small scale and
the `plan` command, each as a ratio to `snakemake --version` and to the default config's dry run,
both measured in the same run (so numbers from a loaded machine stay comparable).

    python benchmarks/bench_paper_plan.py [--repeats 1]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATHS = ("Snakefile", "workflow", "config", "local", "slurm", "environment.yaml")
PAPER = ("--configfile", "config/paper/neurips2022.yaml")
SMALL = (*PAPER, "config/paper/neurips2022-small.yaml")
log = logging.getLogger("bench_paper_plan")


def timed(cwd: Path, *cmd: str) -> float:
    """Wall seconds of one command (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", *cmd],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1, help="best of N per case")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dry = ("snakemake", "-n", "--quiet", "rules", "--cores", "1")
    cases = {
        "snakemake --version (reference)": ("snakemake", "--version"),
        "dry run, config/config.yaml (3.5k jobs)": dry,
        "dry run, paper small (1.1k jobs)": (*dry, *SMALL),
        "dry run, paper full (16.2k jobs)": (*dry, *PAPER),
        "plan, paper full": ("avici_core", "plan", *PAPER),
    }
    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp)
        for name in PATHS:
            src = REPO / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, wf / name)
        best = {name: min(timed(wf, *c) for _ in range(args.repeats)) for name, c in cases.items()}
    ref = best["snakemake --version (reference)"]
    default = best["dry run, config/config.yaml (3.5k jobs)"]
    for name, seconds in best.items():
        log.info(
            "%-42s %8.2f s  %6.1fx --version  %5.2fx default dry run",
            name,
            seconds,
            seconds / ref,
            seconds / default,
        )


if __name__ == "__main__":
    main()
