"""One training update of the ORIGINAL avici 1.0.7, run with the reference venv's python.

Never imported by the project or by pytest::

  <ref-python> avici_ref_update.py IN.npz OUT.npz

IN.npz: ``param/<module>/<name>`` arrays, ``x [B, n, d, 2]`` (raw values + intervention
indicator), ``g [B, d, d]``, ``dual []``, ``lr []`` and ``kwargs`` (the network's JSON kwargs).
OUT.npz: ``loss``, ``grad/<module>/<name>`` and ``new/<module>/<name>`` after one
clip(1.0) + LAMB(lr) update of the original loss (BCE + dual * spectral penalty).

Only ``avici.model`` is loaded (the package ``__init__`` pulls in TensorFlow and friends), so the
venv needs just avici (without dependencies), jax, jaxlib, dm-haiku, optax and numpy.
"""

import importlib.util
import json
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np

_spec = importlib.util.find_spec("avici")
_package = types.ModuleType("avici")
_package.__path__ = list(_spec.submodule_search_locations)
sys.modules["avici"] = _package

from avici.model import BaseModel, InferenceModel  # noqa: E402
from update_io import read_params, write_update  # noqa: E402


def main(src: str, dst: str) -> None:
    data = np.load(src)
    params = jax.tree_util.tree_map(jnp.asarray, read_params(data))
    x = jnp.asarray(data["x"])
    trainer = InferenceModel(
        model_class=BaseModel,
        model_kwargs=json.loads(str(data["kwargs"])),
        train_p_obs_only=1.0,  # use every row of x_obs as given (rows are then permuted: the
        # network is invariant to row order)
        acyclicity=lambda penalty, t, dual: dual * penalty,
        mask_diag=True,
    )
    batch = {
        "x_obs": x,
        "x_int": jnp.zeros((*x.shape[:-3], 1, *x.shape[-2:])),  # unused with p_obs_only = 1
        "g": jnp.asarray(data["g"]),
        "is_count_data": jnp.zeros(x.shape[:-3], bool),
    }
    dual = jnp.asarray(data["dual"])

    def loss(p):
        return trainer.loss(p, dual, jax.random.PRNGKey(0), batch, 0, True)

    (value, _), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(params)
    write_update(dst, float(data["lr"]), value, params, grads)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
