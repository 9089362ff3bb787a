"""Conversions from each package's graph objects to the project's 0/1 adjacency (row -> column).

In a 0/1 CPDAG matrix an undirected edge i - j is ``a[i, j] = a[j, i] = 1``.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np


def from_endpoint_matrix(m: np.ndarray) -> np.ndarray:
    """causal-learn's GeneralGraph endpoint matrix to a 0/1 CPDAG.

    ``m[i, j] = -1, m[j, i] = 1`` is i -> j; both -1 is i - j; both 1 (an orientation conflict,
    i <-> j) is kept as an adjacency without direction, i.e. undirected.
    """
    m = np.asarray(m)  # [d, d]
    directed = (m == -1) & (m.T == 1)
    undirected = ((m == -1) & (m.T == -1)) | ((m == 1) & (m.T == 1))
    return (directed | undirected).astype(np.int8)


def from_arcs(d: int, arcs: Iterable[tuple[int, int]]) -> np.ndarray:
    a = np.zeros((d, d), np.int8)
    for i, j in arcs:
        a[int(i), int(j)] = 1
    return a


def cpdag_scores(cpdag: np.ndarray) -> np.ndarray:
    """Edge scores of a hard CPDAG: 1 for a directed edge, 0.5 each way for an undirected one."""
    a = np.asarray(cpdag, dtype=np.float64)  # [d, d]
    return np.where((a == 1) & (a.T == 1), 0.5, a)


def weighted_graph(w: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores ``|W|`` and the hard graph ``|W| > threshold`` with a zero diagonal."""
    scores = np.abs(np.asarray(w, dtype=np.float64))  # [d, d]
    np.fill_diagonal(scores, 0.0)
    return scores, (scores > threshold).astype(np.int8)
