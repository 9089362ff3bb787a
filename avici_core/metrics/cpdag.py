"""The paper's semi-oracle expansion of a CPDAG into a directed graph (avici.md §4).

Each undirected edge i - j takes the true graph's direction when the truth has an edge between
i and j; otherwise a fair coin picks the direction, so a false adjacency still counts once.
"""

from __future__ import annotations

import numpy as np


def undirected_pairs(graph: np.ndarray) -> np.ndarray:
    """[k, 2] index pairs (i < j) with graph[i, j] = graph[j, i] = 1."""
    g = np.asarray(graph) != 0
    return np.argwhere(np.triu(g & g.T, k=1))


def orient_cpdag_oracle(
    rng: np.random.Generator, cpdag: np.ndarray, truth: np.ndarray
) -> np.ndarray:
    """Directed 0/1 graph [d, d]; directed edges of ``cpdag`` are kept as they are.

    One coin is drawn per undirected edge (used only where the truth has no adjacency), so the
    draws do not depend on the truth and the result is reproducible per seed.
    """
    a = (np.asarray(cpdag) != 0).astype(np.int8)  # [d, d]
    t = np.asarray(truth) != 0
    if a.shape != t.shape:
        raise ValueError(f"CPDAG shape {a.shape} does not match true graph shape {t.shape}")
    pairs = undirected_pairs(a)  # [k, 2]
    coins = rng.random(len(pairs)) < 0.5  # [k]
    for (i, j), heads in zip(pairs, coins):
        forward = t[i, j] if (t[i, j] or t[j, i]) else heads
        a[i, j], a[j, i] = int(forward), int(not forward)
    return a
