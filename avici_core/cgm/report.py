"""Tables (mean ± std over seeds, best in bold; md / tex / csv) and figures of the image track.

Input: metric JSON files ``{"dataset", "model", "graph", "seed", "metrics": {name: value}}``.
Long form: one row per (dataset, model, graph, seed, metric, value), the common contract.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from avici_core.io import atomic_path, write_text

DEFAULT_COLUMNS = (
    "random/gt_l1",
    "random/gt_iou",
    "random/cfpa_err",
    "composition_1",
    "composition_10",
    "reversibility",
)


def higher_is_better(metric: str) -> bool:
    leaf = metric.rsplit("/", 1)[-1]
    return leaf.startswith("acc_") or leaf.startswith("gt_iou")


def long_frame(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    rows = []
    for p in paths:
        rec = json.loads(Path(p).read_text())
        for metric, value in rec["metrics"].items():
            rows.append(
                {k: rec[k] for k in ("dataset", "model", "graph", "seed")}
                | {"metric": metric, "value": value}
            )
    if not rows:
        raise ValueError("no metric rows found; pass the cgm metric JSON files")
    return pd.DataFrame(rows)


def expand_columns(columns: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """Columns with shell-style patterns expanded against the metric names, in sorted order
    (``random/acc_*``: every categorical attribute's effectiveness, whatever the dataset); a
    pattern that matches nothing stays, so that :func:`summary` names it."""
    out: list[str] = []
    for col in columns:
        matches = (
            sorted(m for m in set(metrics) if fnmatch.fnmatchcase(m, col)) if "*" in col else []
        )
        out += [m for m in matches or [col] if m not in out]
    return out


def summary(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """mean, std and n per (dataset, model, graph, metric) for the requested metrics."""
    missing = sorted(set(columns) - set(df.metric))
    if missing:
        raise ValueError(
            f"metric(s) {missing} are not in the inputs; known: {sorted(set(df.metric))[:20]}..."
        )
    sub = df[df.metric.isin(columns)]
    return (
        sub.groupby(["dataset", "model", "graph", "metric"], sort=False)["value"]
        .agg(mean="mean", std="std", n="count")
        .reset_index()
    )


def _cells(s: pd.DataFrame, columns: Sequence[str], bold_tpl: str) -> pd.DataFrame:
    """Formatted 'mean ± std' cells, rows = dataset/model/graph, one column per metric."""
    out = {}
    for (ds, metric), grp in s.groupby(["dataset", "metric"], sort=False):
        means = grp["mean"].to_numpy()
        finite = np.isfinite(means)
        best = (
            (np.nanmax if higher_is_better(metric) else np.nanmin)(means)
            if finite.any()
            else np.nan
        )
        for (_, r), is_best in zip(grp.iterrows(), np.isclose(means, best)):
            cell = (
                "—"
                if not np.isfinite(r["mean"])
                else f"{r['mean']:.3g} ± {np.nan_to_num(r['std']):.2g}"
            )
            out.setdefault((ds, r["model"], r["graph"]), {})[metric] = (
                bold_tpl.format(cell) if is_best and np.isfinite(r["mean"]) else cell
            )
    # a metric another dataset has (e.g. acc_digit on sprites_scm) is an empty cell
    frame = pd.DataFrame.from_dict(out, orient="index").reindex(columns=list(columns)).fillna("")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["dataset", "model", "graph"])
    return frame


def write_tables(df: pd.DataFrame, columns: Sequence[str], prefix: str | os.PathLike) -> None:
    """``prefix``.md / .tex / .csv; the csv keeps numeric mean, std and n."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    columns = expand_columns(columns, df.metric.unique())
    s = summary(df, columns)
    n = int(s["n"].max())
    note = f"mean ± std over {n} seed(s); best per dataset in bold"
    md = _cells(s, columns, "**{}**").reset_index()
    write_text(prefix.with_suffix(".md"), f"{md.to_markdown(index=False)}\n\n{note}.\n")
    tex = _cells(s, columns, r"\textbf{{{}}}").reset_index()
    body = tex.to_latex(index=False, escape=False).replace("±", r"$\pm$").replace("_", r"\_")
    write_text(prefix.with_suffix(".tex"), f"% {note}\n{body}")
    with atomic_path(prefix.with_suffix(".csv")) as tmp:
        s.to_csv(tmp, index=False)


def example_grid(
    examples: dict[str, dict[str, np.ndarray]], out: str | os.PathLike, k: int = 4
) -> None:
    """Per model: k columns each of factual | model counterfactual | true counterfactual."""
    models = list(examples)
    fig, axes = plt.subplots(
        len(models), 3 * k, figsize=(1.0 * 3 * k, 1.1 * len(models) + 0.4), squeeze=False
    )
    for r, m in enumerate(models):
        ex = examples[m]
        for c in range(k):
            for t, key in enumerate(("x", "x_star", "x_true")):
                ax = axes[r, 3 * c + t]
                ax.imshow(ex[key][c], cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([]), ax.set_yticks([])
                if r == 0:
                    ax.set_title(("factual", "model x*", "true x*")[t], fontsize=6)
        axes[r, 0].set_ylabel(m, fontsize=7)
    fig.suptitle(f"query {examples[models[0]]['query']}", fontsize=8)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=Path(out).suffix.lstrip("."), dpi=150, bbox_inches="tight")
    plt.close(fig)


def bridge_figure(df: pd.DataFrame, out: str | os.PathLike, metric: str = "random/gt_l1") -> None:
    """True-counterfactual error against the SHD of the graph the parent SCM was fitted on."""
    wide = (
        df[df.metric.isin([metric, "shd"])]
        .pivot_table(index=["dataset", "model", "graph", "seed"], columns="metric", values="value")
        .reset_index()
    )
    if "shd" not in wide or metric not in wide:
        raise ValueError(f"bridge figure needs 'shd' and {metric!r} in the metric files")
    fig, ax = plt.subplots(figsize=(4.0, 3.0))
    for g, grp in wide.groupby("graph"):
        ax.scatter(grp["shd"], grp[metric], label=g, s=18)
    ax.set_xlabel("SHD of the attribute graph")
    ax.set_ylabel(f"{metric} (0-255)")
    ax.legend(fontsize=6)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=Path(out).suffix.lstrip("."), dpi=150, bbox_inches="tight")
    plt.close(fig)
