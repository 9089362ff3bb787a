"""``python -m avici_core discover TABLE.csv [--interventions MASK.csv] --out DIR``

Runs an AVICI model on a user's table (header = variable names, one row per sample) and writes
  DIR/edge_probabilities.csv   p(i -> j), rows = cause i, columns = effect j
  DIR/graph.csv                the graph thresholded at --threshold (0/1, same layout)
  DIR/graph.png                a drawing of that graph
  DIR/heatmap.png              a heat map of the edge probabilities
The optional mask has the same header and shape, with 1 where a value was set by an intervention.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)
DEFAULT_MODEL = "avici-small-v1"
MIN_ROWS = 10


def read_table(path: str | Path, *, what: str = "data") -> pd.DataFrame:
    """A numeric table with named columns; every problem is reported with what to change."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{what} file {path} not found")
    df = pd.read_csv(path)
    if df.shape[1] < 2:
        raise ValueError(f"{path}: found {df.shape[1]} column(s); need at least 2 variables")
    non_numeric = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise ValueError(f"{path}: column(s) {non_numeric} are not numeric; encode or drop them")
    missing = df.isna().to_numpy()
    if missing.any():
        rows, cols = np.nonzero(missing)
        raise ValueError(
            f"{path}: {int(missing.sum())} missing value(s), first in row {rows[0] + 1} "
            f"(after the header), column {df.columns[cols[0]]!r}; drop or impute them"
        )
    return df


def load_inputs(data: str, interventions: str | None) -> tuple[pd.DataFrame, np.ndarray | None]:
    df = read_table(data)
    if len(df) < MIN_ROWS:
        raise ValueError(f"{data}: {len(df)} row(s); need at least {MIN_ROWS} samples")
    if interventions is None:
        return df, None
    mask = read_table(interventions, what="intervention mask")
    if list(mask.columns) != list(df.columns) or mask.shape != df.shape:
        raise ValueError(
            f"{interventions}: the mask must have the data's header and shape {df.shape}, "
            f"got {mask.shape} with columns {list(mask.columns)}"
        )
    return df, mask.to_numpy()


def draw_outputs(probs: np.ndarray, graph: np.ndarray, names: list[str], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx
    import seaborn as sns

    size = max(4.0, 0.45 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    sns.heatmap(
        probs,
        vmin=0,
        vmax=1,
        cmap="viridis",
        square=True,
        ax=ax,
        xticklabels=names,
        yticklabels=names,
        cbar_kws={"label": "p(row → column)"},
    )
    ax.set_xlabel("effect")
    ax.set_ylabel("cause")
    fig.tight_layout()
    fig.savefig(out / "heatmap.png", dpi=150)
    plt.close(fig)

    g = nx.relabel_nodes(
        nx.from_numpy_array(graph, create_using=nx.DiGraph), dict(enumerate(names))
    )
    fig, ax = plt.subplots(figsize=(size, size))
    pos = nx.circular_layout(g)
    nx.draw_networkx(
        g,
        pos,
        ax=ax,
        node_color="#f2f2f2",
        edgecolors="#444444",
        node_size=900,
        font_size=8,
        arrowsize=14,
        width=1.2,
    )
    ax.set_title(f"edges with p > threshold: {int(graph.sum())}")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out / "graph.png", dpi=150)
    plt.close(fig)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m avici_core discover",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("table", help="CSV with a header of variable names")
    parser.add_argument("--interventions", default=None, help="0/1 CSV mask, same header and shape")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model directory or shipped name")
    parser.add_argument("--threshold", type=float, default=0.5, help="edge threshold for graph.csv")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    try:
        df, mask = load_inputs(args.table, args.interventions)
    except ValueError as err:
        parser.exit(2, f"error: {err}\n")

    from avici_core.model.api import load_model

    try:
        model = load_model(args.model)
        start = time.perf_counter()
        probs = model(df.to_numpy(dtype=np.float64), interv=mask)
    except (ValueError, FileNotFoundError) as err:
        parser.exit(2, f"error: {err}\n")
    seconds = time.perf_counter() - start
    names = [str(c) for c in df.columns]
    graph = (probs > args.threshold).astype(np.int8)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(probs, index=names, columns=names).to_csv(
        out / "edge_probabilities.csv", float_format="%.6f"
    )
    pd.DataFrame(graph, index=names, columns=names).to_csv(out / "graph.csv")
    draw_outputs(probs, graph, names, out)
    log.info(
        "%d rows x %d variables: %d edges above %.2f in %.1f s (%.1f s compile); wrote %s",
        len(df),
        len(names),
        int(graph.sum()),
        args.threshold,
        seconds,
        model.last_compile_s,
        out,
    )
    return 0
