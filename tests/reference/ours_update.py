"""The same training update as ``avici_ref_update.py``, by this project (run in a subprocess, so
the test can switch JAX to float64 with ``JAX_ENABLE_X64=1`` for this process alone)::

  python ours_update.py IN.npz OUT.npz
"""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
from update_io import read_params, write_update

from avici_core.model.network import make_network
from avici_core.model.train import TrainConfig, loss_and_grads_fn


def main(src: str, dst: str) -> None:
    data = np.load(src)
    kwargs = json.loads(str(data["kwargs"]))
    config = TrainConfig(
        dim=kwargs["dim"],
        layers=kwargs["layers"],
        key_size=kwargs["key_size"],
        num_heads=kwargs["num_heads"],
        widening=kwargs["widening_factor"],
        dropout=kwargs["dropout"],
        acyclicity="dual",
    )
    params = jax.tree_util.tree_map(jnp.asarray, read_params(data))
    x = jnp.asarray(data["x"])
    step = loss_and_grads_fn(config, make_network(config.model_config()))
    (loss, _), grads = jax.jit(step)(
        params,
        jnp.asarray(data["dual"]),
        jax.random.key(0),
        x,
        jnp.asarray(data["g"]),
        jnp.zeros(x.shape[0], bool),
    )
    write_update(dst, float(data["lr"]), loss, params, grads)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
