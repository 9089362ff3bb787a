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
from typing import Any, Callable

import numpy as np

from avici_core.data.distributions import Gaussian, Uniform

Distribution = Callable[[np.random.Generator, Any], np.ndarray]
N_FEATURES = 100  # random Fourier features per function (avici.md §3.4)


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
    ) -> "RandomFourierFunction":
        return cls(
            omega=rng.normal(0.0, 1.0 / length_scale, size=(n_parents, N_FEATURES)),
            phase=rng.uniform(0.0, 2 * np.pi, size=N_FEATURES),
            weight=rng.normal(size=N_FEATURES),
            output_scale=float(output_scale),
        )

    def __call__(self, x_pa: np.ndarray) -> np.ndarray:  # [n, p] -> [n]
        scale = np.sqrt(2.0) * self.output_scale / np.sqrt(N_FEATURES)
        if x_pa.shape[1] == 0:  # a root: the function is a constant, no need for n cosines
            return np.full(x_pa.shape[0], scale * float(np.cos(self.phase) @ self.weight))
        # float32 features halve the cost of the n x K cosines; the sum is accumulated in float64
        pre = (x_pa @ self.omega + self.phase).astype(np.float32)  # [n, K]
        return scale * (np.cos(pre) @ self.weight.astype(np.float32)).astype(np.float64)


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

    def draw_function(self, rng: np.random.Generator, g: np.ndarray, node: int, parents: np.ndarray):
        raise NotImplementedError

    def _draw_noise_scale(self, rng: np.random.Generator, n_parents: int) -> Callable:
        if self.heteroscedastic is None:
            sigma = float(self.noise_scale(rng, ()))
            return lambda x_pa: sigma
        h = RandomFourierFunction.draw(
            rng,
            n_parents,
            float(self.heteroscedastic.get("length_scale", 10.0)),
            float(self.heteroscedastic.get("output_scale", 2.0)),
        )
        return lambda x_pa: np.sqrt(np.logaddexp(0.0, h(x_pa)))

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
        row_target = interleaved_targets(targets, n_int)  # [n_int]
        n = n_obs + n_int
        x = np.zeros((n, d))
        clamped = np.zeros((n, d), dtype=bool)
        clamped[n_obs + np.arange(n_int), row_target] = True
        if n_int:
            values = interv_dist(rng, (n_int,))
        for j in topological_order(g):
            parents = np.flatnonzero(g[:, j])
            f = self.draw_function(rng, g, j, parents)
            scale = self._draw_noise_scale(rng, len(parents))
            bias = float(self.bias(rng, ()))
            x_pa = x[:, parents]
            x[:, j] = f(x_pa) + bias + scale(x_pa) * self.noise(rng, (n,))
            rows = np.flatnonzero(clamped[:, j])
            if rows.size:
                x[rows, j] = values[rows - n_obs]
        mask = clamped[n_obs:].astype(np.int8)
        return x[:n_obs], x[n_obs:], mask, False


@dataclasses.dataclass(frozen=True)
class LinearAdditive(_AdditiveNoiseSCM):
    """``x_j = Σ_i w_ij x_i + b_j + ε_j`` with ``w ~ weight``."""

    weight: Distribution = dataclasses.field(default=None)  # required

    def __post_init__(self):
        super().__post_init__()
        if self.weight is None:
            raise ValueError("LinearAdditive needs 'weight' (a distribution such as SignedUniform)")

    def draw_function(self, rng, g, node, parents):
        w = self.weight(rng, (len(parents),))
        return lambda x_pa: x_pa @ w


@dataclasses.dataclass(frozen=True)
class RFFAdditive(_AdditiveNoiseSCM):
    """``x_j = f_j(x_pa) + b_j + ε_j`` with ``f_j`` a random Fourier function (GP-like)."""

    length_scale: Distribution = Uniform(7.0, 10.0)
    output_scale: Distribution = Uniform(10.0, 20.0)

    def draw_function(self, rng, g, node, parents):
        ell = float(self.length_scale(rng, ()))
        c = float(self.output_scale(rng, ()))
        return RandomFourierFunction.draw(rng, len(parents), ell, c)
