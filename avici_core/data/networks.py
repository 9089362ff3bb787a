"""Subnetworks of real transcription networks (E. coli, yeast) as graph models for the gene domains.

Module extraction follows Marbach et al. (2009), as used by GeneNetWeaver and AVICI: start from a
random regulator, then repeatedly add one node drawn uniformly among the top ``topk`` fraction of
the module's undirected neighbours, ranked by the modularity ``Q = sᵀBs / (4m)`` the module would
have after adding it. The subgraph keeps every directed edge among the chosen genes; self-loops are
dropped and cycles broken by a randomized depth-first search (back-edges removed), and the nodes
are permuted uniformly at the end.

Shapes: N genes in the full network, d genes in an extracted module.
  adjacency [N, N] (sparse CSR, a[i, j] = 1 <=> gene i regulates gene j), graph [d, d] int8.
"""

from __future__ import annotations

import functools
import gzip
import math
from importlib import resources
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

ECOLI_FILE = "ecoli_regulondb_6_7.tsv.gz"  # RegulonDB 6.7 via GeneNetWeaver: 1565 genes, 3758 edges
YEAST_FILE = "yeast_balaji2006.tsv.gz"  # Balaji et al. (2006): 4441 genes, 12873 edges


class Network(NamedTuple):
    """A parsed network and the undirected view that module extraction ranks on."""

    genes: tuple[str, ...]  # [N] names, sorted
    adj: sp.csr_array  # [N, N] directed 0/1, self-loops as in the file
    und: sp.csr_array  # [N, N] symmetric 0/1, no self-loops
    degree: np.ndarray  # [N] undirected degree
    component_size: np.ndarray  # [N] size of the gene's weakly connected component
    is_regulator: np.ndarray  # [N] bool, regulates at least one other gene


@functools.cache
def load_network(filename: str) -> Network:
    """Parse a shipped ``regulator<TAB>target[<TAB>sign]`` file (cached: one parse per process).

    The E. coli sign column (+, -, +-, ?) is not needed for structure and is ignored.
    """
    path = resources.files("avici_core.data") / "assets" / filename
    with path.open("rb") as raw, gzip.open(raw, "rt") as f:
        pairs = [line.rstrip("\n").split("\t")[:2] for line in f if line.strip()]
    bad = [p for p in pairs if len(p) != 2]
    if bad:
        raise ValueError(f"{filename}: expected 'regulator<TAB>target' rows, got {bad[0]!r}")
    genes = tuple(sorted({name for pair in pairs for name in pair}))
    index = {name: i for i, name in enumerate(genes)}
    rows = np.array([index[a] for a, _ in pairs])  # [E] regulators
    cols = np.array([index[b] for _, b in pairs])  # [E] targets
    return network_from_edges(genes, rows, cols)


def network_from_edges(genes: tuple[str, ...], rows: np.ndarray, cols: np.ndarray) -> Network:
    """A :class:`Network` from edge lists ``rows[e] -> cols[e]`` (duplicates merged)."""
    n = len(genes)
    adj = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1.0
    off = rows != cols
    both = (np.r_[rows[off], cols[off]], np.r_[cols[off], rows[off]])
    und = sp.csr_array((np.ones(2 * int(off.sum())), both), shape=(n, n))
    und.sum_duplicates()
    und.data[:] = 1.0
    _, comp = connected_components(und, directed=False)
    return Network(
        genes=genes,
        adj=adj,
        und=und,
        degree=np.diff(und.indptr).astype(np.float64),
        component_size=np.bincount(comp)[comp],
        is_regulator=np.bincount(rows[off], minlength=n) > 0,
    )


def module_seeds(net: Network, n_vars: int) -> np.ndarray:
    """Regulators whose connected component is large enough to grow a module of ``n_vars`` genes.

    Raises:
      ValueError: if there are none.
    """
    seeds = np.flatnonzero(net.is_regulator & (net.component_size >= n_vars))
    if seeds.size == 0:
        raise ValueError(
            f"no regulator lies in a connected component with {n_vars} genes "
            f"(largest has {net.component_size.max()}); ask for fewer variables"
        )
    return seeds


def modularity_gain(net: Network, in_module: np.ndarray) -> np.ndarray:
    """Q(S + v) - Q(S) for every gene v outside the module S (in_module [N] bool).

    With s = ±1 for in/out of S and the modularity matrix ``B = A - k kᵀ / (2m)`` of the
    undirected, loop-free network, ``Q(S) = sᵀBs / (4m)``; flipping s_v from -1 to +1 adds
    ``((Bs)_v + B_vv) / m``. B is never formed (it would be [N, N] dense).
    """
    deg = net.degree
    two_m = deg.sum()
    s = np.where(in_module, 1.0, -1.0)  # [N]
    b_s = net.und @ s - deg * (deg @ s) / two_m  # [N] (Bs)
    return 2.0 * (b_s - deg**2 / two_m) / two_m


def extract_module(
    rng: np.random.Generator, net: Network, n_vars: int, *, topk: float
) -> np.ndarray:
    """Indices of ``n_vars`` genes forming one module, grown by modularity (Marbach et al. 2009).

    Starts from a random regulator; each step adds a node drawn uniformly among the top ``topk``
    fraction (at least one) of the module's undirected neighbours ranked by modularity gain.
    """
    in_module = np.zeros(net.und.shape[0], bool)  # [N]
    frontier = np.zeros_like(in_module)  # [N] undirected neighbours of the module
    v = int(rng.choice(module_seeds(net, n_vars)))
    for step in range(n_vars):
        if step:
            cand = np.flatnonzero(frontier)
            gain = modularity_gain(net, in_module)[cand]
            k = max(1, math.ceil(topk * cand.size))
            # stable sort: ties keep index order, so a fixed seed gives a fixed module
            v = int(rng.choice(cand[np.argsort(-gain, kind="stable")[:k]]))
        in_module[v] = True
        frontier[net.und.indices[net.und.indptr[v] : net.und.indptr[v + 1]]] = True
        frontier &= ~in_module
    return np.flatnonzero(in_module)


def break_cycles(rng: np.random.Generator, g: np.ndarray) -> np.ndarray:
    """Drop self-loops and the back-edges of a DFS with random root and child order: a DAG results.

    Only back-edges close cycles; tree, forward and cross edges are kept, and every dropped edge
    u -> v has a kept tree path v -> ... -> u, so weak connectivity is preserved.
    """
    d = g.shape[0]
    out = g.astype(np.int8).copy()
    np.fill_diagonal(out, 0)
    state = np.zeros(d, np.int8)  # 0 unvisited, 1 on the DFS stack, 2 finished
    for root in rng.permutation(d):
        if state[root]:
            continue
        state[root] = 1
        stack = [(int(root), iter(rng.permutation(np.flatnonzero(out[root]))))]
        while stack:
            u, children = stack[-1]
            v = next(children, None)
            if v is None:
                state[u] = 2
                stack.pop()
            elif state[v] == 1:
                out[u, v] = 0  # back-edge
            elif state[v] == 0:
                state[v] = 1
                stack.append((int(v), iter(rng.permutation(np.flatnonzero(out[v])))))
    return out


class _RealNetwork:
    """Graph model drawing modules of one shipped network; subclasses name the file."""

    filename: str

    def __init__(
        self, topk: float = 0.2, at_least_n_regulators: int = 1, make_acyclic: bool = True
    ) -> None:
        if not 0.0 < topk <= 1.0:
            raise ValueError(f"topk must be a fraction in (0, 1], got {topk}")
        if at_least_n_regulators < 0:
            raise ValueError(f"at_least_n_regulators must be >= 0, got {at_least_n_regulators}")
        self.topk = float(topk)
        self.at_least_n_regulators = int(at_least_n_regulators)
        self.make_acyclic = bool(make_acyclic)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(topk={self.topk}, at_least_n_regulators="
            f"{self.at_least_n_regulators}, make_acyclic={self.make_acyclic})"
        )

    def check(self, n_vars: int) -> None:
        """Raise ValueError when no module of ``n_vars`` genes exists (registry load-time check)."""
        if n_vars < 1:
            raise ValueError(f"n_vars must be >= 1, got {n_vars}")
        module_seeds(load_network(self.filename), n_vars)

    def __call__(
        self, rng: np.random.Generator, n_vars: int, *, max_tries: int = 100
    ) -> np.ndarray:
        """A random module of ``n_vars`` genes as ``[d, d] int8``, g[i, j] = 1 <=> i -> j.

        Modules with fewer than ``at_least_n_regulators`` genes regulating another module gene are
        redrawn, at most ``max_tries`` times.
        """
        self.check(n_vars)
        net = load_network(self.filename)
        for _ in range(max_tries):
            nodes = extract_module(rng, net, n_vars, topk=self.topk)
            g = net.adj[nodes][:, nodes].toarray().astype(np.int8)  # [d, d]
            np.fill_diagonal(g, 0)
            if self.make_acyclic:
                g = break_cycles(rng, g)
            if int((g.sum(axis=1) > 0).sum()) >= self.at_least_n_regulators:
                perm = rng.permutation(n_vars)
                return g[np.ix_(perm, perm)]
        raise ValueError(
            f"no module of {n_vars} genes with {self.at_least_n_regulators} regulators found in "
            f"{max_tries} tries; lower at_least_n_regulators"
        )


class Ecoli(_RealNetwork):
    """Modules of the E. coli network (RegulonDB 6.7 via GeneNetWeaver; 1565 genes, 3758 edges)."""

    filename = ECOLI_FILE


class Yeast(_RealNetwork):
    """Modules of the yeast network (Balaji et al. 2006; 4441 genes, 12873 edges)."""

    filename = YEAST_FILE
