"""Figures from the long metrics frame and the prediction files (pipeline.md §5.3).

One figure per question: a box plot per metric (panels per domain and setting), a sweep figure
(metric against d or n) only where a family of domains (``lin-gauss``, ``lin-gauss-d50``) has two
sizes or more, calibration with its bin counts, heat maps. Every figure uses one fixed method order
and colour (``config/tables.yaml: methods``), is saved as PDF (paper) and PNG (report, sized to fit
its viewer), and draws an explanatory placeholder instead of crashing when the selection has
nothing to show (e.g. no method with edge probabilities).

Shapes: d variables; probabilities and graphs are [d, d] with entry (i, j) the edge i -> j.
"""

from __future__ import annotations

import logging
import math
import os
import re
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
from avici_core.report.tables import SETTING_NAMES, method_label, method_order

log = logging.getLogger(__name__)

WIDTH_IN = 5.5  # NeurIPS text width
FALLBACK_COLORS = sns.color_palette("tab10").as_hex() + sns.color_palette("Set2").as_hex()


def palette(methods: Iterable[str], spec: dict[str, Any]) -> dict[str, str]:
    """Label -> colour: the spec's colour where given, otherwise a stable fallback."""
    colors = {m["id"]: m["color"] for m in spec.get("methods", []) if "color" in m}
    ordered = method_order(list(methods), spec)
    spare = iter(c for c in FALLBACK_COLORS if c not in colors.values())
    return {method_label(m, spec): colors.get(m) or next(spare, "#333333") for m in ordered}


SIZE_SUFFIX = re.compile(r"-[dn]\d+$")  # lin-gauss-d50: lin-gauss at d = 50
SWEEPS = {  # figure -> (size column, metrics key of the figures spec, x label, log y)
    "auc_vs_d": ("n_vars", "curve_metrics", "variables d", False),
    "auc_vs_n": ("n_rows", "curve_metrics", "rows n", False),
    "walltime_vs_d": ("n_vars", "walltime_metric", "variables d", True),
}
MAX_COLUMNS = 4  # panels per figure row
PANEL_IN = (WIDTH_IN / MAX_COLUMNS, 1.55)  # width, height of one panel [in]
VIEWER_PX = (1300, 860)  # the largest PNG the Snakemake report shows without scrolling


def domain_family(domain: str) -> str:
    """The domain a size variant belongs to: ``lin-gauss-d50`` and ``lin-gauss`` are one family.

    A sweep figure puts the members of one family on one x axis and never pools families.
    """
    return SIZE_SUFFIX.sub("", domain)


def sweep_families(sizes: pd.DataFrame, column: str) -> dict[str, list[str]]:
    """Families whose domains take at least two values of ``column`` (``n_vars`` or ``n_rows``).

    ``sizes`` has one row per domain (columns domain, n_vars, n_rows); a size of 0 (unknown
    before loading, e.g. real data) never makes a sweep.
    """
    known = sizes[sizes[column] > 0]
    families: dict[str, list[str]] = {}
    for fam, group in known.groupby(known["domain"].map(domain_family), sort=True):
        if group[column].nunique() >= 2:
            families[fam] = sorted(group["domain"].unique())
    return families


def figure_names(spec: dict[str, Any], sizes: pd.DataFrame) -> list[str]:
    """Every figure the selection supports: a box plot per metric, a sweep figure only where
    some family of domains has two sizes or more, calibration and heat maps."""
    names = [f"box_{m}" for m in spec["figures"]["boxplot_metrics"]]
    names += [n for n, (column, *_) in SWEEPS.items() if sweep_families(sizes, column)]
    return [*names, "calibration", "heatmaps"]


def metric_title(metric: str, spec: dict[str, Any]) -> str:
    """``AUROC (higher is better)``: the display name and which way is better."""
    m = spec["metrics"].get(metric, {"higher_is_better": True})
    return f"{m.get('label', metric)} ({'higher' if m['higher_is_better'] else 'lower'} is better)"


def labelled(df: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Add the display column ``label`` (the method's name in tables and legends)."""
    labels = {m: method_label(m, spec) for m in df["method"].unique()}
    return df.assign(label=df["method"].map(labels))


def panel_grid(
    n_panels: int, *, columns: int = MAX_COLUMNS, row_heights: list[float] | None = None
) -> tuple[plt.Figure, np.ndarray]:
    """Up to ``columns`` panels per row, each row ``PANEL_IN[1]`` tall unless ``row_heights``
    [in] says otherwise; unused axes are hidden."""
    cols = min(columns, n_panels)
    rows = math.ceil(n_panels / cols)
    heights = row_heights or [PANEL_IN[1]] * rows
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(max(WIDTH_IN * cols / columns, 2.6), sum(heights) + 0.5),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for ax in axes.flat[n_panels:]:
        ax.set_axis_off()
    return fig, axes.flat[:n_panels]


def placeholder(message: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.2))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


def ok_rows(df: pd.DataFrame, metrics: Iterable[str]) -> pd.DataFrame:
    sel = df[(df["status"] == "ok") & df["metric"].isin(list(metrics))]
    return sel[np.isfinite(sel["value"])]


BOX_COLUMNS = 3  # box-plot panels per row: room for horizontal method names
BOX_IN = 0.12  # height of one method's box [in]


def boxplot(df: pd.DataFrame, spec: dict[str, Any], metric: str) -> plt.Figure:
    """``metric`` per test dataset: one panel per (domain, setting), one horizontal box per method
    that ran there (no empty slots; names stay readable however many), colours fixed per method."""
    data = labelled(ok_rows(df, [metric]), spec)
    if data.empty:
        return placeholder(f"no successful run has metric {metric}")
    colors = palette(data["method"].unique(), spec)
    panels = [
        (domain, setting)
        for domain in sorted(data["domain"].unique())
        for setting in ("obs", "int")
        if ((data["domain"] == domain) & (data["setting"] == setting)).any()
    ]
    orders = []
    for domain, setting in panels:
        present = set(data.loc[(data["domain"] == domain) & (data["setting"] == setting), "label"])
        orders.append([label for label in colors if label in present])
    cols = min(BOX_COLUMNS, len(panels))
    heights = [
        max(BOX_IN * max(len(o) for o in orders[i : i + cols]) + 0.45, 1.1)
        for i in range(0, len(panels), cols)
    ]
    fig, axes = panel_grid(len(panels), columns=cols, row_heights=heights)
    for ax, (domain, setting), order in zip(axes, panels, orders):
        sub = data[(data["domain"] == domain) & (data["setting"] == setting)]
        sns.boxplot(
            data=sub,
            x="value",
            y="label",
            hue="label",
            order=order,
            hue_order=order,
            palette=colors,
            ax=ax,
            linewidth=0.6,
            legend=False,
            showfliers=False,
            orient="h",
        )
        sns.stripplot(
            data=sub, x="value", y="label", order=order, ax=ax, color="k", size=1.5, jitter=0.15
        )
        ax.set_title(f"{domain}\n{SETTING_NAMES[setting]}", fontsize=6.5)
        ax.set(xlabel="", ylabel="")
        ax.tick_params(axis="both", labelsize=5.5)
    fig.suptitle(f"{metric_title(metric, spec)}, one point per test dataset", fontsize=8)
    fig.tight_layout()
    return fig


def versus(df: pd.DataFrame, spec: dict[str, Any], *, figure: str) -> plt.Figure:
    """Mean ± standard error of a metric against a size, one panel per (family of domains,
    metric, setting) whose domains take two sizes or more; families are never pooled."""
    column, key, xlabel, log_y = SWEEPS[figure]
    metrics = spec["figures"][key]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    data = labelled(ok_rows(df, metrics), spec)
    families = sweep_families(data.drop_duplicates("domain"), column) if not data.empty else {}
    if not families:
        return placeholder(f"no family of domains with two values of {xlabel} or more")
    colors = palette(data["method"].unique(), spec)
    panels = [
        (fam, metric, setting)
        for fam, domains in families.items()
        for metric in metrics
        for setting in ("obs", "int")
        if (
            data["domain"].isin(domains) & (data["metric"] == metric) & (data["setting"] == setting)
        ).any()
    ]
    fig, axes = panel_grid(len(panels))
    for ax, (fam, metric, setting) in zip(axes, panels):
        sub = data[
            data["domain"].isin(families[fam])
            & (data["metric"] == metric)
            & (data["setting"] == setting)
        ]
        stats = sub.groupby(["label", column])["value"].agg(["mean", "sem"]).reset_index()
        for label in (lab for lab in colors if lab in set(stats["label"])):
            line = stats[stats["label"] == label]
            ax.errorbar(
                line[column],
                line["mean"],
                yerr=line["sem"].fillna(0.0),
                marker="o",
                ms=3,
                lw=1,
                capsize=2,
                color=colors[label],
                label=label,
            )
        ax.set_xticks(sorted(sub[column].unique()))
        ax.set_title(f"{fam}\n{SETTING_NAMES[setting]}", fontsize=7)  # one line overlaps neighbours
        ax.set_xlabel(xlabel, fontsize=7)
        ax.set_ylabel(spec["metrics"].get(metric, {}).get("label", metric), fontsize=7)
        ax.tick_params(which="both", labelsize=6)  # log axes label minor ticks too
        if log_y:
            ax.set_yscale("log")
    handles = {h.get_label(): h for ax in axes for h in ax.get_legend_handles_labels()[0]}
    columns = min(len(handles), 5)
    # the legend gets its own strip below the panels, as tall as its rows of entries
    legend_in = 0.15 * math.ceil(len(handles) / columns) + 0.1
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + legend_in)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="lower center",
        ncol=columns,
        fontsize=6,
        frameon=False,
    )
    fig.suptitle("Mean ± standard error over test datasets", fontsize=8)
    fig.tight_layout(rect=(0, legend_in / (height + legend_in), 1, 1))
    return fig


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
    """Reliability curves per method and setting (``curves`` from ``calibration_table``), above
    the number of edges in each bin: a low ECE from a mass of near-zero bins shows as such."""
    if curves.empty:
        return placeholder("no method with edge probabilities in this selection")
    colors = palette(curves["method"].unique(), spec)
    settings = sorted(curves["setting"].unique(), reverse=True)  # obs, int
    n_bins = spec["figures"]["calibration_bins"]
    fig, axes = plt.subplots(
        2,
        len(settings),
        figsize=(WIDTH_IN, 4.4),
        squeeze=False,
        sharex=True,
        gridspec_kw={"height_ratios": [2.2, 1]},
    )
    for col, setting in enumerate(settings):
        top, bottom = axes[0, col], axes[1, col]
        for method in method_order(list(curves["method"].unique()), spec):
            c = curves[(curves["method"] == method) & (curves["setting"] == setting)]
            if c.empty:
                continue
            label = method_label(method, spec)
            ece = expected_calibration_error(c)
            top.plot(
                c["confidence"],
                c["accuracy"],
                "o-",
                ms=3,
                color=colors[label],
                label=f"{label} (ECE {ece:.3f})",
            )
            edges = np.arange(n_bins + 1) / n_bins
            counts = np.zeros(n_bins)
            counts[c["bin"].to_numpy(int)] = c["count"].to_numpy()
            bottom.stairs(counts, edges, color=colors[label], lw=1)
        top.plot([0, 1], [0, 1], "k--", lw=0.8)
        top.set(xlim=(0, 1), ylim=(0, 1))
        top.set_title(SETTING_NAMES[setting], fontsize=8)
        top.set_ylabel("fraction of true edges", fontsize=7)
        top.legend(fontsize=6, loc="upper left")
        bottom.set_yscale("log")
        bottom.set_xlabel("predicted p(edge)", fontsize=7)
        bottom.set_ylabel("edges in bin", fontsize=7)
        for ax in (top, bottom):
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def heatmaps(panels: list[tuple[str, str, np.ndarray | None]]) -> plt.Figure:
    """Grid of [d, d] matrices: one row per label (domain and setting, sorted), one column per
    label in the order of first appearance (the truth, then each method); each label is written
    once, rows on the left and columns, turned upright, on top, so that many methods do not
    overlap.

    A ``None`` matrix is a failed run: its panel is left empty with a note.
    """
    if not panels:
        return placeholder("no prediction files to draw")
    rows = sorted(dict.fromkeys(r for r, _, _ in panels))
    cols = list(dict.fromkeys(c for _, c, _ in panels))
    size = min(1.0, WIDTH_IN / (len(cols) + 1))
    fig, axes = plt.subplots(
        len(rows),
        len(cols),
        figsize=(size * (len(cols) + 1), size * len(rows)),  # labels: saved with a tight box
        squeeze=False,
        gridspec_kw={"wspace": 0.08, "hspace": 0.08},
    )
    for ax in axes.flat:
        ax.set_box_aspect(1)  # empty panels square too, so that the column titles line up
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    for j, col in enumerate(cols):
        axes[0, j].set_title(col, fontsize=6, rotation=90, va="bottom")
    for i, row in enumerate(rows):
        axes[i, 0].set_ylabel(row, fontsize=6, rotation=0, ha="right", va="center")
    image = None
    for r, c, mat in panels:
        ax = axes[rows.index(r), cols.index(c)]
        if mat is None:
            ax.text(
                0.5, 0.5, "failed", ha="center", va="center", fontsize=5, transform=ax.transAxes
            )
            continue
        image = ax.imshow(mat, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.5, pad=0.02)
        bar.ax.tick_params(labelsize=6)
        bar.set_label("edge probability (truth: 0/1)", fontsize=6)
    return fig


def png_dpi(fig: plt.Figure) -> float:
    """200 dpi, less for a figure that would otherwise not fit the report viewer (``VIEWER_PX``):
    the viewer centres an image, so a taller one loses its top row to the scroll area."""
    width, height = fig.get_size_inches()
    return min(200.0, VIEWER_PX[0] / width, VIEWER_PX[1] / height)


def save(fig: plt.Figure, out_dir: str | os.PathLike, name: str) -> None:
    """PDF for the paper, PNG (at most 200 dpi, see ``png_dpi``) for the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for ext, kwargs in (("pdf", {}), ("png", {"dpi": png_dpi(fig)})):
        with atomic_path(out / f"{name}.{ext}") as tmp:
            fig.savefig(tmp, format=ext, bbox_inches="tight", **kwargs)
    plt.close(fig)
