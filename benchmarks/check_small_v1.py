"""The quality bars of the shipped model, read from the workflow's metrics (no recomputation).

    snakemake --profile local --configfile config/benchmark/small-v1.yaml
    python benchmarks/check_small_v1.py [results/metrics/all.csv]

Prints, per domain and setting, AVICI's mean AUPRC/AUROC next to the best classical method's and
the mean wall time per dataset of every method; exits 1 when a bar of issue #9 is missed.
"""

from __future__ import annotations

import sys

import pandas as pd

from avici_core.report.aggregate import read_metrics_csv

MODEL = "avici-small-v1"
OBS_DOMAINS = ["rff-gauss", "rff-gauss-heterosked", "lin-gauss-heterosked", "lin-gauss"]
# lin-gauss: order-search methods (FLOP, BOSS, GRaSP, GSP) may stay ahead; beat GES and PC there.
RIVALS = {"lin-gauss": ["ges", "pc"]}


def mean_metric(metrics: pd.DataFrame, domain: str, setting: str, metric: str) -> pd.Series:
    """Mean over seeds per method; failed runs count as missing (and are reported)."""
    rows = metrics[
        (metrics["domain"] == domain)
        & (metrics["setting"] == setting)
        & (metrics["metric"] == metric)
    ]
    return rows.groupby("method")["value"].mean()


def main(path: str = "results/metrics/all.csv") -> int:
    metrics = read_metrics_csv(path)
    ok = True
    for suffix in ("", "-d50"):
        for domain in (d + suffix for d in OBS_DOMAINS):
            auprc = mean_metric(metrics, domain, "obs", "auprc")
            if MODEL not in auprc:
                print(f"{domain}: no {MODEL} rows")
                continue
            rivals = [m for m in RIVALS.get(domain.removesuffix("-d50"), auprc.index) if m != MODEL]
            rivals = [m for m in rivals if m in auprc and not m.startswith("avici")]
            best = auprc[rivals].idxmax()
            beats = auprc[MODEL] > auprc[best]
            if not suffix:  # the bar is at d = 20; d = 50 is reported
                ok &= bool(beats)
            print(
                f"{domain:28s} obs AUPRC {MODEL} {auprc[MODEL]:.3f}  best rival {best} "
                f"{auprc[best]:.3f}  {'above' if beats else 'NOT above'}"
            )
    auroc = mean_metric(metrics, "lin-gauss", "int", "auroc")
    if MODEL in auroc:
        ok &= bool(auroc[MODEL] >= 0.90)
        print(f"lin-gauss int AUROC {MODEL} {auroc[MODEL]:.3f} (bar 0.90)")
    times = metrics[metrics["metric"] == "walltime_s"].groupby(["domain", "method"])["value"].mean()
    print("\nwall time per dataset [s]:")
    print(times.unstack("method").round(2).to_string())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
