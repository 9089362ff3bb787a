"""The Sachs et al. (2005) protein-signalling data (d = 11) with its 17-edge consensus DAG.

Which rows are used: all 7466 rows of the shipped file (``assets/sachs_cyto_full_data.csv.gz``,
the copy in cdt 0.6.0), raw intensities, in file order, as **observational** rows. The file pools
the nine stimulation/inhibition conditions of the original study but carries no label saying which
row belongs to which condition, so no row can be declared interventional: ``x_int`` and its mask
are empty and there are no held-out rows. This matches the paper's use for observational methods
("all rows with the indicator zeroed"); the interventional setting is not available for Sachs.

Two true graphs are shipped (``graph=``):
  * ``"consensus"`` (default): the 17-edge consensus DAG of Sachs et al. (the network used as
    ground truth by bnlearn and causaldag, converted from causaldag's ``sachs_network``).
  * ``"cdt"``: cdt's 18-edge literature network, which has the directed cycle
    PIP3 -> plcg -> PIP2 -> PIP3; metrics that need a DAG (SID) cannot use it.
``meta["is_dag"]`` records which kind was loaded.
"""

from __future__ import annotations

import csv
import gzip
from importlib import resources

import numpy as np
from scipy.sparse.csgraph import connected_components

from avici_core.dataset import Dataset

DATA_FILE = "sachs_cyto_full_data.csv.gz"
GRAPH_FILES = {"consensus": "sachs_consensus_dag.csv.gz", "cdt": "sachs_cdt_edges.csv.gz"}
N_ROWS = 7466


def _read_csv(filename: str) -> list[list[str]]:
    path = resources.files("avici_core.data") / "assets" / filename
    with path.open("rb") as raw, gzip.open(raw, "rt", newline="") as f:
        return [row for row in csv.reader(f) if row]


def parse_edges(rows: list[list[str]], names: list[str]) -> np.ndarray:
    """Adjacency [d, d] int8 (g[i, j] = 1 <=> i -> j) from ``Cause,Effect`` rows (header first)."""
    index = {name: i for i, name in enumerate(names)}
    g = np.zeros((len(names), len(names)), np.int8)
    for cause, effect in rows[1:]:
        if cause not in index or effect not in index:
            raise ValueError(f"edge {cause} -> {effect} names a variable not in {names}")
        g[index[cause], index[effect]] = 1
    return g


def is_acyclic(g: np.ndarray) -> bool:
    """True when g has no directed cycle: every strongly connected component is a single node."""
    n_comp, _ = connected_components(g, directed=True, connection="strong")
    return n_comp == g.shape[0] and not np.diag(g).any()


def load_sachs(graph: str = "consensus") -> Dataset:
    """The Sachs dataset as a :class:`Dataset`: 7466 observational rows [7466, 11] and a true graph.

    Args:
      graph: ``"consensus"`` (17-edge DAG) or ``"cdt"`` (18 edges, one cycle); see the module doc.
    """
    if graph not in GRAPH_FILES:
        raise ValueError(f"unknown Sachs graph {graph!r}; use one of {sorted(GRAPH_FILES)}")
    table = _read_csv(DATA_FILE)
    names = table[0]
    x = np.array(table[1:], dtype=np.float64)  # [7466, 11]
    if x.shape != (N_ROWS, len(names)):
        raise ValueError(
            f"{DATA_FILE}: expected {N_ROWS} rows of {len(names)} values, got {x.shape}"
        )
    g = parse_edges(_read_csv(GRAPH_FILES[graph]), names)
    d = len(names)
    empty = np.zeros((0, d))
    return Dataset(
        g=g,
        x_obs=x,
        x_int=empty,
        mask_int=empty.astype(np.int8),
        x_obs_heldout=empty,
        x_int_heldout=empty,
        mask_int_heldout=empty.astype(np.int8),
        is_count_data=False,
        meta={
            "domain": "sachs",
            "source": "Sachs et al. (2005), Science 308:523; data copy from cdt 0.6.0",
            "graph": graph,
            "var_names": names,
            "rows": "all 7466 rows as observational (the file has no condition labels)",
            "n_edges": int(g.sum()),
            "is_dag": is_acyclic(g),
        },
    )
