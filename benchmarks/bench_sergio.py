"""Seconds per gene dataset (E. coli module + SERGIO with all knockouts) against the original package.

Both sides simulate the `gene-ecoli` example domain of avici (avici.md §3.6): E. coli modules
(topk 0.2), 10 cell types, decays 1.0, noise 1.0, b U(1,3), k U(1,5), sign Beta(0.5,0.5), hill 2.0,
tech noise illumina / drop-seq / smart-seq, every gene knocked out. The original runs in its own
pinned venv (see benchmarks/bench_data.py), never imported here; it is timed in the same run.

Run: python benchmarks/bench_sergio.py [--ref-python /work/avici-ref-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import time
from pathlib import Path

import numpy as np

from avici_core.data.distributions import Beta, Uniform
from avici_core.data.networks import Ecoli
from avici_core.data.sergio import GRNSergio

CASES = [(30, 1000, 500), (30, 2000, 1000), (100, 1000, 500)]  # (d, n_obs, n_int)
REF_DRIVER = """
import json, sys, time
import avici
d, n, n_int, repeats = map(int, sys.argv[1:5])
avici.simulate_data(d=d, n=n, n_interv=n_int, domain="gene-ecoli", seed=0)  # YAML parse
start = time.perf_counter()
for seed in range(1, repeats + 1):
    avici.simulate_data(d=d, n=n, n_interv=n_int, domain="gene-ecoli", seed=seed)
print(json.dumps({"seconds_per_dataset": (time.perf_counter() - start) / repeats}))
"""
log = logging.getLogger("bench_sergio")


def gene_ecoli() -> tuple[Ecoli, GRNSergio]:
    mechanism = GRNSergio(
        b=Uniform(1.0, 3.0),
        k_param=Uniform(1.0, 5.0),
        k_sign_p=Beta(0.5, 0.5),
        hill=2.0,
        decays=1.0,
        noise_params=1.0,
        cell_types=10,
        tech_noise_config=["illumina", "drop-seq", "smart-seq"],
    )
    return Ecoli(topk=0.2), mechanism


def ours(d: int, n_obs: int, n_int: int, repeats: int) -> float:
    graph, mechanism = gene_ecoli()
    start = time.perf_counter()
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        g = graph(rng, d)
        mechanism.sample(rng, g, n_obs=n_obs, n_int=n_int, targets=np.arange(d), interv_dist=None)
    return (time.perf_counter() - start) / repeats


def reference(python: str, d: int, n_obs: int, n_int: int, repeats: int) -> float | None:
    if not Path(python).exists():
        return None
    out = subprocess.run(
        [python, "-c", REF_DRIVER, str(d), str(n_obs), str(n_int), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds_per_dataset"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ref-python", default="/work/avici-ref-venv/bin/python")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--ref-repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ours(30, 100, 50, 1)  # warm the network cache, as the reference's first call parses YAML
    log.info("%-5s %-13s %12s %12s %8s", "d", "cells", "ours [s]", "orig [s]", "speedup")
    for d, n_obs, n_int in CASES:
        mine = ours(d, n_obs, n_int, args.repeats)
        ref = reference(args.ref_python, d, n_obs, n_int, args.ref_repeats)
        speedup = f"{ref / mine:7.1f}x" if ref else "n/a"
        ref_s = f"{ref:12.3f}" if ref else f"{'n/a':>12}"
        log.info("%-5d %-13s %12.3f %s %8s", d, f"{n_obs}+{n_int}", mine, ref_s, speedup)


if __name__ == "__main__":
    main()
