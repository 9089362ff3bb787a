"""Figures from the long metrics frame and the prediction files (pipeline.md §5.3).

Every figure uses one fixed method order and colour (``config/tables.yaml: methods``), is saved as
PDF (paper) and PNG (report), and draws an explanatory placeholder instead of crashing when the
selection has nothing to show (e.g. no method with edge probabilities).

Shapes: d variables; probabilities and graphs are [d, d] with entry (i, j) the edge i -> j.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from avici_core.io import atomic_path
from avici_core.report.tables import method_label, method_order

log = logging.getLogger(__name__)

WIDTH_IN = 5.5  # NeurIPS text width
FALLBACK_COLORS = sns.color_palette("tab10").as_hex() + sns.color_palette("Set2").as_hex()


def palette(methods: Iterable[str], spec: dict[str, Any]) -> dict[str, str]:
    """Label -> colour: the spec's colour where given, otherwise a stable fallback."""
    colors = {m["id"]: m["color"] for m in spec.get("methods", []) if "color" in m}
    ordered = method_order(list(methods), spec)
    spare = iter(c for c in FALLBACK_COLORS if c not in colors.values())
    return {method_label(m, spec): colors.get(m) or next(spare, "#333333") for m in ordered}


def labelled(df: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Add display columns: method label and 'label (setting)'."""
    labels = {m: method_label(m, spec) for m in df["method"].unique()}
    return df.assign(label=df["method"].map(labels))


def placeholder(message: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.2))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


def ok_rows(df: pd.DataFrame, metrics: Iterable[str]) -> pd.DataFrame:
    sel = df[(df["status"] == "ok") & df["metric"].isin(list(metrics))]
    return sel[np.isfinite(sel["value"])]


def boxplots(df: pd.DataFrame, spec: dict[str, Any]) -> plt.Figure:
    """One box per method for each domain (columns) and metric/setting (rows)."""
    metrics = spec["figures"]["boxplot_metrics"]
    data = labelled(ok_rows(df, metrics), spec)
    if data.empty:
        return placeholder(f"no successful runs with metrics {metrics}")
    names = {m: spec["metrics"].get(m, {}).get("label", m) for m in metrics}
    data = data.assign(panel=data["metric"].map(names) + " (" + data["setting"] + ")")
    panels = [f"{names[m]} ({s})" for s in ("obs", "int") for m in metrics]
    colors = palette(data["method"].unique(), spec)
    grid = sns.catplot(
        data=data,
        kind="box",
        x="label",
        y="value",
        hue="label",
        order=list(colors),
        hue_order=list(colors),
        palette=colors,
        col="domain",
        row="panel",
        row_order=[p for p in panels if p in set(data["panel"])],
        sharey=False,
        height=1.8,
        aspect=1.3,
        legend=False,
        linewidth=0.6,
        fliersize=2,
    )
    grid.set_titles("{row_name} | {col_name}").set_axis_labels("", "")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", labelrotation=45)
    return grid.figure


def versus(
    df: pd.DataFrame,
    spec: dict[str, Any],
    *,
    metrics: list[str],
    x: str,
    xlabel: str,
    log_y: bool = False,
) -> plt.Figure:
    """Mean ± standard error of ``metrics`` against a size column (n_vars or n_rows)."""
    data = labelled(ok_rows(df, metrics), spec)
    if data.empty:
        return placeholder(f"no successful runs with metrics {metrics}")
    colors = palette(data["method"].unique(), spec)
    grid = sns.catplot(
        data=data,
        kind="point",
        x=x,
        y="value",
        hue="label",
        hue_order=list(colors),
        palette=colors,
        col="metric",
        row="setting",
        errorbar="se",
        sharey=False,
        height=1.9,
        aspect=1.3,
        markersize=3,
        linewidth=1,
    )
    grid.set_titles("{col_name} ({row_name})").set_axis_labels(xlabel, "")
    if log_y:
        for ax in grid.axes.flat:
            ax.set_yscale("log")
    return grid.figure


def reliability(probs: np.ndarray, truth: np.ndarray, n_bins: int) -> pd.DataFrame:
    """Equal-width reliability bins of off-diagonal edge probabilities.

    Args:
      probs: [..., d, d] predicted probabilities in [0, 1].
      truth: [..., d, d] 0/1 true adjacency.
      n_bins: bins on [0, 1] (the last one closed).

    Returns:
      One row per non-empty bin: bin, count, confidence (mean p), accuracy (fraction of edges).
    """
    d = probs.shape[-1]
    off = ~np.eye(d, dtype=bool)
    p = np.broadcast_to(probs, truth.shape)[..., off].ravel()  # [m]
    y = truth[..., off].ravel().astype(float)  # [m]
    if p.size == 0 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError("reliability needs probabilities in [0, 1] for at least one edge")
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)  # [m]
    frame = pd.DataFrame({"bin": idx, "p": p, "y": y})
    out = frame.groupby("bin").agg(
        count=("p", "size"), confidence=("p", "mean"), accuracy=("y", "mean")
    )
    return out.reset_index()


def expected_calibration_error(bins: pd.DataFrame) -> float:
    weights = bins["count"] / bins["count"].sum()
    return float((weights * (bins["accuracy"] - bins["confidence"]).abs()).sum())


def calibration(curves: pd.DataFrame, spec: dict[str, Any]) -> plt.Figure:
    """Reliability curves per method and setting (``curves`` from ``calibration_table``)."""
    if curves.empty:
        return placeholder("no method with edge probabilities in this selection")
    colors = palette(curves["method"].unique(), spec)
    settings = sorted(curves["setting"].unique(), reverse=True)  # obs, int
    fig, axes = plt.subplots(1, len(settings), figsize=(WIDTH_IN, WIDTH_IN / 2), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        for method in method_order(list(curves["method"].unique()), spec):
            c = curves[(curves["method"] == method) & (curves["setting"] == setting)]
            if c.empty:
                continue
            label = method_label(method, spec)
            ece = expected_calibration_error(c)
            ax.plot(
                c["confidence"],
                c["accuracy"],
                "o-",
                ms=3,
                color=colors[label],
                label=f"{label} (ECE {ece:.3f})",
            )
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="predicted p(edge)",
            ylabel="fraction of true edges",
            title=setting,
        )
        ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return fig


def heatmaps(panels: list[tuple[str, str, np.ndarray | None]]) -> plt.Figure:
    """Grid of [d, d] matrices: rows are domains, columns the truth then each method.

    A ``None`` matrix is a failed run: its panel is left empty with a note.
    """
    if not panels:
        return placeholder("no prediction files to draw")
    rows = list(dict.fromkeys(r for r, _, _ in panels))
    cols = list(dict.fromkeys(c for _, c, _ in panels))
    size = min(1.4, WIDTH_IN / len(cols))
    fig, axes = plt.subplots(
        len(rows), len(cols), figsize=(size * len(cols), size * len(rows)), squeeze=False
    )
    for ax in axes.flat:
        ax.set_axis_off()
    image = None
    for r, c, mat in panels:
        ax = axes[rows.index(r), cols.index(c)]
        ax.set_title(f"{c}\n{r}" if rows.index(r) == 0 else r, fontsize=6)
        if mat is None:
            ax.text(
                0.5, 0.5, "failed", ha="center", va="center", fontsize=6, transform=ax.transAxes
            )
            continue
        image = ax.imshow(mat, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6)
    return fig


def save(fig: plt.Figure, out_dir: str | os.PathLike, name: str) -> None:
    """PDF for the paper, PNG (200 dpi) for the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for ext, kwargs in (("pdf", {}), ("png", {"dpi": 200})):
        with atomic_path(out / f"{name}.{ext}") as tmp:
            fig.savefig(tmp, format=ext, bbox_inches="tight", **kwargs)
    plt.close(fig)
