"""Anti-causal attribute predictors ("pseudo-oracles") that read the observed attributes off an image.

Two are trained per dataset and seed, with different width and seed, on simulated-intervention
data (all attributes independent) so they cannot read a parent off a correlated child:
oracle A may be used by counterfactual training, oracle B only by evaluation.

Shape letters: n images, s side, d attributes, o observed attributes.
"""

from __future__ import annotations

import dataclasses
import logging

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from avici_core.cgm.mechanisms import from_real, to_real
from avici_core.cgm.scm import Attribute
from avici_core.types import Params, PRNGKey

log = logging.getLogger(__name__)


def conv_tower(x: jax.Array, width: int, name: str) -> jax.Array:
    """Strided 4x4 convs down to 4 x 4 spatial, then flatten: [n, s, s] -> [n, 16 * 2w]."""
    h = x[..., None]
    k = 0
    while h.shape[1] > 4:
        h = jax.nn.swish(hk.Conv2D(width * min(2**k, 2), 4, stride=2, name=f"{name}_conv{k}")(h))
        k += 1
    return h.reshape(h.shape[0], -1)


@dataclasses.dataclass(frozen=True)
class OracleSpec:
    attrs: tuple[Attribute, ...]
    width: int = 16

    @property
    def observed(self) -> list[int]:
        return [j for j, at in enumerate(self.attrs) if at.observed]


def _net(spec: OracleSpec):
    def forward(x: jax.Array) -> list[jax.Array]:
        h = jax.nn.swish(hk.Linear(128, name="oracle_hidden")(conv_tower(x, spec.width, "oracle")))
        outs = []
        for j in spec.observed:
            at = spec.attrs[j]
            outs.append(hk.Linear(at.card if at.categorical else 1, name=f"oracle_head{j}")(h))
        return outs

    return hk.without_apply_rng(hk.transform(forward))


def loss_fn(spec: OracleSpec, params: Params, x: jax.Array, a: jax.Array) -> jax.Array:
    """Mean over rows of the summed per-attribute loss (cross-entropy or squared error in T_j)."""
    outs = _net(spec).apply(params, x)
    total = 0.0
    for j, out in zip(spec.observed, outs):
        at = spec.attrs[j]
        if at.categorical:
            total += optax.softmax_cross_entropy_with_integer_labels(out, a[:, j].astype(jnp.int32))
        else:
            total += (out[:, 0] - to_real(at, a[:, j])) ** 2
    return jnp.mean(total)


@dataclasses.dataclass
class Oracle:
    spec: OracleSpec
    params: Params

    def __post_init__(self) -> None:
        self._apply = jax.jit(_net(self.spec).apply)

    def predict(self, x01: np.ndarray, *, batch: int = 1000) -> np.ndarray:
        """Attribute read-outs [n, d] (hidden columns are NaN) from images in [0, 1]."""
        n = x01.shape[0]
        pred = np.full((n, len(self.spec.attrs)), np.nan)
        for lo in range(0, n, batch):
            outs = self._apply(self.params, jnp.asarray(x01[lo : lo + batch], jnp.float32))
            for j, out in zip(self.spec.observed, outs):
                at, out = self.spec.attrs[j], np.asarray(out, np.float64)
                pred[lo : lo + batch, j] = (
                    out.argmax(-1) if at.categorical else from_real(at, out[:, 0])
                )
        return pred


def train(
    key: PRNGKey,
    rng: np.random.Generator,
    spec: OracleSpec,
    x: np.ndarray,
    a: np.ndarray,
    *,
    steps: int,
    batch: int = 128,
    lr: float = 1e-3,
) -> Oracle:
    """Adam on minibatches of (image uint8 [n, s, s], attributes [n, d])."""
    net = _net(spec)
    params = net.init(key, jnp.zeros((2, *x.shape[1:]), jnp.float32))
    opt = optax.adam(lr)

    @jax.jit
    def step(p, s, xb, ab):
        val, grads = jax.value_and_grad(lambda q: loss_fn(spec, q, xb, ab))(p)
        upd, s = opt.update(grads, s)
        return optax.apply_updates(p, upd), s, val

    state = opt.init(params)
    for t in range(steps):
        idx = rng.integers(0, x.shape[0], batch)
        params, state, val = step(params, state, x[idx] / 255.0, a[idx])
        if t % max(steps // 5, 1) == 0 or t == steps - 1:
            log.info("oracle step %d/%d loss %.4f", t + 1, steps, float(val))
    return Oracle(spec, jax.device_get(params))
