"""Exact queries on discrete SCMs by enumeration of the joint table (rungs 1 and 2).

With CPTs for every node, P(v) = prod_j P(v_j | pa_j); do(X = x) replaces X's CPT by a point
mass (the truncated factorisation). Conditioning sums the joint over the rest and normalises.
Used for the hidden 'strength' node of ``scene_scm``: P(strength | action) versus
P(strength | do(action)), for the true CPTs and for the fitted parent mechanisms.

Shape letters: d nodes, K_j categories of node j.
"""

from __future__ import annotations

import numpy as np


def joint_table(
    cpts: dict[int, np.ndarray], g: np.ndarray, cards: list[int], do: dict[int, int] | None = None
) -> np.ndarray:
    """The joint pmf [K_0, ..., K_{d-1}] of a categorical Bayesian network, optionally under do."""
    d = len(cards)
    do = do or {}
    joint = np.ones(cards)
    for j in range(d):
        if j in do:
            if not 0 <= do[j] < cards[j]:
                raise ValueError(f"do value {do[j]} out of range for node {j} (K={cards[j]})")
            axes, table = [j], np.eye(cards[j])[do[j]]
        else:
            axes, table = [*np.flatnonzero(g[:, j]), j], np.asarray(cpts[j])
        order = np.argsort(axes)
        shape = [1] * d
        for ax in axes:
            shape[ax] = cards[ax]
        joint = joint * np.transpose(table, order).reshape(shape)
    return joint


def conditional(joint: np.ndarray, target: int, evidence: dict[int, int]) -> np.ndarray:
    """P(target | evidence) [K_target] from a joint table."""
    idx = tuple(evidence.get(k, slice(None)) for k in range(joint.ndim))
    sub = joint[idx]
    keep = [k for k in range(joint.ndim) if k not in evidence]
    marg = sub.sum(axis=tuple(i for i, k in enumerate(keep) if k != target))
    total = marg.sum()
    if total <= 0:
        raise ValueError(f"evidence {evidence} has probability zero")
    return marg / total


def hidden_vs_action(
    cpts: dict[int, np.ndarray], g: np.ndarray, cards: list[int], hidden: int, action: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows per action value: P(hidden | action = a) and P(hidden | do(action = a)): [K_a, K_h] each."""
    joint = joint_table(cpts, g, cards)
    cond = np.stack([conditional(joint, hidden, {action: a}) for a in range(cards[action])])
    inter = np.stack(
        [
            conditional(joint_table(cpts, g, cards, {action: a}), hidden, {})
            for a in range(cards[action])
        ]
    )
    return cond, inter
