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

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

ECOLI_FILE = "ecoli_regulondb_6_7.tsv.gz"  # RegulonDB 6.7 via GeneNetWeaver: 1565 genes, 3758 edges
YEAST_FILE = "yeast_balaji2006.tsv.gz"  # Balaji et al. (2006): 4441 genes, 12873 edges


@functools.cache
def load_network(filename: str) -> tuple[tuple[str, ...], sp.csr_array]:
    """Gene names and the directed adjacency of a shipped ``regulator<TAB>target[<TAB>sign]`` file.

    Cached because module extraction runs once per dataset on the same few networks. The E. coli
    sign column (+, -, +-, ?) is not needed for structure and is ignored.
    """
    with (
        (resources.files("avici_core.data") / "assets" / filename).open("rb") as raw,
        gzip.open(raw, "rt") as f,
    ):
        pairs = [line.rstrip("\n").split("\t")[:2] for line in f if line.strip()]
    bad = [p for p in pairs if len(p) != 2]
    if bad:
        raise ValueError(f"{filename}: expected 'regulator<TAB>target' rows, got {bad[0]!r}")
    genes = tuple(sorted({name for pair in pairs for name in pair}))
    index = {name: i for i, name in enumerate(genes)}
    rows = np.array([index[a] for a, _ in pairs])
    cols = np.array([index[b] for _, b in pairs])
    n = len(genes)
    adj = sp.csr_array((np.ones(len(pairs), np.int8), (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1
    return genes, adj


def extract_module(
    rng: np.random.Generator, adj: sp.csr_array, n_vars: int, *, topk: float
) -> np.ndarray:
    """Indices of ``n_vars`` genes forming one module, grown greedily by modularity (Marbach 2009).

    The modularity matrix ``B = A - k kᵀ / (2m)`` of the undirected, loop-free network is never
    formed: adding node v to the module (s_v: -1 -> +1) changes ``sᵀBs`` by ``4((Bs)_v + B_vv)``,
    so candidates are ranked by ``(Bs)_v + B_vv`` and ``Bs`` is updated with one sparse column.

    Raises:
      ValueError: if no regulator's connected component has ``n_vars`` genes.
    """
    und = ((adj + adj.T) > 0).astype(np.float64).tocsr()  # [N, N] symmetric
    und.setdiag(0)
    und.eliminate_zeros()
    deg = np.asarray(und.sum(axis=1)).ravel()  # [N]
    two_m = deg.sum()
    _, comp = connected_components(und, directed=False)
    comp_size = np.bincount(comp)[comp]  # [N] size of each gene's component
    off_diag = adj.tocsr(copy=True)
    off_diag.setdiag(0)
    off_diag.eliminate_zeros()
    is_regulator = np.diff(off_diag.indptr) > 0  # [N] regulates some other gene
    seeds = np.flatnonzero(is_regulator & (comp_size >= n_vars))
    if seeds.size == 0:
        raise ValueError(
            f"no regulator lies in a connected component with {n_vars} genes "
            f"(largest has {comp_size.max()}); ask for fewer variables"
        )
    seed = int(rng.choice(seeds))
    in_module = np.zeros(und.shape[0], bool)
    s = -np.ones(und.shape[0])  # [N] +1 inside the module, -1 outside
    b_s = und @ s - deg * (deg @ s) / two_m  # [N] (Bs)
    b_diag = -(deg**2) / two_m  # [N] B_vv (no self-loops in the undirected graph)
    frontier = np.zeros(und.shape[0], bool)

    def add(v: int) -> None:
        nonlocal b_s
        in_module[v] = True
        s[v] = 1.0
        nbrs = und.indices[und.indptr[v] : und.indptr[v + 1]]  # row v = column v (symmetric)
        b_s = b_s - 2.0 * deg * deg[v] / two_m
        b_s[nbrs] += 2.0
        frontier[nbrs] = True
        frontier[in_module] = False

    add(seed)
    while in_module.sum() < n_vars:
        cand = np.flatnonzero(frontier)  # the module's undirected neighbours
        gain = b_s[cand] + b_diag[cand]
        k = max(1, math.ceil(topk * cand.size))
        # stable sort of -gain: ties keep index order, so a fixed seed gives a fixed module
        top = cand[np.argsort(-gain, kind="stable")[:k]]
        add(int(rng.choice(top)))
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

    def __call__(
        self, rng: np.random.Generator, n_vars: int, *, max_tries: int = 100
    ) -> np.ndarray:
        """A random module of ``n_vars`` genes as ``[d, d] int8``, g[i, j] = 1 <=> i -> j.

        Modules with fewer than ``at_least_n_regulators`` genes regulating another module gene are
        redrawn, at most ``max_tries`` times.
        """
        _, adj = load_network(self.filename)
        n_genes = adj.shape[0]
        if not 1 <= n_vars <= n_genes:
            raise ValueError(
                f"{type(self).__name__} has {n_genes} genes; n_vars={n_vars} impossible"
            )
        for _ in range(max_tries):
            nodes = extract_module(rng, adj, n_vars, topk=self.topk)
            g = adj[nodes][:, nodes].toarray().astype(np.int8)  # [d, d]
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
