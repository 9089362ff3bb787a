"""Random DAG models. Each instance is called as ``graph(rng, n_vars) -> g [d, d] int8``.

Conventions (avici.md §3.2): ``g[i, j] = 1`` means ``i -> j``; every model ends with a uniformly
random relabelling of the nodes, so node order never reveals the causal order. Models that ask for
more edges than a DAG on ``d`` nodes can hold are capped at edge probability 0.99 when called (the
training curriculum includes d = 2); ``check(n_vars)`` refuses such a density for a domain's own size.
"""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np

MAX_EDGE_PROB = 0.99


def _permute(rng: np.random.Generator, g: np.ndarray) -> np.ndarray:
    perm = rng.permutation(g.shape[0])
    return g[np.ix_(perm, perm)].astype(np.int8)


def _seeded_igraph(rng: np.random.Generator):
    """igraph, drawing from a private ``random`` generator seeded from ``rng``.

    Imported here, not at module level: importing igraph costs about a second, and every
    workflow job imports this module while only graph sampling needs igraph.
    """
    import igraph

    igraph.set_random_number_generator(random.Random(int(rng.integers(2**63))))
    return igraph


def _orient_upper(n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    """Orient undirected edges from lower to higher vertex index (acyclic by construction)."""
    g = np.zeros((n, n), dtype=np.int8)
    for a, b in edges:
        if a != b:
            g[min(a, b), max(a, b)] = 1
    return g


def _check_at_least(name: str, value: float, low: float) -> None:
    if not value >= low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


@dataclasses.dataclass(frozen=True)
class ErdosRenyi:
    """Erdős–Rényi DAG with ``edges_per_var · d`` expected edges."""

    edges_per_var: float = 2.0

    def __post_init__(self):
        if not self.edges_per_var > 0:
            raise ValueError(f"edges_per_var must be > 0, got {self.edges_per_var}")

    def edge_prob(self, n_vars: int) -> float:
        return self.edges_per_var * n_vars / (n_vars * (n_vars - 1) / 2)

    def check(self, n_vars: int) -> None:
        if self.edge_prob(n_vars) > 1:
            raise ValueError(
                f"edges_per_var={self.edges_per_var} asks for {self.edges_per_var * n_vars:g} edges, "
                f"but a DAG on {n_vars} nodes has at most {n_vars * (n_vars - 1) // 2}"
            )

    def __call__(self, rng: np.random.Generator, n_vars: int) -> np.ndarray:
        p = min(self.edge_prob(n_vars), MAX_EDGE_PROB)
        g = np.tril(rng.random((n_vars, n_vars)) < p, k=-1)
        return _permute(rng, g)


@dataclasses.dataclass(frozen=True)
class ScaleFree:
    """Barabási–Albert DAG: each new node gets ``edges_per_var`` parents chosen ∝ in-degree^power.

    Edges point from the new node to earlier nodes, so hubs have many parents (in-degree power law).
    """

    edges_per_var: int = 2
    power: float = 1.0

    def __post_init__(self):
        _check_at_least("edges_per_var", self.edges_per_var, 1)
        if not self.power > 0:
            raise ValueError(f"power must be > 0, got {self.power}")

    def check(self, n_vars: int) -> None:
        if self.edges_per_var > n_vars - 1:
            raise ValueError(f"edges_per_var={self.edges_per_var} needs more than {n_vars} nodes")

    def __call__(self, rng: np.random.Generator, n_vars: int) -> np.ndarray:
        igraph = _seeded_igraph(rng)
        graph = igraph.Graph.Barabasi(
            n=n_vars, m=int(self.edges_per_var), directed=True, power=self.power, zero_appeal=1
        )
        g = np.zeros((n_vars, n_vars), dtype=np.int8)
        for src, dst in graph.get_edgelist():
            g[src, dst] = 1
        return _permute(rng, g)


@dataclasses.dataclass(frozen=True)
class ScaleFreeTranspose(ScaleFree):
    """Transpose of :class:`ScaleFree`: an out-degree power law (hub regulators)."""

    def __call__(self, rng: np.random.Generator, n_vars: int) -> np.ndarray:
        return np.ascontiguousarray(super().__call__(rng, n_vars).T)


@dataclasses.dataclass(frozen=True)
class WattsStrogatz:
    """Small-world lattice of dimension ``dim`` rewired with probability ``p``, oriented acyclically."""

    dim: int = 2
    nei: int = 1
    p: float = 0.3

    def __post_init__(self):
        _check_at_least("dim", self.dim, 1)
        _check_at_least("nei", self.nei, 1)
        if not 0 <= self.p <= 1:
            raise ValueError(f"p must be in [0, 1], got {self.p}")

    def check(self, n_vars: int) -> None:
        if n_vars < 2:
            raise ValueError("WattsStrogatz needs at least 2 nodes")

    def __call__(self, rng: np.random.Generator, n_vars: int) -> np.ndarray:
        size = math.ceil(n_vars ** (1.0 / self.dim) - 1e-9)
        igraph = _seeded_igraph(rng)
        graph = igraph.Graph.Watts_Strogatz(
            dim=self.dim, size=size, nei=self.nei, p=self.p, allowed_edge_types="simple"
        )
        surplus = graph.vcount() - n_vars
        if surplus > 0:
            graph.delete_vertices(rng.choice(graph.vcount(), size=surplus, replace=False).tolist())
        return _permute(rng, _orient_upper(n_vars, graph.get_edgelist()))


@dataclasses.dataclass(frozen=True)
class SBM:
    """Stochastic block model with ``edges_per_var · d`` expected edges; inter-block prob damped."""

    edges_per_var: float = 2.0
    n_blocks: int = 5
    damp: float = 0.1

    def __post_init__(self):
        if not self.edges_per_var > 0:
            raise ValueError(f"edges_per_var must be > 0, got {self.edges_per_var}")
        _check_at_least("n_blocks", self.n_blocks, 1)
        if not 0 <= self.damp <= 1:
            raise ValueError(f"damp must be in [0, 1], got {self.damp}")

    def check(self, n_vars: int) -> None:
        ErdosRenyi(self.edges_per_var).check(n_vars)

    def __call__(self, rng: np.random.Generator, n_vars: int) -> np.ndarray:
        n_blocks = min(n_vars, int(self.n_blocks))
        cuts = np.sort(rng.choice(np.arange(1, n_vars), size=n_blocks - 1, replace=False))
        block = np.empty(n_vars, dtype=int)
        for b, members in enumerate(np.split(rng.permutation(n_vars), cuts)):
            block[members] = b
        same = block[:, None] == block[None, :]
        upper = np.triu(np.ones((n_vars, n_vars), dtype=bool), k=1)
        n_in, n_out = (same & upper).sum(), (~same & upper).sum()
        p = min(self.edges_per_var * n_vars / (n_in + self.damp * n_out), MAX_EDGE_PROB)
        prob = np.where(same, p, self.damp * p)
        g = (rng.random((n_vars, n_vars)) < prob) & upper
        return _permute(rng, g)


@dataclasses.dataclass(frozen=True)
class GRG:
    """Geometric random graph in the unit square, oriented by vertex order."""

    radius: float = 0.1

    def __post_init__(self):
        if not 0 < self.radius:
            raise ValueError(f"radius must be > 0, got {self.radius}")

    def check(self, n_vars: int) -> None:
        return None

    def __call__(self, rng: np.random.Generator, n_vars: int) -> np.ndarray:
        igraph = _seeded_igraph(rng)
        graph = igraph.Graph.GRG(n_vars, self.radius, torus=False)
        return _permute(rng, _orient_upper(n_vars, graph.get_edgelist()))
