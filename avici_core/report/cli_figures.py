"""``python -m avici_core figures --metrics all.csv --spec config/tables.yaml --predictions DIR
--data DIR --out-dir DIR [--figure NAME ...]``

Writes each figure as PDF and PNG: ``box_<metric>`` per box-plot metric, ``auc_vs_d``,
``auc_vs_n`` and ``walltime_vs_d`` where the selection sweeps that size, ``calibration`` and
``heatmaps`` (default: every figure the selection supports, ``figures.figure_names``; the
workflow names them, as it must know its outputs before the data exist), and
``calibration.csv`` (the reliability bins). Prediction and dataset files are found from the rows
of the metrics file: ``DIR/<domain>/<setting>/<method>/<seed>.npz`` and ``DIR/<domain>/<seed>.npz``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from avici_core.cli import command_parser
from avici_core.dataset import load_dataset
from avici_core.prediction import load_prediction
from avici_core.report import figures
from avici_core.report.aggregate import read_metrics_csv, write_csv_atomic
from avici_core.report.spec import load_tables_spec
from avici_core.report.tables import method_label, method_order

log = logging.getLogger(__name__)


def dataset_sizes(runs: pd.DataFrame, data_root: Path) -> pd.DataFrame:
    """n_vars and n_rows (rows a method sees; equal in both settings) per (domain, seed)."""
    records = []
    for domain, seed in runs[["domain", "seed"]].drop_duplicates().itertuples(index=False):
        ds = load_dataset(run_file(data_root / domain, seed))
        records.append((domain, seed, ds.n_vars, ds.x_obs.shape[0]))
    return pd.DataFrame.from_records(records, columns=["domain", "seed", "n_vars", "n_rows"])


def prediction_path(root: Path, domain: str, setting: str, method: str, seed: int) -> Path:
    return root / domain / setting / method / f"{seed}.npz"


def run_file(folder: Path, seed: int) -> Path:
    """The file of integer ``seed`` in a dataset or prediction folder: ``{seed}.npz`` on the test
    stream, ``<stream>-{seed}.npz`` on another (the workflow runs a (domain, setting, method,
    seed) on one stream only, so metric rows carry the integer seed)."""
    plain = folder / f"{seed}.npz"
    if plain.exists():
        return plain
    other = sorted(folder.glob(f"*-{seed}.npz"))
    if len(other) != 1:
        raise FileNotFoundError(
            f"no file for seed {seed} in {folder} (looked for {plain.name}); if it was deleted by"
            " hand from a method's folder output, delete that whole folder so that the workflow"
            " runs it again (Snakemake checks a folder output as a whole, not file by file)"
        )
    return other[0]


def calibration_table(
    runs: pd.DataFrame, pred_root: Path, data_root: Path, n_bins: int
) -> pd.DataFrame:
    """Reliability bins per (method, setting), pooled over datasets with probabilities."""
    pooled: dict[tuple[str, str], tuple[list, list]] = {}
    truths: dict[Path, np.ndarray] = {}
    for r in runs.itertuples(index=False):
        path = run_file(pred_root / r.domain / r.setting / r.method, r.seed)
        pred = load_prediction(path)
        if pred.status != "ok" or not pred.has_probs:
            continue
        data = data_root / r.domain / path.name  # same stream and index as the prediction
        if data not in truths:
            truths[data] = load_dataset(data).g
        probs, truth = pooled.setdefault((r.method, r.setting), ([], []))
        probs.append(pred.scores)  # [d, d]
        truth.append(truths[data])  # [d, d]
    frames = []
    for (method, setting), (probs, truth) in pooled.items():
        # datasets may differ in d: bin each, then pool counts and sums per bin
        bins = pd.concat(
            [figures.reliability(p, y, n_bins) for p, y in zip(probs, truth)], ignore_index=True
        )
        merged = bins.assign(
            psum=bins["confidence"] * bins["count"], ysum=bins["accuracy"] * bins["count"]
        )
        merged = merged.groupby("bin")[["count", "psum", "ysum"]].sum().reset_index()
        frames.append(
            pd.DataFrame(
                {
                    "method": method,
                    "setting": setting,
                    "bin": merged["bin"],
                    "count": merged["count"],
                    "confidence": merged["psum"] / merged["count"],
                    "accuracy": merged["ysum"] / merged["count"],
                }
            )
        )
    cols = ["method", "setting", "bin", "count", "confidence", "accuracy"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def heatmap_panels(runs: pd.DataFrame, pred_root: Path, data_root: Path, spec: dict) -> list:
    """Truth and each method's scores on the first test-stream dataset of each (domain, setting):
    one row per pair, labelled ``domain (setting)``, one column per method; a method run only on
    another seed stream (tuning) has no panel."""
    panels = []
    order = {
        method_label(m, spec): i for i, m in enumerate(method_order(runs["method"].unique(), spec))
    }
    for (domain, setting), sub in runs.groupby(["domain", "setting"], sort=True):
        seed = int(runs.loc[runs["domain"] == domain, "seed"].min())
        row = f"{domain} ({setting})"
        panels.append(
            (row, "truth", load_dataset(data_root / domain / f"{seed}.npz").g.astype(float))
        )
        for method in method_order(list(sub["method"].unique()), spec):
            path = prediction_path(pred_root, domain, setting, method, seed)
            if not path.exists():
                continue
            pred = load_prediction(path)
            mat = pred.scores if pred.has_probs else pred.graph.astype(float)  # [d, d]
            mat = np.clip(mat, 0, 1) if pred.status == "ok" else None
            panels.append((row, method_label(method, spec), mat))
    # columns in the spec's method order whichever row a method first appears in
    return sorted(panels, key=lambda panel: -1 if panel[1] == "truth" else order[panel[1]])


def main(argv: list[str]) -> int:
    parser = command_parser("figures", __doc__)
    parser.add_argument("--metrics", required=True, help="long-form CSV from `aggregate`")
    parser.add_argument("--spec", required=True, help="config/tables.yaml")
    parser.add_argument("--predictions", required=True, help="root folder of prediction files")
    parser.add_argument("--data", required=True, help="root folder of dataset files")
    parser.add_argument("--out-dir", required=True, help="folder for the figures")
    parser.add_argument(
        "--figure", action="append", metavar="NAME", help="draw only this figure (repeatable)"
    )
    args = parser.parse_args(argv)
    spec = load_tables_spec(args.spec)
    pred_root, data_root = Path(args.predictions), Path(args.data)
    df = read_metrics_csv(args.metrics)
    runs = df[["domain", "setting", "method", "seed"]].drop_duplicates()
    sizes = dataset_sizes(runs, data_root)
    df = df.merge(sizes, on=["domain", "seed"], how="left")
    fig_spec = spec["figures"]
    names = args.figure or figures.figure_names(spec, sizes.drop_duplicates("domain"))
    for name in names:
        if name == "calibration":
            curves = calibration_table(runs, pred_root, data_root, fig_spec["calibration_bins"])
            write_csv_atomic(curves, Path(args.out_dir) / "calibration.csv")
            fig = figures.calibration(curves, spec)
        elif name == "heatmaps":
            fig = figures.heatmaps(heatmap_panels(runs, pred_root, data_root, spec))
        elif name in figures.SWEEPS:
            fig = figures.versus(df, spec, figure=name)
        elif name.startswith("box_") and name[4:] in spec["metrics"]:
            fig = figures.boxplot(df, spec, name[4:])
        else:
            parser.error(
                f"unknown figure {name!r}; known: {', '.join(figures.figure_names(spec, sizes))}"
            )
        figures.save(fig, args.out_dir, name)
    log.info("wrote %d figures to %s", len(names), args.out_dir)
    return 0
