"""Datasets per second of our simulators against the original package, measured in the same run.

The original (avici 1.0.7) lives in a separate pinned venv (avici.md §8.2), never imported here:
    python3 -m venv /work/avici-ref-venv
    /work/avici-ref-venv/bin/pip install avici==1.0.7 "jax==0.6.2" "jaxlib==0.6.2" "pandas<3" "igraph==0.11.9"
Run: python benchmarks/bench_data.py [--ref-python /work/avici-ref-venv/bin/python] [--repeats 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from avici_core.data import simulate_data

CASES = [
    ("lin-gauss", 20, 1000),
    ("rff-gauss", 20, 1000),
    ("lin-gauss", 100, 1000),
    ("rff-gauss", 100, 1000),
]
HERE = Path(__file__).resolve().parent


def ours(domain: str, d: int, n: int, repeats: int) -> float:
    simulate_data(d, n, domain=domain, seed=0)  # registry parse, as the reference's first call
    start = time.perf_counter()
    for seed in range(1, repeats + 1):
        simulate_data(d, n, domain=domain, seed=seed)
    return (time.perf_counter() - start) / repeats


def reference(python: str, domain: str, d: int, n: int, repeats: int) -> float | None:
    if not Path(python).exists():
        return None
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [python, str(HERE / "ref_avici_simulate.py"), domain, str(d), str(n), str(repeats)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds_per_dataset"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ref-python", default="/work/avici-ref-venv/bin/python")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"{'domain':<11} {'d':>4} {'n':>5} {'ours ds/s':>10} {'ref ds/s':>9} {'speed-up':>9}")
    for domain, d, n in CASES:
        t_ours = ours(domain, d, n, args.repeats)
        t_ref = reference(args.ref_python, domain, d, n, args.repeats)
        ref_rate = f"{1 / t_ref:9.1f}" if t_ref else "      n/a"
        ratio = f"{t_ref / t_ours:8.2f}x" if t_ref else "      n/a"
        print(f"{domain:<11} {d:>4} {n:>5} {1 / t_ours:10.1f} {ref_rate} {ratio}")
    if not Path(args.ref_python).exists():
        print(
            f"reference venv not found at {args.ref_python}; see the module docstring",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
