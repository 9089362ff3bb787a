"""python -m avici_core discover TABLE.csv [--interventions MASK.csv] --out DIR

Runs an AVICI model on your table and writes
  DIR/edge_probabilities.csv   p(i -> j), rows = cause i, columns = effect j
  DIR/graph.csv                the edges kept (0/1, same layout): probability above the model's
                               decision threshold (chosen on validation data and stored with the
                               model), or --threshold P, or the --top-k K most probable edges
  DIR/graph.png                a drawing of that graph
  DIR/heatmap.png              a heat map of the edge probabilities
TABLE has one row per sample and one column per variable, with a header of variable names (a
table without one is read with names X1..Xd and a warning); the separator (comma, semicolon,
tab, bar or spaces) is detected. The optional mask has the same header and shape, with 1 where a
value was set by an intervention. Problems are reported with the file, the 1-based data row
and the column, and what to change.
"""

from __future__ import annotations

import csv
import logging
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from avici_core.cli import command_parser
from avici_core.seeds import seed_stream

log = logging.getLogger(__name__)
DEFAULT_MODEL = "avici-small-v10"
SEPARATORS = ",;\t|"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _layout(path: Path) -> tuple[str, bool]:
    """The separator and whether the first line is a header (``False``: it is all numbers)."""
    with open(path, newline="", errors="replace") as f:
        sample = f.read(65536)
    lines = [line for line in sample.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: the file is empty; give one row per sample with a header row")
    try:
        sep = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=SEPARATORS).delimiter
    except csv.Error:  # one column, or columns separated by spaces
        sep = r"\s+" if len(lines[0].split()) > 1 else ","
    first = lines[0].split() if sep == r"\s+" else next(csv.reader([lines[0]], delimiter=sep))
    has_header = not all(_is_number(field.strip()) for field in first if field.strip())
    return sep, has_header


def read_table(path: str | Path, *, what: str = "data") -> pd.DataFrame:
    """A numeric table with named columns; every problem of its layout is reported with what to
    change (its values are checked by the model, which names this file, row and column)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} file {path} not found")
    sep, has_header = _layout(path)
    df = pd.read_csv(path, sep=sep, header=0 if has_header else None, engine="python")
    if not has_header:
        df.columns = [f"X{j + 1}" for j in range(df.shape[1])]
        log.warning(
            "%s: the first row is all numbers, so it was read as data; the variables are named "
            "X1..X%d (add a header row to name them)",
            path,
            df.shape[1],
        )
    if df.empty:
        raise ValueError(f"{path}: a header but no data rows; give one row per sample below it")
    for column in df.columns:
        if not pd.api.types.is_numeric_dtype(df[column]):
            values = pd.to_numeric(df[column], errors="coerce")
            row = int(np.flatnonzero(values.isna() & df[column].notna())[0])
            raise ValueError(
                f"{path}, row {row + 1}, column {str(column)!r}: {df[column].iloc[row]!r} is not "
                "a number; encode the column as numbers or drop it"
            )
    return df  # values are checked once, by the model (check_observations, with these names)


def load_inputs(data: str, interventions: str | None) -> tuple[pd.DataFrame, np.ndarray | None]:
    df = read_table(data)
    if interventions is None:
        return df, None
    mask = read_table(interventions, what="intervention mask")
    if list(mask.columns) != list(df.columns) or mask.shape != df.shape:
        raise ValueError(
            f"{interventions}: the mask must have the data's header and shape {df.shape}, "
            f"got {mask.shape} with columns {list(mask.columns)}"
        )
    return df, mask.to_numpy()


def keep_edges(probs: np.ndarray, *, threshold: float, top_k: int | None) -> np.ndarray:
    """0/1 graph: the ``top_k`` most probable off-diagonal entries, else those above threshold."""
    if top_k is None:
        return (probs > threshold).astype(np.int8)
    off = ~np.eye(probs.shape[0], dtype=bool)
    order = np.argsort(-probs[off], kind="stable")[:top_k]
    graph = np.zeros(probs.shape, np.int8)
    rows, cols = np.nonzero(off)
    graph[rows[order], cols[order]] = 1
    return graph


def subsample_rows(
    df: pd.DataFrame, mask: np.ndarray | None, max_rows: int
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """A seeded random subset of ``max_rows`` rows (in their original order)."""
    rows = np.sort(seed_stream(0).choice(len(df), size=max_rows, replace=False))
    log.warning("using %d of %d rows (a random subset; --max-rows)", max_rows, len(df))
    return df.iloc[rows], None if mask is None else mask[rows]


def _node_style(longest_name: int) -> tuple[float, float]:
    """Font size (pt) and node area (pt^2) so that a name of ``longest_name`` characters fits
    inside its circle: circles grow up to 8 characters, longer names get a smaller font."""
    font_size = 8.0 if longest_name <= 8 else max(5.0, 64.0 / longest_name)
    diameter = max(30.0, 0.65 * font_size * longest_name + 8.0)
    return font_size, diameter**2


def draw_outputs(
    probs: np.ndarray, graph: np.ndarray, names: list[str], out: Path, *, title: str
) -> None:
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
    font_size, node_size = _node_style(max((len(name) for name in names), default=1))
    nx.draw_networkx(
        g,
        pos,
        ax=ax,
        node_color="#f2f2f2",
        edgecolors="#444444",
        node_size=node_size,
        font_size=font_size,
        arrowsize=14,
        width=1.2,
    )
    ax.set_title("\n".join(textwrap.wrap(title, width=int(7 * size))), fontsize=10)
    ax.margins(0.15)  # room for the node circles at the edge of the layout
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out / "graph.png", dpi=150)
    plt.close(fig)


def main(argv: list[str]) -> int:
    parser = command_parser("discover", __doc__)
    parser.add_argument("table", help="CSV table, one row per sample (header: variable names)")
    parser.add_argument("--interventions", help="0/1 CSV mask, same header and shape")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model directory or shipped name")
    choose = parser.add_mutually_exclusive_group()
    choose.add_argument(
        "--threshold", type=float, help="keep edges above this probability (default: the model's)"
    )
    choose.add_argument("--top-k", type=int, help="keep the K most probable edges instead")
    parser.add_argument("--max-rows", type=int, help="use a random subset of this many rows")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    if args.top_k is not None and args.top_k < 0:
        parser.error("--top-k must be >= 0")
    if args.max_rows is not None and args.max_rows < 2:
        parser.error("--max-rows must be >= 2")
    try:
        df, mask = load_inputs(args.table, args.interventions)
        if args.max_rows is not None and len(df) > args.max_rows:
            df, mask = subsample_rows(df, mask, args.max_rows)
        from avici_core.model.api import load_model

        model = load_model(args.model)
        start = time.perf_counter()
        names = [str(c) for c in df.columns]
        probs = model(df.to_numpy(dtype=np.float64), interv=mask, source=args.table, names=names)
    except (ValueError, MemoryError) as err:
        parser.exit(2, f"error: {err}\n")
    seconds = time.perf_counter() - start
    threshold = model.graph_threshold if args.threshold is None else args.threshold
    graph = keep_edges(probs, threshold=threshold, top_k=args.top_k)
    if args.top_k is not None:
        rule = f"the {int(graph.sum())} most probable edges (--top-k)"
    else:
        if args.threshold is not None:
            source = "--threshold"
        elif model.threshold is not None:
            source = "the model's threshold, chosen on validation data"
        else:
            source = "default; this model stores no validated threshold"
        rule = f"{int(graph.sum())} edges with p > {threshold:.2f} ({source})"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(probs, index=names, columns=names).to_csv(
        out / "edge_probabilities.csv", float_format="%.6f"
    )
    pd.DataFrame(graph, index=names, columns=names).to_csv(out / "graph.csv")
    draw_outputs(probs, graph, names, out, title=rule)
    log.info(
        "%d rows x %d variables: %s in %.1f s (%.1f s compile); wrote %s",
        len(df),
        len(names),
        rule,
        seconds,
        model.last_compile_s,
        out,
    )
    return 0
