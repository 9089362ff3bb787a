"""Cost and accuracy of the baselines as d grows: the curve amortized inference answers.

For each domain and d, one dataset (n = 1000 rows in both settings, the paper's split) is drawn
with the data API; every method runs through ``avici_core.baselines.run`` (own process, 1 thread)
and is scored with ``avici_core.metrics``. Printed per run: the method's own wall time, that time
as a ratio to PC on the same dataset (the reference measured in the same run), the growth factor
against the smallest d, AUPRC of its scores and SHD (CPDAGs via the semi-oracle).

    python benchmarks/bench_baselines.py            # d in {10, 20, 30, 50}, lin-gauss + rff-gauss
    python benchmarks/bench_baselines.py --quick    # d in {10, 20}, lin-gauss only
"""

from __future__ import annotations

import argparse
import logging
import zlib

import numpy as np
import pandas as pd

from avici_core.baselines import run
from avici_core.baselines.registry import load_methods
from avici_core.data import draw_dataset, get_domain
from avici_core.dataset import Dataset, select_setting
from avici_core.metrics import score_prediction

REFERENCE = "pc"
METHODS = ("pc", "ges", "lingam", "dagma-linear", "flop", "var-sort", "gies", "ut-igsp")
N_OBS, N_INT = 1000, 500  # the setting sees 1000 rows either way


def dataset(domain: str, d: int, seed: int) -> Dataset:
    rng = np.random.default_rng(np.random.SeedSequence([zlib.crc32(domain.encode()), d, seed]))
    draw = draw_dataset(rng, get_domain(domain), n_vars=d, n_obs=N_OBS, n_int=N_INT)
    return Dataset(
        draw.g,
        draw.x_obs,
        draw.x_int,
        draw.mask_int,
        draw.x_obs,
        draw.x_int,
        draw.mask_int,
        bool(draw.is_count_data),
    )


def bench(domains: list[str], dims: list[int], timeout_s: float) -> pd.DataFrame:
    specs = load_methods()
    rows = []
    for domain in domains:
        for d in dims:
            ds = dataset(domain, d, seed=0)
            for method in METHODS:
                spec = specs[method]
                setting = "obs" if "obs" in spec.settings else "int"
                x, mask = select_setting(ds, setting)
                pred = run(
                    spec.implementation,
                    x,
                    mask,
                    spec.hparams,
                    0,
                    timeout_s,
                    is_count_data=ds.is_count_data,
                    truth=ds.g,
                )
                scored = score_prediction(np.random.default_rng(0), pred, ds.g)
                rows.append(
                    dict(
                        domain=domain,
                        d=d,
                        edges=int(ds.g.sum()),
                        method=method,
                        setting=setting,
                        status=pred.status,
                        time_s=pred.walltime_s,
                        auprc=scored["auprc"][0],
                        shd=scored["shd"][0],
                    )
                )
                logging.info(
                    "%s d=%d %s: %s %.2f s, AUPRC %.3f, SHD %g",
                    domain,
                    d,
                    method,
                    pred.status,
                    pred.walltime_s,
                    scored["auprc"][0],
                    scored["shd"][0],
                )
    df = pd.DataFrame(rows)
    ref = df[df.method == REFERENCE].set_index(["domain", "d"])["time_s"]
    df["x_pc"] = [t / ref[(dom, d)] for dom, d, t in zip(df.domain, df.d, df.time_s)]
    first = df[df.d == min(dims)].set_index(["domain", "method"])["time_s"]
    df["x_d_min"] = [t / first[(dom, m)] for dom, m, t in zip(df.domain, df.method, df.time_s)]
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="d in {10, 20}, lin-gauss only")
    parser.add_argument("--timeout", type=float, default=600.0, help="per method run, seconds")
    parser.add_argument("--domains", nargs="+", help="override the domains")
    parser.add_argument("--dims", nargs="+", type=int, help="override the d values")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    domains = args.domains or (["lin-gauss"] if args.quick else ["lin-gauss", "rff-gauss"])
    dims = args.dims or ([10, 20] if args.quick else [10, 20, 30, 50])
    df = bench(domains, dims, args.timeout)
    pd.set_option("display.width", 200)
    print(df.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print("\nwall time [s] per method (columns: d):")
    print(
        df.pivot_table(index=["domain", "method"], columns="d", values="time_s").to_string(
            float_format=lambda v: f"{v:.2f}"
        )
    )
    print("\nAUPRC per method (columns: d):")
    print(
        df.pivot_table(index=["domain", "method"], columns="d", values="auprc").to_string(
            float_format=lambda v: f"{v:.3f}"
        )
    )


if __name__ == "__main__":
    main()
