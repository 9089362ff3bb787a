"""Workflow speed: dry-run planning time (bar: < 15 s for config/config.yaml); with --e2e, the
quick config end to end (bar: < 5 min on a free 2-core machine); with --paper, the dry runs of
config/paper/neurips2022.yaml and its small scale and the `plan` command on the full overlay.

Each time is printed with its ratio to `snakemake --version` and to the default config's dry run,
both measured in the same run (the fixed cost of starting Snakemake, and the planning of a known
DAG), so numbers from busy machines can still be compared.

    python benchmarks/bench_workflow.py [--e2e] [--paper] [--repeats 3]
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
DRY = ("snakemake", "-n", "--quiet", "rules", "--cores", "1")
REFERENCE = "snakemake --version (reference)"
DEFAULT = "dry run, config/config.yaml"
log = logging.getLogger("bench_workflow")


def timed(cwd: Path, *module_and_args: str) -> float:
    """Wall seconds of one `python -m ...` call (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", *module_and_args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--e2e", action="store_true", help="also run config/quick.yaml end to end")
    parser.add_argument("--paper", action="store_true", help="also plan the paper overlay")
    parser.add_argument("--repeats", type=int, default=3, help="best of N per dry run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cases = {
        REFERENCE: ("snakemake", "--version"),
        "dry run, config/quick.yaml": (*DRY, "--configfile", "config/quick.yaml"),
        DEFAULT: DRY,
    }
    if args.paper:
        cases["dry run, paper small"] = (*DRY, *SMALL)
        cases["dry run, paper full"] = (*DRY, *PAPER)
        cases["plan, paper full"] = ("avici_core", "plan", *PAPER)
    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp)
        for name in PATHS:
            src = REPO / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, wf / name)
        best = {name: min(timed(wf, *c) for _ in range(args.repeats)) for name, c in cases.items()}
        if args.e2e:
            best["quick config end to end"] = timed(
                wf, "snakemake", "--profile", "local", "--configfile", "config/quick.yaml"
            )
    for name, seconds in best.items():
        log.info(
            "%-34s %8.2f s  %6.1fx --version  %5.2fx default dry run",
            name,
            seconds,
            seconds / best[REFERENCE],
            seconds / best[DEFAULT],
        )


if __name__ == "__main__":
    main()
