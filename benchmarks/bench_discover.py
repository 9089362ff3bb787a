"""`discover` on a user's table: wall time of the whole command (a fresh process that reads the
CSV, loads the shipped model, compiles, predicts and writes the CSVs and both drawings).

Issue #9 asks for "seconds for a few thousand rows". The reference, timed in the same run on the
same table, is the PC algorithm of causal-learn (Fisher-z, alpha 0.05) in a fresh process: what a
practitioner would otherwise run first. Tables are `lin-gauss` data (d variables, n rows).

    python benchmarks/bench_discover.py [--d 20] [--rows 1000 3000 5000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from avici_core import simulate_data

PC_SCRIPT = """
import sys, pandas as pd
from causallearn.search.ConstraintBased.PC import pc
pc(pd.read_csv(sys.argv[1]).to_numpy(), 0.05, "fisherz", show_progress=False)
"""


def timed(cmd: list[str]) -> float:
    """Wall seconds of one command (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 3000, 5000])
    args = parser.parse_args()
    print(f"| rows | discover [s] | PC (causal-learn) [s] | ratio | d = {args.d}")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            _, x, _ = simulate_data(d=args.d, n=n, domain="lin-gauss", seed=n)
            table = Path(tmp) / f"table-{n}.csv"
            pd.DataFrame(x, columns=[f"X{i}" for i in range(args.d)]).to_csv(table, index=False)
            ours = timed(
                [sys.executable, "-m", "avici_core", "discover", str(table), "--out", f"{tmp}/{n}"]
            )
            for name in ("edge_probabilities.csv", "graph.csv", "graph.png", "heatmap.png"):
                assert (Path(tmp) / str(n) / name).exists(), name
            reference = timed([sys.executable, "-c", PC_SCRIPT, str(table)])
            print(f"| {n:,} | {ours:.1f} | {reference:.1f} | {ours / reference:.2f} |", flush=True)


if __name__ == "__main__":
    main()
