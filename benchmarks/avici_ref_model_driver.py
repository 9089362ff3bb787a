"""Driver run by ``bench_model.py`` with the ORIGINAL package's python (its own venv).

Never imported by the project. Reads weights and inputs from an ``.npz``, builds the original
``avici.model.InferenceModel`` with the same size, and writes edge probabilities and timings::

  <ref-python> avici_ref_model_driver.py IN.npz OUT.npz

IN.npz: ``param/<module>/<name>`` arrays, ``x [B, n, d, 2]`` (raw values + indicator) and
optionally ``train_x_obs [B, 200, d, 2]``, ``train_x_int [B, 50, d, 2]``, ``train_g [B, d, d]``
to time one jitted LAMB update of the original loss (dropout 0.0, acyclicity on).
OUT.npz: ``probs [B, d, d]``, ``fwd_first_s``, ``fwd_warm_s``, and ``train_first_s``,
``train_warm_s`` when a training batch was given.
"""

import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from avici.model import BaseModel, InferenceModel
from avici.utils.data_jax import jax_standardize_x

KWARGS = dict(
    dim=128,
    layers=8,
    key_size=32,
    num_heads=8,
    widening_factor=4,
    dropout=0.0,
    cosine_temp_init=2.0,
)


def _timed(fn, *args):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def main(src, dst):
    data = np.load(src)
    params = {}
    for key in data.files:
        if key.startswith("param/"):
            module, name = key[len("param/") :].rsplit("/", 1)
            params.setdefault(module, {})[name] = jnp.asarray(data[key])
    model = InferenceModel(
        model_class=BaseModel, model_kwargs=dict(KWARGS), acyclicity=None, mask_diag=True
    )
    x = jnp.asarray(data["x"])
    count = jnp.zeros(x.shape[:-3], bool)
    forward = jax.jit(lambda p, x: model.infer_edge_probs(p, jax_standardize_x(x, count)))
    out = {"fwd_first_s": _timed(forward, params, x)}
    out["fwd_warm_s"] = min(_timed(forward, params, x) for _ in range(2))
    out["probs"] = np.asarray(forward(params, x))

    if "train_x_obs" in data.files:
        trainer = InferenceModel(
            model_class=BaseModel,
            model_kwargs=dict(KWARGS),
            train_p_obs_only=0.5,
            acyclicity=lambda penalty, t, dual: dual * penalty,
            mask_diag=True,
        )
        batch = {
            "x_obs": jnp.asarray(data["train_x_obs"]),
            "x_int": jnp.asarray(data["train_x_int"]),
            "g": jnp.asarray(data["train_g"]),
            "is_count_data": jnp.zeros(data["train_g"].shape[:1], bool),
        }
        opt = optax.chain(optax.clip_by_global_norm(1.0), optax.lamb(1e-4))
        opt_state = opt.init(params)

        @jax.jit
        def update(p, s, key, b, t):
            grads, _ = jax.grad(trainer.loss, has_aux=True)(p, jnp.array(0.0), key, b, t, True)
            updates, s = opt.update(grads, s, p)
            return optax.apply_updates(p, updates), s

        key = jax.random.PRNGKey(0)
        out["train_first_s"] = _timed(update, params, opt_state, key, batch, 1)
        out["train_warm_s"] = _timed(update, params, opt_state, key, batch, 2)
    np.savez(dst, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
