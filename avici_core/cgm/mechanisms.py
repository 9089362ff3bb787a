"""Fitted parent mechanisms on any DAG: the attribute half of a deep SCM, with exact abduction.

Continuous node j, in the unbounded coordinate s = T_j(v) (logit of the rescaled interval, or
log above a lower bound): s = mu_j(pa) + sigma_j(pa) * u with u ~ N(0, 1). Abduction is the
exact inverse u = (s - mu) / sigma. Categorical node: softmax(logits_j(pa)) drawn by inverse CDF
from u ~ U(0, 1); abduction samples u uniformly in the CDF interval of the observed value (its
exact posterior). Hidden categorical nodes are first drawn from their exact posterior given the
observed ones, by enumeration. mu, sigma and logits are small MLPs (or affine) fitted by MLE.

Shape letters: n rows, d attributes, F feature width.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from avici_core.cgm.scm import Attribute, DoMap, categorical_icdf, topological_order
from avici_core.types import Params, PRNGKey

CLIP = 20.0  # bound on unbounded coordinates, keeps logits of boundary values finite


def to_real(at: Attribute, v):
    """Map a continuous attribute from its support to R (numpy or jax input)."""
    xp = jnp if isinstance(v, jax.Array) else np
    if np.isinf(at.high):
        s = xp.log(xp.maximum(v - at.low, 1e-8))
    else:
        p = xp.clip((v - at.low) / (at.high - at.low), 1e-8, 1 - 1e-8)
        s = xp.log(p) - xp.log1p(-p)
    return xp.clip(s, -CLIP, CLIP)


def from_real(at: Attribute, s: np.ndarray) -> np.ndarray:
    if np.isinf(at.high):
        return at.low + np.exp(s)
    return at.low + (at.high - at.low) / (1.0 + np.exp(-s))


def encode(attrs: Sequence[Attribute], a, *, observed_only: bool = False):
    """Feature matrix [n, F]: one-hot for categorical, T_j(v) for continuous attributes."""
    cols = []
    for j, at in enumerate(attrs):
        if observed_only and not at.observed:
            continue
        v = a[:, j]
        if at.categorical:
            cols.append(jax.nn.one_hot(jnp.asarray(v).astype(jnp.int32), at.card))
        else:
            cols.append(to_real(at, jnp.asarray(v, jnp.float32))[:, None])
    return jnp.concatenate(cols, -1)


def _net(attrs: tuple[Attribute, ...], g: np.ndarray, hidden: tuple[int, ...]):
    parents = [list(np.flatnonzero(g[:, j])) for j in range(len(attrs))]

    def forward(a: jax.Array) -> list[jax.Array]:
        feats = [encode([at], a[:, j : j + 1]) for j, at in enumerate(attrs)]
        outs = []
        for j, at in enumerate(attrs):
            x = (
                jnp.concatenate([feats[k] for k in parents[j]], -1)
                if parents[j]
                else jnp.zeros((a.shape[0], 1))
            )
            width = at.card if at.categorical else 2
            outs.append(hk.nets.MLP([*hidden, width], activation=jax.nn.gelu, name=f"node{j}")(x))
        return outs  # per node: [n, card] logits or [n, 2] (mu, log sigma)

    return hk.without_apply_rng(hk.transform(forward))


def _node_logp(at: Attribute, out: jax.Array, v: jax.Array) -> jax.Array:
    """log p(v | pa) [n] in the unbounded coordinate (the Jacobian does not depend on params)."""
    if at.categorical:
        return jnp.take_along_axis(jax.nn.log_softmax(out), v.astype(jnp.int32)[:, None], -1)[:, 0]
    s = to_real(at, v)
    mu, log_sigma = out[:, 0], jnp.clip(out[:, 1], -7.0, 5.0)
    return -0.5 * ((s - mu) / jnp.exp(log_sigma)) ** 2 - log_sigma - 0.5 * jnp.log(2 * jnp.pi)


@dataclasses.dataclass
class FittedSCM:
    """Parent mechanisms fitted on graph ``g``; the counterfactual engine for attributes."""

    attrs: tuple[Attribute, ...]
    g: np.ndarray  # [d, d]
    hidden: tuple[int, ...]
    params: Params

    def __post_init__(self) -> None:
        self.order = topological_order(self.g)
        self._apply = jax.jit(_net(self.attrs, self.g, self.hidden).apply)

    def outputs(self, a: np.ndarray) -> list[np.ndarray]:
        return [np.asarray(o, np.float64) for o in self._apply(self.params, jnp.asarray(a))]

    def log_prob(self, a: np.ndarray) -> np.ndarray:
        """Sum over nodes of log p(a_j | pa_j) [n] (unbounded coordinates)."""
        outs = self._apply(self.params, jnp.asarray(a))
        aj = jnp.asarray(a)
        return np.asarray(
            sum(_node_logp(at, o, aj[:, j]) for j, (at, o) in enumerate(zip(self.attrs, outs)))
        )

    def impute_hidden(self, rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
        """Replace hidden categorical columns by draws from their exact posterior given the rest."""
        hid = [j for j, at in enumerate(self.attrs) if not at.observed]
        if not hid:
            return a
        if any(not self.attrs[j].categorical for j in hid):
            raise ValueError("only categorical hidden attributes can be enumerated")
        configs = list(itertools.product(*(range(self.attrs[j].card) for j in hid)))
        logp = np.empty((a.shape[0], len(configs)))
        for c, cfg in enumerate(configs):
            ac = a.copy()
            ac[:, hid] = cfg
            logp[:, c] = self.log_prob(ac)
        post = np.exp(logp - logp.max(1, keepdims=True))
        post /= post.sum(1, keepdims=True)
        pick = categorical_icdf(post, rng.random(a.shape[0])).astype(int)
        out = a.copy()
        out[:, hid] = np.asarray(configs, float)[pick]
        return out

    def abduct(self, rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
        """Exogenous noise u [n, d] consistent with the attributes a [n, d] (all observed)."""
        outs = self.outputs(a)
        u = np.empty(a.shape)
        for j, (at, out) in enumerate(zip(self.attrs, outs)):
            if at.categorical:
                p = _softmax(out)
                k = a[:, j].astype(int)
                lo = np.take_along_axis(np.cumsum(p, -1) - p, k[:, None], -1)[:, 0]
                u[:, j] = lo + rng.random(a.shape[0]) * p[np.arange(len(k)), k]
            else:
                s = to_real(at, a[:, j])
                u[:, j] = (s - out[:, 0]) / np.exp(np.clip(out[:, 1], -7.0, 5.0))
        return u

    def propagate(self, u: np.ndarray, do: DoMap | None = None) -> np.ndarray:
        """Attributes [n, d] from noise u, ``do`` nodes clamped (per row; NaN = not intervened)."""
        do = do or {}
        a = np.zeros(u.shape)
        for j in self.order:
            out = self.outputs(a)[j]
            at = self.attrs[j]
            if at.categorical:
                a[:, j] = categorical_icdf(_softmax(out), u[:, j])
            else:
                s = out[:, 0] + np.exp(np.clip(out[:, 1], -7.0, 5.0)) * u[:, j]
                a[:, j] = from_real(at, np.clip(s, -CLIP, CLIP))
            if j in do:  # NaN entries leave that row's node to its mechanism
                a[:, j] = np.where(np.isnan(do[j]), a[:, j], do[j])
        return a

    def sample_noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Noise from the model's own priors: U(0, 1) categorical, N(0, 1) continuous: [n, d]."""
        return np.stack(
            [rng.random(n) if at.categorical else rng.standard_normal(n) for at in self.attrs], 1
        )

    def counterfactual(self, rng: np.random.Generator, a: np.ndarray, do: DoMap) -> np.ndarray:
        """Abduction (hidden nodes imputed first), action, prediction: a* [n, d]."""
        a = self.impute_hidden(rng, a)
        return self.propagate(self.abduct(rng, a), do)

    def cpt(self, j: int) -> np.ndarray:
        """CPT of a categorical node with categorical parents: [card_pa..., card_j]."""
        pa = list(np.flatnonzero(self.g[:, j]))
        cards = [self.attrs[k].card for k in pa]
        if not self.attrs[j].categorical or any(c == 0 for c in cards):
            raise ValueError(
                f"node {self.attrs[j].name} is not categorical with categorical parents"
            )
        configs = np.array(list(itertools.product(*(range(c) for c in cards))), float)
        a = np.zeros((max(len(configs), 1), len(self.attrs)))
        if pa:
            a[:, pa] = configs
        return _softmax(self.outputs(a)[j]).reshape(*cards, self.attrs[j].card)

    def meta(self) -> dict:
        return {"g": self.g.tolist(), "hidden": list(self.hidden)}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def fit(
    key: PRNGKey,
    attrs: Sequence[Attribute],
    g: np.ndarray,
    a: np.ndarray,
    *,
    hidden: tuple[int, ...] = (32,),
    steps: int = 600,
    lr: float = 1e-2,
) -> FittedSCM:
    """Maximum likelihood of every node given its parents in ``g`` (full batch Adam)."""
    attrs = tuple(attrs)
    g = np.asarray(g, np.int8)
    if g.shape != (len(attrs), len(attrs)):
        raise ValueError(f"graph shape {g.shape} does not match {len(attrs)} attributes")
    topological_order(g)
    net = _net(attrs, g, tuple(hidden))
    aj = jnp.asarray(a, jnp.float32)
    params = net.init(key, aj[:2])
    opt = optax.adam(lr)

    def loss(p):
        outs = net.apply(p, aj)
        return -sum(
            _node_logp(at, o, aj[:, j]).mean() for j, (at, o) in enumerate(zip(attrs, outs))
        )

    @jax.jit
    def step(p, s):
        val, grads = jax.value_and_grad(loss)(p)
        upd, s = opt.update(grads, s)
        return optax.apply_updates(p, upd), s, val

    state = opt.init(params)
    for _ in range(steps):
        params, state, _ = step(params, state)
    return FittedSCM(attrs, g, tuple(hidden), jax.device_get(params))
