"""Driver run by the ORIGINAL package's venv (never by the project): times avici.simulate_data.

Usage: <ref-venv>/bin/python benchmarks/ref_avici_simulate.py DOMAIN D N REPEATS
Prints one JSON line: {"seconds_per_dataset": ...}.
"""

import json
import sys
import time

import avici

domain, d, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
avici.simulate_data(d=d, n=n, domain=domain, seed=0)  # first call parses YAML
start = time.perf_counter()
for seed in range(1, repeats + 1):
    avici.simulate_data(d=d, n=n, domain=domain, seed=seed)
print(json.dumps({"seconds_per_dataset": (time.perf_counter() - start) / repeats}))
