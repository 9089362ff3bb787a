"""Image mechanisms: conditional VAE (one latent level, beta-weighted) and a two-level hierarchical
VAE with a conditional prior p(z | pa); plus counterfactual training against a frozen oracle.

The image mechanism x = f(z, pa) takes all observed attributes pa (features from
``mechanisms.encode``), so one trained model serves every attribute graph. Counterfactuals
abduct z as the posterior mean of q(z | x, pa) and decode with pa* ("direct effect": z kept);
the pixel likelihood is Bernoulli, so the counterfactual image is the decoder's mean.

Shape letters: n images, s side, F parent-feature width, z latent width per level.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from avici_core.cgm.oracle import Oracle, conv_tower
from avici_core.cgm.oracle import loss_fn as oracle_loss
from avici_core.types import Params, PRNGKey

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class VAEConfig:
    """Hyper-parameters of one image model (one row of the table)."""

    width: int = 16
    z_dim: int = 8
    levels: int = 1  # 1: CVAE, 2: hierarchical VAE
    cond_prior: bool = False  # p(z1 | pa) instead of N(0, I); always on for levels = 2
    beta: float = 1.0
    steps: int = 1500
    batch: int = 128
    lr: float = 1e-3
    cf_steps: int = 0  # counterfactual-training steps after pre-training (0 = none)
    cf_mode: str = "fixed"  # 'fixed' weight or 'lagrangian' bound on the -ELBO
    cf_weight: float = 10.0
    cf_lr: float = 1e-4
    lagrange_lr: float = 0.1
    damping: float = 10.0
    elbo_slack: float = 0.02  # constraint: -ELBO <= (1 + slack) * pre-trained -ELBO

    def __post_init__(self) -> None:
        if self.levels not in (1, 2):
            raise ValueError(f"levels must be 1 or 2, got {self.levels}")
        if self.cf_mode not in ("fixed", "lagrangian"):
            raise ValueError(f"cf_mode must be 'fixed' or 'lagrangian', got {self.cf_mode!r}")
        if self.beta <= 0 or self.steps < 1 or self.batch < 1:
            raise ValueError("beta must be positive and steps, batch at least 1")

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown image-model option(s) {sorted(unknown)}")
        return cls(**d)


Gauss = tuple[jax.Array, jax.Array]  # (mean, log variance), each [n, z]


class CVAE(hk.Module):
    """Encoder, (conditional) priors and resize-conv decoder; all names explicit and stable."""

    def __init__(self, cfg: VAEConfig, size: int) -> None:
        super().__init__(name="cvae")
        self.cfg, self.size = cfg, size

    def _gauss(self, h: jax.Array, name: str) -> Gauss:
        h = jax.nn.swish(hk.Linear(128, name=f"{name}_hidden")(h))
        out = hk.Linear(2 * self.cfg.z_dim, name=f"{name}_out")(h)
        return out[:, : self.cfg.z_dim], jnp.clip(out[:, self.cfg.z_dim :], -8.0, 6.0)

    def posterior(self, x: jax.Array, pa: jax.Array, eps: list[jax.Array]) -> tuple[list, list]:
        """q(z | x, pa) per level and the reparametrised samples z = mu + sigma * eps."""
        h = jnp.concatenate([conv_tower(x, self.cfg.width, "enc"), pa], -1)
        qs, zs = [], []
        for lvl in range(self.cfg.levels):
            q = self._gauss(jnp.concatenate([h, *zs], -1), f"q{lvl}")
            qs.append(q)
            zs.append(q[0] + jnp.exp(0.5 * q[1]) * eps[lvl])
        return qs, zs

    def prior(self, pa: jax.Array, zs: list[jax.Array]) -> list[Gauss]:
        """p(z1 | pa) (or N(0, I)) and, for two levels, p(z2 | z1, pa)."""
        n, z = pa.shape[0], self.cfg.z_dim
        if self.cfg.cond_prior or self.cfg.levels == 2:
            ps = [self._gauss(pa, "p0")]
        else:
            ps = [(jnp.zeros((n, z)), jnp.zeros((n, z)))]
        if self.cfg.levels == 2 and zs:  # p(z2 | z1, pa) needs z1
            ps.append(self._gauss(jnp.concatenate([zs[0], pa], -1), "p1"))
        return ps

    def decode(self, zs: list[jax.Array], pa: jax.Array) -> jax.Array:
        """Bernoulli logits [n, s, s]."""
        w = 2 * self.cfg.width
        h = jax.nn.swish(hk.Linear(256, name="dec_hidden")(jnp.concatenate([*zs, pa], -1)))
        h = jax.nn.swish(hk.Linear(16 * w, name="dec_grid")(h)).reshape(-1, 4, 4, w)
        k = 0
        while h.shape[1] < self.size:
            h = jax.image.resize(
                h, (h.shape[0], 2 * h.shape[1], 2 * h.shape[2], h.shape[3]), "nearest"
            )
            h = jax.nn.swish(
                hk.Conv2D(
                    w if 2 * h.shape[1] < self.size else self.cfg.width, 3, name=f"dec_conv{k}"
                )(h)
            )
            k += 1
        return hk.Conv2D(1, 3, name="dec_out")(h)[..., 0]

    def __call__(
        self, x: jax.Array, pa: jax.Array, eps: list[jax.Array]
    ) -> tuple[jax.Array, jax.Array]:
        """Logits [n, s, s] and KL [n] summed over levels."""
        qs, zs = self.posterior(x, pa, eps)
        ps = self.prior(pa, zs)
        kl = sum(_kl(q, p) for q, p in zip(qs, ps))
        return self.decode(zs, pa), kl


def _kl(q: Gauss, p: Gauss) -> jax.Array:
    (mq, lq), (mp, lp) = q, p
    return 0.5 * jnp.sum(lp - lq + (jnp.exp(lq) + (mq - mp) ** 2) / jnp.exp(lp) - 1.0, -1)


def transformed(cfg: VAEConfig, size: int) -> hk.MultiTransformed:
    def f():
        m = CVAE(cfg, size)
        return m.__call__, (m.__call__, m.posterior, m.prior, m.decode)

    return hk.without_apply_rng(hk.multi_transform(f))


def neg_elbo(cfg: VAEConfig, size: int, params: Params, key: PRNGKey, x01, pa) -> jax.Array:
    """Mean of reconstruction cross-entropy + beta * KL (nats per image)."""
    call = transformed(cfg, size).apply[0]
    eps = list(jax.random.normal(key, (cfg.levels, x01.shape[0], cfg.z_dim)))
    logits, kl = call(params, x01, pa, eps)
    rec = optax.sigmoid_binary_cross_entropy(logits, x01).sum((1, 2))
    return jnp.mean(rec + cfg.beta * kl)


class TrainState(NamedTuple):
    params: Params
    opt_state: optax.OptState
    lagrange: jax.Array  # multiplier of the -ELBO bound (unused in 'fixed' mode)


@dataclasses.dataclass
class ImageModel:
    """A trained image mechanism with the counterfactual map x* = f(x, pa, pa*)."""

    cfg: VAEConfig
    size: int
    params: Params

    def __post_init__(self) -> None:
        _, post, prior, dec = transformed(self.cfg, self.size).apply
        zeros = lambda n: [jnp.zeros((n, self.cfg.z_dim))] * self.cfg.levels

        def cf(p, x01, pa, pa_star):
            _, zs = post(p, x01, pa, zeros(x01.shape[0]))
            return jax.nn.sigmoid(dec(p, zs, pa_star))

        def from_prior(p, key, pa_star):
            zs = []
            for lvl in range(self.cfg.levels):
                mu, lv = prior(p, pa_star, zs)[lvl]
                key, sub = jax.random.split(key)
                zs.append(mu + jnp.exp(0.5 * lv) * jax.random.normal(sub, mu.shape))
            return jax.nn.sigmoid(dec(p, zs, pa_star))

        self._cf, self._prior = jax.jit(cf), jax.jit(from_prior)

    def counterfactual(self, x01: np.ndarray, pa: np.ndarray, pa_star: np.ndarray) -> np.ndarray:
        """Abduct z from (x, pa), decode with pa*: images [n, s, s] in [0, 1]."""
        return _batched(lambda sl: self._cf(self.params, x01[sl], pa[sl], pa_star[sl]), len(x01))

    def sample(self, key: PRNGKey, pa_star: np.ndarray) -> np.ndarray:
        """No abduction: z from the (conditional) prior; rung 1 and 2 samples and the prior-z row."""
        keys = jax.random.split(key, len(pa_star) // 1000 + 1)
        return _batched(
            lambda sl: self._prior(self.params, keys[sl.start // 1000], pa_star[sl]), len(pa_star)
        )


def _batched(fn: Callable[[slice], jax.Array], n: int, batch: int = 1000) -> np.ndarray:
    return np.concatenate([np.asarray(fn(slice(lo, lo + batch))) for lo in range(0, n, batch)])


def train(
    key: PRNGKey,
    rng: np.random.Generator,
    cfg: VAEConfig,
    x: np.ndarray,
    pa: np.ndarray,
) -> tuple[ImageModel, float]:
    """Pre-train by the (beta-)ELBO on images uint8 [n, s, s] and features pa [n, F].

    Returns the model and its final -ELBO on the last 10% of steps (the bound used by
    counterfactual training).
    """
    size = x.shape[1]
    net = transformed(cfg, size)
    key, sub = jax.random.split(key)
    eps0 = [jnp.zeros((2, cfg.z_dim))] * cfg.levels
    params = net.init(sub, jnp.zeros((2, size, size)), jnp.asarray(pa[:2], jnp.float32), eps0)
    opt = optax.adam(cfg.lr)

    @jax.jit
    def step(p, s, k, xb, pb):
        val, grads = jax.value_and_grad(lambda q: neg_elbo(cfg, size, q, k, xb, pb))(p)
        upd, s = opt.update(grads, s)
        return optax.apply_updates(p, upd), s, val

    state, tail = opt.init(params), []
    for t in range(cfg.steps):
        key, sub = jax.random.split(key)
        idx = rng.integers(0, x.shape[0], cfg.batch)
        params, state, val = step(params, state, sub, x[idx] / 255.0, pa[idx])
        if t >= cfg.steps - max(1, cfg.steps // 10):
            tail.append(float(val))
        if t % max(cfg.steps // 10, 1) == 0 or t == cfg.steps - 1:
            log.info("vae step %d/%d -elbo %.2f", t + 1, cfg.steps, float(val))
    return ImageModel(cfg, size, jax.device_get(params)), float(np.mean(tail))


def train_counterfactual(
    key: PRNGKey,
    rng: np.random.Generator,
    model: ImageModel,
    oracle_a: Oracle,
    x: np.ndarray,
    pa: np.ndarray,
    pa_star: np.ndarray,
    a_star: np.ndarray,
    *,
    bound: float,
) -> ImageModel:
    """Push frozen oracle A to read a* off x* = dec(abducted z, pa*), keeping the ELBO.

    'fixed': loss = -ELBO + w * oracle loss. 'lagrangian' (causal-gen): loss = oracle loss -
    (lambda - damping * c) * c with c = bound' - (-ELBO), lambda >= 0 by gradient ascent.
    ``pa_star``/``a_star`` [n, F]/[n, d] are counterfactual parents of the rows of x (one random
    single-attribute do each, propagated through the parent SCM).
    """
    cfg, size = model.cfg, model.size
    _, post, _, dec = transformed(cfg, size).apply
    eps_bound = bound * (1.0 + cfg.elbo_slack)
    opt = optax.adam(cfg.cf_lr)

    def losses(p, k, xb, pb, psb, asb):
        nelbo = neg_elbo(cfg, size, p, k, xb, pb)
        _, zs = post(p, xb, pb, [jnp.zeros((xb.shape[0], cfg.z_dim))] * cfg.levels)
        x_star = jax.nn.sigmoid(dec(p, zs, psb))
        return nelbo, oracle_loss(oracle_a.spec, oracle_a.params, x_star, asb)

    def objective(p, lam, k, xb, pb, psb, asb):
        nelbo, aux = losses(p, k, xb, pb, psb, asb)
        if cfg.cf_mode == "fixed":
            return nelbo + cfg.cf_weight * aux, (nelbo, aux)
        c = eps_bound - nelbo
        return aux - (lam - cfg.damping * c) * c, (nelbo, aux)

    @jax.jit
    def step(st: TrainState, k, xb, pb, psb, asb):
        (_, aux), (gp, gl) = jax.value_and_grad(objective, argnums=(0, 1), has_aux=True)(
            st.params, st.lagrange, k, xb, pb, psb, asb
        )
        upd, s = opt.update(gp, st.opt_state)
        lam = jnp.maximum(st.lagrange + cfg.lagrange_lr * gl, 0.0)  # ascent on lambda
        return TrainState(optax.apply_updates(st.params, upd), s, lam), aux

    st = TrainState(model.params, opt.init(model.params), jnp.asarray(0.0))
    for t in range(cfg.cf_steps):
        key, sub = jax.random.split(key)
        i = rng.integers(0, x.shape[0], cfg.batch)
        st, (nelbo, aux) = step(st, sub, x[i] / 255.0, pa[i], pa_star[i], a_star[i])
        if t % max(cfg.cf_steps // 5, 1) == 0 or t == cfg.cf_steps - 1:
            log.info(
                "cf step %d/%d -elbo %.2f (bound %.2f) oracle-A loss %.3f lambda %.3f",
                t + 1,
                cfg.cf_steps,
                float(nelbo),
                eps_bound,
                float(aux),
                float(st.lagrange),
            )
    return ImageModel(cfg, size, jax.device_get(st.params))
