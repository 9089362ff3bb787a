"""The quality bars of the default model (issue #19, item 5), read from the workflow's metrics.

    snakemake --profile local --configfile config/benchmark/default-model.yaml
    python benchmarks/check_default_model.py [--model avici-small-v10] [results/metrics/all.csv]

Nothing is recomputed. Prints each bar with the model's value and the best classical method's
(z-scored and nonparanormal variants alike), the linear and d = 50 domains as they come, and the
mean wall time per dataset of every method; exits 1 when a bar is missed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from avici_core.dataset import load_dataset
from avici_core.metrics.prob_metrics import row_column_share
from avici_core.report.aggregate import read_metrics_csv

AP_DOMAINS = ["rff-gauss", "rff-gauss-heterosked", "rff-laplace-cauchy"]  # AP above every rival
REPORTED = ["lin-gauss", "lin-gauss-heterosked"]  # reported as they come, and their d = 50 twins
ROWCOL_BAR, SACHS_BAR, INT_BAR = 0.60, 0.65, 0.90


def means(metrics: pd.DataFrame, domain: str, setting: str, metric: str) -> pd.Series:
    """Mean over seeds per method (failed runs are NaN and left out of the mean)."""
    rows = metrics[
        (metrics["domain"] == domain)
        & (metrics["setting"] == setting)
        & (metrics["metric"] == metric)
    ]
    return rows.groupby("method")["value"].mean()


def against_rivals(metrics: pd.DataFrame, model: str, domain: str, metric: str) -> bool | None:
    """Print the model's mean against the best classical method's; True when strictly above."""
    values = means(metrics, domain, "obs", metric)
    if model not in values:
        print(f"{domain:28s} no {model} rows")
        return None
    rivals = values[[m for m in values.index if not m.startswith("avici")]].dropna()
    best = rivals.idxmax()
    above = bool(values[model] > rivals[best])
    print(
        f"{domain:28s} {metric} {model} {values[model]:.3f}  best classical {best} "
        f"{rivals[best]:.3f}  {'above' if above else 'NOT above'}"
    )
    return above


def truth_share(data_dir: Path, domains: list[str]) -> float:
    """The row + column share of the true graphs themselves (0/1 entries), mean over the test
    datasets found: what a model that resolved every edge would score, for scale."""
    shares = [
        row_column_share(load_dataset(path).g.astype(float))
        for domain in domains
        for path in sorted((data_dir / domain).glob("*.npz"))
    ]
    return float(np.nanmean(shares)) if shares else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("metrics", nargs="?", default="results/metrics/all.csv")
    parser.add_argument("--model", default="avici-small-v10")
    parser.add_argument("--data", default="results/data", help="the workflow's datasets")
    args = parser.parse_args(argv)
    metrics, model = read_metrics_csv(args.metrics), args.model
    bars = {}

    d20 = [*AP_DOMAINS, *REPORTED]
    shares = [means(metrics, d, "obs", "rowcol").get(model, float("nan")) for d in d20]
    shares.append(means(metrics, "lin-gauss", "int", "rowcol").get(model, float("nan")))
    rowcol = float(pd.Series(shares).mean())
    bars["row + column share < 0.60"] = rowcol < ROWCOL_BAR
    print(
        f"row + column share of the logit variance, mean over d = 20 domains: {rowcol:.3f} "
        f"(the true graphs' own: {truth_share(Path(args.data), d20):.3f})"
    )

    for domain in AP_DOMAINS:
        bars[f"AP above every classical method on {domain}"] = bool(
            against_rivals(metrics, model, domain, "ap")
        )
    sachs = means(metrics, "sachs", "obs", "auroc").get(model, float("nan"))
    bars["Sachs AUROC >= 0.65"] = bool(sachs >= SACHS_BAR)
    print(f"{'sachs':28s} auroc {model} {sachs:.3f} (bar {SACHS_BAR})")
    interventional = means(metrics, "lin-gauss", "int", "auroc").get(model, float("nan"))
    bars["interventional lin-gauss AUROC >= 0.90"] = bool(interventional >= INT_BAR)
    print(f"{'lin-gauss (int)':28s} auroc {model} {interventional:.3f} (bar {INT_BAR})")

    print("\nreported as they come:")
    for domain in [*REPORTED, *(d + "-d50" for d in (*REPORTED, *AP_DOMAINS[:2]))]:
        against_rivals(metrics, model, domain, "ap")
    times = metrics[metrics["metric"] == "walltime_s"].groupby(["domain", "method"])["value"].mean()
    print("\nwall time per dataset [s]:")
    print(times.unstack("method").round(2).to_string())

    print()
    for bar, met in bars.items():
        print(f"{'met    ' if met else 'MISSED '} {bar}")
    return 0 if all(bars.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
