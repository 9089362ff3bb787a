"""Two or more AVICI models on the same held-out test datasets: edge-level quality side by side.

    python benchmarks/compare_models.py MODEL [MODEL ...] [--domains ...] [--seeds 30] [--setting obs]

A MODEL is a shipped name (``avici-small-v1``), an exported folder, or a training run folder
(its latest averaged parameters). Datasets are the workflow's test stream (``simulate``, the
seeds 0..N-1 a benchmark config uses), so the numbers are comparable with the workflow's tables.
Prints per domain: mean AUROC, AP and the share of the logit variance that one effect per row
plus one per column explain (``rowcol``: near 1, the model ranks causes and effects but does not
resolve edges), and seconds per dataset.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from avici_core.data.simulate import generate_dataset
from avici_core.dataset import select_setting
from avici_core.metrics.prob_metrics import probability_row_column_share, ranking_metrics
from avici_core.model import load_model

DOMAINS = ["lin-gauss", "lin-gauss-heterosked", "rff-gauss", "rff-gauss-heterosked"]


def scores(model, domain: str, seeds: int, setting: str) -> dict[str, float]:
    """Mean AUROC, AP, rowcol and seconds per dataset over test seeds 0..seeds-1."""
    rows = []
    for seed in range(seeds):
        ds = generate_dataset(domain, seed, stream="test")
        x, mask = select_setting(ds, setting)
        start = time.perf_counter()
        probs = np.asarray(model(x, interv=mask), dtype=np.float64)  # [d, d]
        seconds = time.perf_counter() - start
        ranking = ranking_metrics(ds.g, probs)
        rows.append((ranking["auroc"], ranking["ap"], probability_row_column_share(probs), seconds))
    auroc, ap, rowcol, seconds = np.mean(rows, axis=0)
    return {"auroc": auroc, "ap": ap, "rowcol": rowcol, "s": seconds}


def load(name: str):
    """A training run's averaged parameters (what export ships), else the folder's only set."""
    try:
        return load_model(name, use_polyak=True)
    except ValueError:
        return load_model(name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="+")
    parser.add_argument("--domains", nargs="+", default=DOMAINS)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--setting", choices=("obs", "int"), default="obs")
    args = parser.parse_args()
    loaded = {name: load(name) for name in args.models}
    print(f"test seeds 0-{args.seeds - 1}, setting {args.setting}")
    print("| domain | model | AUROC | AP | rowcol | s/dataset |\n|---|---|---|---|---|---|")
    for domain in args.domains:
        for name, model in loaded.items():
            r = scores(model, domain, args.seeds, args.setting)
            print(
                f"| {domain} | {name} | {r['auroc']:.3f} | {r['ap']:.3f} | {r['rowcol']:.3f} | "
                f"{r['s']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
