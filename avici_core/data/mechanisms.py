"""Structural causal mechanisms and ancestral sampling with hard single-node interventions.

A mechanism is called as ``mechanism.sample(rng, g, n_obs=, n_int=, targets=, interv_dist=)`` and
returns ``(x_obs [n_obs, d], x_int [n_int, d], mask_int [n_int, d] int8, is_count_data)``.

Interventional rows (avici.md §3.3): ``ceil(n_int / m)`` rows per target for ``m`` distinct
targets, interleaved (row r intervenes on ``targets[r % m]``) and truncated to ``n_int``; the
intervened value is drawn i.i.d. per row from ``interv_dist`` and replaces the node's mechanism.
Sampling is vectorised over rows: one pass over the nodes in topological order for all rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from avici_core.data.distributions import Gaussian, Uniform

Distribution = Callable[[np.random.Generator, Any], np.ndarray]
N_FEATURES = 100  # random Fourier features per function (avici.md §3.4)
# The per-level products are small; multi-threaded BLAS only adds contention (3-4x slower at d=100).
_BLAS = ThreadpoolController()


def topological_order(g: np.ndarray) -> np.ndarray:
    """Kahn's algorithm; raises if ``g`` has a cycle."""
    indeg = g.sum(axis=0).astype(int)
    order, frontier = [], list(np.flatnonzero(indeg == 0))
    while frontier:
        node = frontier.pop()
        order.append(node)
        for child in np.flatnonzero(g[node]):
            indeg[child] -= 1
            if indeg[child] == 0:
                frontier.append(child)
    if len(order) != g.shape[0]:
        raise ValueError("graph has a cycle; mechanisms need a DAG")
    return np.asarray(order)


def topological_levels(g: np.ndarray) -> list[np.ndarray]:
    """Nodes grouped by longest path from a root; nodes of one level never depend on each other."""
    level = np.zeros(g.shape[0], dtype=int)
    for j in topological_order(g):
        parents = np.flatnonzero(g[:, j])
        level[j] = level[parents].max() + 1 if parents.size else 0
    return [np.flatnonzero(level == k) for k in range(level.max() + 1)]


def interleaved_targets(targets: np.ndarray, n_int: int) -> np.ndarray:
    """Target node of each interventional row: ``targets[r % m]`` for rows r < n_int."""
    if n_int == 0:
        return np.zeros(0, dtype=int)
    if len(targets) == 0:
        raise ValueError("n_int > 0 needs at least one intervention target")
    return np.asarray(targets)[np.arange(n_int) % len(targets)]


@dataclasses.dataclass(frozen=True)
class RandomFourierFunction:
    """``f(x) = sqrt(2)·c·Σ_k w_k cos(ω_kᵀ x + b_k) / sqrt(K)``: a draw from a GP with RBF kernel."""

    omega: np.ndarray  # [p, K]
    phase: np.ndarray  # [K]
    weight: np.ndarray  # [K]
    output_scale: float

    @classmethod
    def draw(
        cls, rng: np.random.Generator, n_parents: int, length_scale: float, output_scale: float
    ) -> RandomFourierFunction:
        # float32 features: the n x K cosines dominate the cost of nonlinear data (phase error ~1e-6)
        return cls(
            omega=rng.normal(0.0, 1.0 / length_scale, size=(n_parents, N_FEATURES)).astype(
                np.float32
            ),
            phase=rng.uniform(0.0, 2 * np.pi, size=N_FEATURES).astype(np.float32),
            weight=rng.normal(size=N_FEATURES).astype(np.float32),
            output_scale=float(output_scale),
        )

    def __call__(self, x_pa: np.ndarray) -> np.ndarray:  # [n, p] -> [n]
        scale = np.sqrt(2.0) * self.output_scale / np.sqrt(N_FEATURES)
        if x_pa.shape[1] == 0:  # a root: the function is a constant, no need for n cosines
            return np.full(x_pa.shape[0], scale * float(np.cos(self.phase) @ self.weight))
        feats = np.cos(x_pa.astype(np.float32) @ self.omega + self.phase)  # [n, K]
        return scale * (feats @ self.weight).astype(np.float64)


@dataclasses.dataclass(frozen=True)
class _AdditiveNoiseSCM:
    """Shared part of additive-noise mechanisms: ``x_j = f_j(x_pa) + b_j + σ_j(x_pa)·ε_j``.

    Noise scale is homoscedastic (``σ_j ~ noise_scale`` once per node) unless ``heteroscedastic``
    is given as ``{length_scale, output_scale}``: then ``σ_j(x) = sqrt(softplus(h_j(x_pa)))`` with
    ``h_j`` a random Fourier function of the parents.
    """

    bias: Distribution = Uniform(-3.0, 3.0)
    noise: Distribution = Gaussian()
    noise_scale: Distribution = Uniform(0.2, 2.0)
    heteroscedastic: dict | None = None

    def __post_init__(self):
        if self.heteroscedastic is not None:
            unknown = set(self.heteroscedastic) - {"length_scale", "output_scale"}
            if unknown:
                raise ValueError(f"heteroscedastic: unknown key(s) {sorted(unknown)}")

    def draw_functions(self, rng: np.random.Generator, g: np.ndarray) -> Callable:
        """Draw every node's function; returns ``f(x [n, d], nodes) -> [n, len(nodes)]``."""
        raise NotImplementedError

    def draw_noise_scales(self, rng: np.random.Generator, parents: list[np.ndarray]) -> Callable:
        """Per-node noise scales as ``sigma(x [n, d], nodes) -> [n or 1, len(nodes)]``."""
        if self.heteroscedastic is None:
            sigma = self.noise_scale(rng, (len(parents),))  # [d], one scale per node
            return lambda x, nodes: sigma[nodes]
        ell = float(self.heteroscedastic.get("length_scale", 10.0))
        c = float(self.heteroscedastic.get("output_scale", 2.0))
        h = [RandomFourierFunction.draw(rng, len(pa), ell, c) for pa in parents]
        return lambda x, nodes: np.column_stack(
            [np.sqrt(np.logaddexp(0.0, h[j](x[:, parents[j]]))) for j in nodes]
        )

    def sample(
        self,
        rng: np.random.Generator,
        g: np.ndarray,
        *,
        n_obs: int,
        n_int: int,
        targets: np.ndarray,
        interv_dist: Distribution | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        d = g.shape[0]
        parents = [np.flatnonzero(g[:, j]) for j in range(d)]
        f = self.draw_functions(rng, g)
        sigma = self.draw_noise_scales(rng, parents)
        bias = self.bias(rng, (d,))
        n = n_obs + n_int
        z = self.noise(rng, (n, d))  # [n, d] unit-scale noise
        row_target = interleaved_targets(targets, n_int)  # [n_int]
        values = interv_dist(rng, (n_int,)) if n_int else np.zeros(0)
        clamped = np.zeros((n, d), dtype=bool)
        clamped[n_obs + np.arange(n_int), row_target] = True
        x = np.zeros((n, d))
        with _BLAS.limit(limits=1, user_api="blas"):
            self._fill_levels(x, g, f, sigma, bias, z, clamped, values, n_obs)
        mask = clamped[n_obs:].astype(np.int8)
        return x[:n_obs], x[n_obs:], mask, False

    @staticmethod
    def _fill_levels(x, g, f, sigma, bias, z, clamped, values, n_obs) -> None:
        for level in topological_levels(g):  # vectorised over the rows and the nodes of a level
            x[:, level] = f(x, level) + bias[level] + sigma(x, level) * z[:, level]
            rows, cols = np.nonzero(clamped[:, level])
            x[rows, level[cols]] = values[rows - n_obs]


@dataclasses.dataclass(frozen=True)
class LinearAdditive(_AdditiveNoiseSCM):
    """``x_j = Σ_i w_ij x_i + b_j + ε_j`` with ``w ~ weight``."""

    weight: Distribution = dataclasses.field(default=None)  # required

    def __post_init__(self):
        super().__post_init__()
        if self.weight is None:
            raise ValueError("LinearAdditive needs 'weight' (a distribution such as SignedUniform)")

    def draw_functions(self, rng, g):
        w = self.weight(rng, g.shape) * g  # [d, d], w_ij drawn for every entry, masked by the graph
        return lambda x, nodes: x @ np.ascontiguousarray(w[:, nodes])


@dataclasses.dataclass(frozen=True)
class RFFAdditive(_AdditiveNoiseSCM):
    """``x_j = f_j(x_pa) + b_j + ε_j`` with ``f_j`` a random Fourier function (GP-like)."""

    length_scale: Distribution = Uniform(7.0, 10.0)
    output_scale: Distribution = Uniform(10.0, 20.0)

    def draw_functions(self, rng, g):
        functions = []
        for j in range(g.shape[0]):
            ell = float(self.length_scale(rng, ()))
            c = float(self.output_scale(rng, ()))
            functions.append(RandomFourierFunction.draw(rng, int(g[:, j].sum()), ell, c))
        parents = [np.flatnonzero(g[:, j]) for j in range(g.shape[0])]
        return lambda x, nodes: np.column_stack([functions[j](x[:, parents[j]]) for j in nodes])
