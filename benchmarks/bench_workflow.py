"""Workflow speed: dry-run planning time (bar: < 15 s for config/config.yaml) and, with --e2e,
the quick config end to end (bar: < 5 min on a free 2-core machine).

Each time is printed with its ratio to `snakemake --version` measured in the same run (the fixed
cost of starting Snakemake), so numbers from busy machines can still be compared.

    python benchmarks/bench_workflow.py [--e2e] [--repeats 3]
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
log = logging.getLogger("bench_workflow")


def timed(cwd: Path, *args: str) -> float:
    """Wall seconds of one snakemake call (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--e2e", action="store_true", help="also run config/quick.yaml end to end")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp)
        for name in PATHS:
            src = REPO / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, wf / name)
        cases = {
            "snakemake --version (reference)": ("--version",),
            "dry run, config/quick.yaml": (
                "-n",
                "--cores",
                "1",
                "--configfile",
                "config/quick.yaml",
            ),
            "dry run, config/config.yaml": ("-n", "--cores", "1"),
        }
        best = {name: min(timed(wf, *a) for _ in range(args.repeats)) for name, a in cases.items()}
        if args.e2e:
            best["quick config end to end"] = timed(
                wf, "--profile", "local", "--configfile", "config/quick.yaml"
            )
        ref = best["snakemake --version (reference)"]
        for name, seconds in best.items():
            log.info("%-34s %8.2f s  %6.1fx reference", name, seconds, seconds / ref)


if __name__ == "__main__":
    main()
