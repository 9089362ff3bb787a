"""Training objective: off-diagonal edge BCE plus an optional acyclicity penalty (spec §1.5–1.6).

Shapes: ``logits, g [B, d, d]`` (``logits[b, i, j]`` scores i -> j).

The penalty is the spectral radius rho(P) of the edge-probability matrix (zero iff the support
is acyclic), estimated by power iteration in log space so tiny probabilities do not underflow.
Its weight lambda is a dual variable raised by slow dual ascent on an EMA of the penalty,
outside the gradient.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

Acyclicity = Literal["dual", "none"]


@dataclasses.dataclass(frozen=True)
class DualConfig:
    """Dual-ascent schedule of the original (``acyc_*`` script defaults)."""

    power_iters: int = 10
    dual_lr: float = 1e-4
    polyak: float = 1e-4  # EMA rate of the penalty
    inner_step: int = 500  # lambda changes every this many steps
    burnin: int = 50_000  # with warm-up: steps over which the dual step size ramps up linearly
    warmup: bool = True


class DualState(NamedTuple):
    lam: jax.Array  # [] penalty weight lambda
    penalty_ema: jax.Array  # [] EMA of max(mean rho, 0)


def init_dual() -> DualState:
    return DualState(lam=jnp.zeros((), jnp.float32), penalty_ema=jnp.zeros((), jnp.float32))


def edge_bce(logits: jax.Array, g: jax.Array, *, mask_diag: bool) -> jax.Array:
    """Mean over datasets of the per-dataset mean BCE over off-diagonal (or all) entries."""
    d = logits.shape[-1]
    keep = ~jnp.eye(d, dtype=bool) if mask_diag else jnp.ones((d, d), bool)
    safe = jnp.where(keep, logits, 0.0)  # masked -inf logits would give NaN gradients
    g = g.astype(logits.dtype)
    nll = -(g * jax.nn.log_sigmoid(safe) + (1.0 - g) * jax.nn.log_sigmoid(-safe))
    per_dataset = jnp.where(keep, nll, 0.0).sum(axis=(-2, -1)) / keep.sum()
    return per_dataset.mean()


def _log_matvec(log_p: jax.Array, log_abs: jax.Array, sign: jax.Array, *, left: bool):
    """Signed log-space ``u P`` (left) or ``P v`` (right) for ``log_p [..., d, d]``."""
    if left:  # out_j = sum_i u_i P_ij
        terms, signs, axis = log_abs[..., :, None] + log_p, sign[..., :, None], -2
    else:  # out_i = sum_j P_ij v_j
        terms, signs, axis = log_p + log_abs[..., None, :], sign[..., None, :], -1
    signs = jnp.broadcast_to(signs, terms.shape)
    out, out_sign = jax.nn.logsumexp(terms, axis=axis, b=signs, return_sign=True)
    log_norm = 0.5 * jax.nn.logsumexp(2.0 * out, axis=-1, keepdims=True)
    # A nilpotent P (exact DAG support) maps to the zero vector: keep it zero, not NaN.
    return out - jnp.where(jnp.isfinite(log_norm), log_norm, 0.0), out_sign


def spectral_radius(key: jax.Array, logits: jax.Array, *, power_iters: int = 10) -> jax.Array:
    """Estimate rho(P) per dataset, ``P = sigmoid(logits)`` with zero diagonal -> ``[B]``.

    Eigenvector estimates get no gradient; the gradient flows through P in ``u P v / u v``.
    """
    d = logits.shape[-1]
    log_p = jnp.where(jnp.eye(d, dtype=bool), -jnp.inf, jax.nn.log_sigmoid(logits))  # [B, d, d]
    key_u, key_v = jax.random.split(key)
    u0 = jax.random.normal(key_u, logits.shape[:-1], logits.dtype)  # [B, d]
    v0 = jax.random.normal(key_v, logits.shape[:-1], logits.dtype)
    u = (jnp.log(jnp.abs(u0)), jnp.sign(u0))
    v = (jnp.log(jnp.abs(v0)), jnp.sign(v0))
    for _ in range(power_iters):
        u = _log_matvec(log_p, *u, left=True)
        v = _log_matvec(log_p, *v, left=False)
    u_vec = jax.lax.stop_gradient(u[1] * jnp.exp(u[0]))
    v_vec = jax.lax.stop_gradient(v[1] * jnp.exp(v[0]))
    p = jnp.exp(log_p)
    numer = jnp.einsum("...i,...ij,...j->...", u_vec, p, v_vec)
    denom = jnp.einsum("...i,...i->...", u_vec, v_vec)
    return jnp.where(denom == 0.0, 0.0, numer / jnp.where(denom == 0.0, 1.0, denom))


def total_loss(
    key: jax.Array,
    logits: jax.Array,
    g: jax.Array,
    lam: jax.Array,
    *,
    mask_diag: bool,
    acyclicity: Acyclicity,
    dual: DualConfig = DualConfig(),
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """BCE + ``lam * mean rho(P)`` (``acyclicity='dual'``) or BCE alone (``'none'``)."""
    bce = edge_bce(logits, g, mask_diag=mask_diag)
    if acyclicity == "none":
        return bce, {"bce": bce, "penalty": jnp.zeros(())}
    if acyclicity != "dual":
        raise ValueError(f"acyclicity must be 'dual' or 'none', got {acyclicity!r}")
    penalty = spectral_radius(key, logits, power_iters=dual.power_iters).mean()
    return bce + lam * penalty, {"bce": bce, "penalty": penalty}


def update_dual(
    state: DualState, penalty: jax.Array, step: jax.Array, dual: DualConfig
) -> DualState:
    """One step of the dual schedule: EMA of the clipped penalty; lambda ascent every inner_step."""
    clipped = jnp.maximum(penalty, 0.0)
    ema = jnp.where(
        step == 0, clipped, dual.polyak * clipped + (1.0 - dual.polyak) * state.penalty_ema
    )
    if dual.warmup:
        lr = jnp.minimum(dual.dual_lr, dual.dual_lr * step / dual.burnin)
        due = (step % dual.inner_step == 0) & (step > 0)
    else:
        lr = jnp.asarray(dual.dual_lr)
        due = (step % dual.inner_step == 0) & (step > dual.burnin)
    lam = jnp.where(due, state.lam + lr * ema, state.lam)
    return DualState(lam=lam.astype(jnp.float32), penalty_ema=ema.astype(jnp.float32))
