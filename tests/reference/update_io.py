"""File format shared by the two update drivers (plain numpy, so both venvs can import it)."""

import numpy as np


def read_params(data) -> dict:
    """``param/<module>/<name>`` arrays of an ``np.load`` -> Haiku's ``{module: {name: array}}``."""
    params = {}
    for key in data.files:
        if key.startswith("param/"):
            module, name = key[len("param/") :].rsplit("/", 1)
            params.setdefault(module, {})[name] = data[key]
    return params


def write_update(dst: str, lr: float, loss, params: dict, grads: dict) -> None:
    """One clip(1.0) + LAMB(lr) step from ``params`` with ``grads``, then ``loss``,
    ``grad/<module>/<name>`` and ``new/<module>/<name>`` as one ``.npz``."""
    import optax  # both venvs have it; the step itself is what the test compares

    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.lamb(lr))
    updates, _ = opt.update(grads, opt.init(params), params)
    new = optax.apply_updates(params, updates)
    out = {"loss": np.asarray(loss)}
    for prefix, tree in (("grad", grads), ("new", new)):
        for module, leaves in tree.items():
            for name, value in leaves.items():
                out[f"{prefix}/{module}/{name}"] = np.asarray(value)
    np.savez(dst, **out)
