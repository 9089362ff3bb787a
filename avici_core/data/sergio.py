"""SERGIO-style single-cell gene expression with knockouts (Dibaeinia & Sinha 2020), vectorized.

Each cell type is one steady state of a chemical Langevin equation (CLE) on the regulatory graph:
  dx_j = dt (P_j - λ x_j) + sqrt(dt) q (sqrt(P_j) N₁ + sqrt(λ x_j) N₂)        ("dpd" noise),
clipped at 0. Master regulators (roots) produce at a per-cell-type basal rate; a target produces
  P_j = Σ_u K_uj H_u           (K_uj > 0, activation)   +   Σ_u |K_uj| (1 - H_u)   (repression),
with the Hill function H_u = x_uⁿ / (h_uⁿ + x_uⁿ), whose half-response h_u is the mean expression
of regulator u over cell types, computed level by level from the roots. A knocked-out gene has zero
production and starts at zero, so it stays exactly zero. Technical noise (outlier genes, library
size, dropout, Poisson UMI counts) follows SERGIO's presets for four sequencing platforms.

The wild type runs as in SERGIO: level by level from the roots, each level's genes reading their
regulators' recorded trajectories, each gene's half-response set to its simulated mean before the
next level runs. Differences from the original code (which loops over genes and cell types in
Python, about 3.4 s per dataset; here all cell types, and all genes of a level, step at once):
  * Knockout conditions keep the wild type's half-responses (promoter parameters do not change
    when a regulator is knocked out; recomputing them would also divide 0 by 0 for the knocked-out
    gene). They start at their expected (deterministic) steady state and all genes step jointly.
  * A cell is one simultaneous snapshot of its trajectory (SERGIO reads each gene at the same index
    from the end of its own run, whose length grows by 10 steps per level, so a regulator and its
    target are read 10 steps apart). Every trajectory gets ``10 · n_levels`` burn-in steps. Cells
    are distinct time points (SERGIO draws the indices with replacement).
  * "dpd" noise q (sqrt(P) N₁ + sqrt(λx) N₂) is drawn as the Gaussian of the same law,
    q sqrt(P + λx) N.
  * Technical noise is applied once to wild-type and knockout cells together (the same outlier
    genes and one dropout percentile for the whole dataset).

Shapes: d genes, m knockout targets, C conditions, T cell types, d_level genes of one level,
R trajectories (one per condition and cell type), S recorded steps, n cells.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit

NOISE_TYPES = ("sp", "spd", "dpd")
# SERGIO's platform presets; each value is drawn independently from its tuple per dataset.
TECH_NOISE_PRESETS: dict[str, dict[str, tuple[float, ...]]] = {
    "10x-chromium": {
        "outlier_prob": (0.01,),
        "outlier_mean": (3.0, 3.0, 5.0),
        "outlier_scale": (1.0,),
        "lib_size_mean": (6.0, 6.0, 4.5),
        "lib_size_scale": (0.3, 0.4, 0.7),
        "dropout_shape": (8.0,),
        "dropout_percentile": (74.0, 82.0, 45.0),
    },
    "illumina": {
        "outlier_prob": (0.01,),
        "outlier_mean": (0.8,),
        "outlier_scale": (1.0,),
        "lib_size_mean": (7.0,),
        "lib_size_scale": (0.4,),
        "dropout_shape": (8.0,),
        "dropout_percentile": (80.0,),
    },
    "drop-seq": {
        "outlier_prob": (0.01,),
        "outlier_mean": (3.0,),
        "outlier_scale": (1.0,),
        "lib_size_mean": (4.4,),
        "lib_size_scale": (0.8,),
        "dropout_shape": (8.0,),
        "dropout_percentile": (85.0,),
    },
    "smart-seq": {
        "outlier_prob": (0.01,),
        "outlier_mean": (4.5,),
        "outlier_scale": (1.0,),
        "lib_size_mean": (10.8,),
        "lib_size_scale": (0.55,),
        "dropout_shape": (2.0,),
        "dropout_percentile": (92.0,),
    },
}

# A parameter spec: a number, a list of alternatives (one chosen per dataset), or a distribution
# object called as ``dist(rng, shape)``.
ParamSpec = float | Sequence[Any] | Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


class Kinetics(NamedTuple):
    """The drawn kinetic parameters of one dataset."""

    k: np.ndarray  # [d, d] signed interaction strengths, zero off the graph
    basal: np.ndarray  # [T, d] basal production per cell type, zero for non-roots
    hill: float  # Hill coefficient n
    decay: float  # λ
    noise: float  # q
    levels: np.ndarray  # [d] longest path from a root


def draw_param(
    rng: np.random.Generator, spec: ParamSpec, shape: tuple[int, ...] = ()
) -> np.ndarray:
    """Draw a parameter of the given shape from a number, a list of alternatives or a distribution."""
    if callable(spec):
        return np.broadcast_to(np.asarray(spec(rng, shape), np.float64), shape).copy()
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("an empty list of alternatives cannot be drawn from")
        return draw_param(rng, spec[int(rng.integers(len(spec)))], shape)
    if isinstance(spec, (int, float, np.number)) and not isinstance(spec, bool):
        return np.full(shape, float(spec))
    raise ValueError(
        f"parameter spec {spec!r} is not a number, a list of alternatives or a distribution"
    )


def gene_levels(g: np.ndarray) -> np.ndarray:
    """Longest-path depth of every gene from a root (roots 0): the order SERGIO simulates in.

    Raises:
      ValueError: if ``g`` has a cycle (SERGIO's steady state needs a DAG).
    """
    d = g.shape[0]
    levels = np.zeros(d, np.int64)  # [d]
    for _ in range(d + 1):
        nxt = np.max(np.where(g != 0, levels[:, None] + 1, 0), axis=0, initial=0)  # [d]
        if np.array_equal(nxt, levels):
            return levels
        levels = nxt
    raise ValueError("the graph has a cycle; GRNSergio needs a DAG")


def hill(x: np.ndarray, half: np.ndarray, n: float) -> np.ndarray:
    """Activating Hill response xⁿ / (hⁿ + xⁿ) in [0, 1], defined as 0 where x = h = 0."""
    xn = np.power(x, n)
    return xn / np.maximum(np.power(half, n) + xn, np.finfo(np.float64).tiny)


def production(
    x: np.ndarray, k: np.ndarray, basal: np.ndarray, half: np.ndarray, n: float
) -> np.ndarray:
    """Production rates [..., d_out] of the targets (columns of k [d_in, d_out]).

    Args:
      x: [..., d_in] regulator concentrations, half: [d_in] their half-responses, n: Hill
        coefficient, basal: [..., d_out] basal rates (zero for non-roots).

    Repression contributes |K|(1 - H) = |K| + K·H, so all interactions are one matrix product
    plus the constant Σ_u max(-K_uj, 0).
    """
    return basal + hill(x, half, n) @ k + np.maximum(-k, 0.0).sum(axis=0)


def level_inputs(kin: Kinetics, level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Genes of one level, their regulators and the interaction block between them.

    Regulators always lie on lower levels, so a level only reads genes already computed.
    """
    genes = np.flatnonzero(kin.levels == level)
    regs = np.flatnonzero(kin.k[:, genes].any(axis=1))
    return genes, regs, kin.k[np.ix_(regs, genes)]


def expected_steady_state(kin: Kinetics, knockout: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Deterministic steady state x̄ = P(x̄) / λ of every condition and cell type, level by level.

    Args:
      kin: kinetics of the dataset; half: [d] half-responses.
      knockout: [C, d] bool, the knocked-out genes of each condition (production 0).

    Returns:
      x̄ [C, T, d].
    """
    x = np.zeros((knockout.shape[0], *kin.basal.shape))  # [C, T, d]
    for level in range(int(kin.levels.max()) + 1):
        genes, regs, k = level_inputs(kin, level)
        rates = production(x[..., regs], k, kin.basal[:, genes], half[regs], kin.hill)
        x[..., genes] = np.where(knockout[:, None, genes], 0.0, rates) / kin.decay
    return x


def langevin_step(
    rng: np.random.Generator,
    x: np.ndarray,
    rates: np.ndarray,
    kin: Kinetics,
    *,
    dt: float,
    noise_type: str,
) -> np.ndarray:
    """One Euler–Maruyama step of the CLE for concentrations x [R, d], clipped at zero.

    "dpd" adds independent production and decay noise, q (sqrt(P) N₁ + sqrt(λx) N₂); a sum of
    independent Gaussians is one Gaussian, so it is drawn as q sqrt(P + λx) N (same law, half the
    draws). "spd" scales one draw by q (sqrt(P) + sqrt(λx)), "sp" by q sqrt(P).
    """
    decay = kin.decay * x
    if noise_type == "dpd":
        scale = np.sqrt(rates + decay)
    elif noise_type == "spd":
        scale = np.sqrt(rates) + np.sqrt(decay)
    else:
        scale = np.sqrt(rates)
    noise = (kin.noise * math.sqrt(dt)) * scale * rng.standard_normal(x.shape)
    return np.maximum(x + dt * (rates - decay) + noise, 0.0)


def pick_cells(rng: np.random.Generator, window: np.ndarray, n_cells: int) -> np.ndarray:
    """``n_cells`` distinct random time points [R, n_cells, d] of each trajectory in window [S, R, d]."""
    n_window, n_traj, _ = window.shape
    order = rng.permuted(np.tile(np.arange(n_window), (n_traj, 1)), axis=1)  # [R, S]
    return window[order[:, :n_cells], np.arange(n_traj)[:, None]]


def simulate_wild_type(
    rng: np.random.Generator,
    kin: Kinetics,
    *,
    n_cells: int,
    sampling_state: int,
    dt: float,
    noise_type: str,
) -> tuple[np.ndarray, np.ndarray]:
    """SERGIO's level-by-level run of the wild type, which also sets the half-responses.

    For each level, from the roots, the level's genes run for all cell types at once, reading
    their regulators' recorded trajectories at the same step. They start at P(regulator means)/λ
    and run ``10 · n_levels`` burn-in steps plus ``S = sampling_state · n_cells`` recorded ones;
    a gene's half-response is then its mean over the recorded steps of all cell types.

    Returns:
      cells [T, n_cells, d] (distinct random time points per cell type) and half-responses [d].
    """
    n_types, d = kin.basal.shape
    n_levels = int(kin.levels.max()) + 1
    n_burn = 10 * n_levels
    n_steps = n_burn + sampling_state * max(n_cells, 1)  # half-responses need a window anyway
    traj = np.zeros((n_steps, n_types, d))  # [S_all, T, d]
    half = np.zeros(d)  # [d]
    for level in range(n_levels):
        genes, regs, k = level_inputs(kin, level)
        basal = kin.basal[:, genes]  # [T, d_level]
        rates = production(traj[..., regs], k, basal, half[regs], kin.hill)  # [S_all, T, d_level]
        reg_mean = traj[n_burn:, :, regs].mean(axis=0)  # [T, d_regs]
        x = production(reg_mean, k, basal, half[regs], kin.hill) / kin.decay  # [T, d_level]
        level_traj = np.empty((n_steps, n_types, genes.size))
        for step in range(n_steps):
            x = langevin_step(rng, x, rates[step], kin, dt=dt, noise_type=noise_type)
            level_traj[step] = x
        traj[..., genes] = level_traj
        half[genes] = level_traj[n_burn:].mean(axis=(0, 1))
    return pick_cells(rng, traj[n_burn:], n_cells), half


def simulate_cells(
    rng: np.random.Generator,
    x0: np.ndarray,
    basal: np.ndarray,
    knockout: np.ndarray,
    kin: Kinetics,
    half: np.ndarray,
    *,
    n_cells: int,
    sampling_state: int,
    dt: float,
    noise_type: str,
) -> np.ndarray:
    """Run R trajectories with known half-responses in lockstep, all genes jointly.

    Each trajectory (one condition and cell type) starts at x0, runs a burn-in of
    ``10 · n_levels`` steps, then ``S = sampling_state · n_cells`` recorded steps.

    Args:
      x0: [R, d] initial concentrations; basal: [R, d] basal rates; knockout: [R, d] bool.

    Returns:
      cells [R, n_cells, d], distinct random time points of each recorded window.
    """
    n_traj, d = x0.shape
    if n_cells == 0:
        return np.zeros((n_traj, 0, d))
    n_burn = 10 * (int(kin.levels.max()) + 1)
    n_window = sampling_state * n_cells
    keep = ~knockout  # [R, d]
    regs = np.flatnonzero(kin.k.any(axis=1))  # only regulators enter the Hill terms
    k = kin.k[regs]  # [d_regs, d]
    window = np.empty((n_window, n_traj, d))  # [S, R, d]
    x = x0
    for step in range(n_burn + n_window):
        rates = production(x[:, regs], k, basal, half[regs], kin.hill) * keep
        x = langevin_step(rng, x, rates, kin, dt=dt, noise_type=noise_type)
        if step >= n_burn:
            window[step - n_burn] = x
    return pick_cells(rng, window, n_cells)


def draw_tech_noise(rng: np.random.Generator, preset: str) -> dict[str, float]:
    """One value per technical-noise parameter, each drawn independently from the preset's list."""
    return {
        name: float(draw_param(rng, values)) for name, values in TECH_NOISE_PRESETS[preset].items()
    }


def technical_noise(
    rng: np.random.Generator,
    x: np.ndarray,
    params: dict[str, float],
    *,
    outliers: bool,
    lib_size: bool,
    dropout: bool,
    counts: bool,
) -> np.ndarray:
    """SERGIO's measurement model on clean expression x [n, d] (n cells), in SERGIO's order.

    Outlier genes are scaled by a log-normal factor; each cell is rescaled to a log-normal library
    size; an entry survives dropout with probability sigmoid(shape · (log(x+1) − percentile));
    UMI counts are Poisson. Zeros stay zero throughout, so knocked-out genes read zero.
    """
    n, d = x.shape
    if outliers:
        is_outlier = rng.random(d) < params["outlier_prob"]  # [d]
        factor = rng.lognormal(params["outlier_mean"], params["outlier_scale"], d)  # [d]
        x = x * np.where(is_outlier, factor, 1.0)
    if lib_size:
        size = rng.lognormal(params["lib_size_mean"], params["lib_size_scale"], n)  # [n]
        total = x.sum(axis=1)  # [n]
        x = x * (size / np.where(total > 0, total, 1.0))[:, None]
    if dropout and x.size:
        log_x = np.log1p(x)
        mid = np.percentile(log_x, params["dropout_percentile"])
        x = x * (rng.random(x.shape) < expit(params["dropout_shape"] * (log_x - mid)))
    if counts:
        x = rng.poisson(x).astype(np.float64)
    return x


def interleave(blocks: np.ndarray, n_rows: int) -> np.ndarray:
    """Rows of per-target blocks [m, c, ...] in turn (t1, t2, …, t1, …), truncated to n_rows."""
    return np.swapaxes(blocks, 0, 1).reshape(-1, *blocks.shape[2:])[:n_rows]


class GRNSergio:
    """Mechanism: SERGIO steady-state single-cell expression with gene knockouts.

    Args (each a number, a list of alternatives chosen per dataset, or a distribution):
      b: basal production of master regulators, drawn per gene and cell type.
      k_param: interaction strength magnitude, drawn per edge.
      k_sign_p: probability that a regulator is an activator, drawn per regulator (row).
      hill: Hill coefficient; decays: decay rate λ; noise_params: CLE noise scale q (per dataset).
      cell_types: number of cell types (per dataset).
      noise_type: "dpd" (independent production and decay noise), "spd" or "sp".
      sampling_state: recorded steps per cell (SERGIO's 15).
      dt: Euler–Maruyama step.
      tech_noise_config: platform preset (``TECH_NOISE_PRESETS``) or a list to choose from.
      add_outlier_effect, add_lib_size_effect, add_dropout_effect: technical-noise switches.
      return_count_data: Poisson UMI counts (then ``is_count_data`` is True).
    """

    def __init__(
        self,
        *,
        b: ParamSpec,
        k_param: ParamSpec,
        k_sign_p: ParamSpec,
        hill: ParamSpec,
        decays: ParamSpec,
        noise_params: ParamSpec,
        cell_types: ParamSpec,
        noise_type: str = "dpd",
        sampling_state: int = 15,
        dt: float = 0.01,
        tech_noise_config: str | Sequence[str] = "10x-chromium",
        add_outlier_effect: bool = True,
        add_lib_size_effect: bool = True,
        add_dropout_effect: bool = True,
        return_count_data: bool = True,
    ) -> None:
        if noise_type not in NOISE_TYPES:
            raise ValueError(f"noise_type must be one of {NOISE_TYPES}, got {noise_type!r}")
        if int(sampling_state) != sampling_state or sampling_state < 1:
            raise ValueError(f"sampling_state must be a positive integer, got {sampling_state}")
        if not dt > 0:
            raise ValueError(f"dt must be positive, got {dt}")
        presets = [tech_noise_config] if isinstance(tech_noise_config, str) else tech_noise_config
        unknown = [p for p in presets if p not in TECH_NOISE_PRESETS]
        if not presets or unknown:
            raise ValueError(
                f"tech_noise_config {tech_noise_config!r}: use one or a list of "
                f"{sorted(TECH_NOISE_PRESETS)}"
            )
        self.b, self.k_param, self.k_sign_p = b, k_param, k_sign_p
        self.hill, self.decays, self.noise_params = hill, decays, noise_params
        self.cell_types = cell_types
        self.noise_type = noise_type
        self.sampling_state = int(sampling_state)
        self.dt = float(dt)
        self.tech_noise_config = list(presets)
        self.add_outlier_effect = bool(add_outlier_effect)
        self.add_lib_size_effect = bool(add_lib_size_effect)
        self.add_dropout_effect = bool(add_dropout_effect)
        self.return_count_data = bool(return_count_data)

    def draw_kinetics(self, rng: np.random.Generator, g: np.ndarray) -> Kinetics:
        """Per-dataset kinetics; regulators lean to activation or repression by their own p."""
        d = g.shape[0]
        levels = gene_levels(g)
        n_types = float(draw_param(rng, self.cell_types))
        if n_types != int(n_types) or n_types < 1:
            raise ValueError(f"cell_types must draw a positive integer, got {n_types}")
        p_activate = draw_param(rng, self.k_sign_p, (d,))  # [d] per regulator
        if np.any((p_activate < 0) | (p_activate > 1)):
            raise ValueError("k_sign_p must draw probabilities in [0, 1]")
        sign = np.where(rng.random((d, d)) < p_activate[:, None], 1.0, -1.0)  # [d, d]
        k = np.abs(draw_param(rng, self.k_param, (d, d))) * sign * (g != 0)  # [d, d]
        is_root = g.sum(axis=0) == 0  # [d]
        basal = draw_param(rng, self.b, (int(n_types), d)) * is_root  # [T, d]
        if np.any(basal < 0):
            raise ValueError("b must draw non-negative basal production rates")
        hill_n, decay, noise = (
            float(draw_param(rng, s)) for s in (self.hill, self.decays, self.noise_params)
        )
        if hill_n <= 0 or decay <= 0 or noise < 0:
            raise ValueError(
                f"need hill > 0, decays > 0 and noise_params >= 0; drew {hill_n}, {decay}, {noise}"
            )
        return Kinetics(k=k, basal=basal, hill=hill_n, decay=decay, noise=noise, levels=levels)

    def sample(
        self,
        rng: np.random.Generator,
        g: np.ndarray,
        *,
        n_obs: int,
        n_int: int,
        targets: np.ndarray,
        interv_dist: Any = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Wild-type and knockout cells of one dataset (``interv_dist`` is unused: knockouts).

        Returns:
          x_obs [n_obs, d], x_int [n_int, d] (rows cycle over the knocked-out ``targets``),
          mask_int [n_int, d] int8 (1 at the knocked-out gene) and ``is_count_data``.
        """
        g = np.asarray(g)
        if g.ndim != 2 or g.shape[0] != g.shape[1]:
            raise ValueError(f"g must be a square [d, d] adjacency, got shape {g.shape}")
        d = g.shape[0]
        targets = np.asarray(targets, np.int64).reshape(-1)
        if n_obs < 0 or n_int < 0:
            raise ValueError(f"n_obs and n_int must be >= 0, got {n_obs}, {n_int}")
        if targets.size and (targets.min() < 0 or targets.max() >= d):
            raise ValueError(f"knockout targets must be gene indices in [0, {d}), got {targets}")
        if np.unique(targets).size != targets.size:
            raise ValueError(f"knockout targets must be distinct, got {targets}")
        if n_int > 0 and targets.size == 0:
            raise ValueError("n_int > 0 needs at least one knockout target")
        if n_int == 0:
            targets = targets[:0]

        kin = self.draw_kinetics(rng, g)
        n_types, m = kin.basal.shape[0], targets.size
        run = {"sampling_state": self.sampling_state, "dt": self.dt, "noise_type": self.noise_type}
        wild, half = simulate_wild_type(rng, kin, n_cells=math.ceil(n_obs / n_types), **run)
        x_obs = rng.permutation(wild.reshape(-1, d))[:n_obs]  # [n_obs, d]
        if m:
            knockout = np.zeros((m, d), bool)  # [m, d]
            knockout[np.arange(m), targets] = True
            x_ss = expected_steady_state(kin, knockout, half)  # [m, T, d]
            ko = simulate_cells(
                rng,
                x_ss.reshape(m * n_types, d),
                np.tile(kin.basal, (m, 1)),
                np.repeat(knockout, n_types, axis=0),
                kin,
                half,
                n_cells=math.ceil(n_int / (n_types * m)),
                **run,
            )  # [m·T, c, d]
            per_target = rng.permuted(ko.reshape(m, -1, d), axis=1)  # [m, T·c, d]
            x_int = interleave(per_target, n_int)
            mask = interleave(np.broadcast_to(knockout[:, None], per_target.shape), n_int)
        else:
            x_int, mask = np.zeros((0, d)), np.zeros((0, d), bool)

        noisy = technical_noise(
            rng,
            np.concatenate([x_obs, x_int]),
            draw_tech_noise(
                rng, self.tech_noise_config[int(rng.integers(len(self.tech_noise_config)))]
            ),
            outliers=self.add_outlier_effect,
            lib_size=self.add_lib_size_effect,
            dropout=self.add_dropout_effect,
            counts=self.return_count_data,
        )
        return noisy[:n_obs], noisy[n_obs:], mask.astype(np.int8), self.return_count_data
