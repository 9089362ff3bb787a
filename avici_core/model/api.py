"""Inference: ``load_model(path_or_name)(x, interv) -> edge probabilities``.

Shapes: ``x, interv [n, d]`` or ``[B, n, d]``; output ``[d, d]`` or ``[B, d, d]`` with
``out[..., i, j]`` the probability of the edge i -> j.

Inputs are checked in numpy before anything is compiled. One compiled executable is cached per
input shape; the compile time of the last call is kept in ``last_compile_s`` so callers can
report compile and run time separately.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from avici_core.data.dataset import check_observations
from avici_core.model import checkpoint as ckpt
from avici_core.model.network import ModelConfig, make_network
from avici_core.model.official import load_official
from avici_core.types import Params

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "models"


class AviciModel:
    """A trained AVICI network with its parameters; call it on data to get edge probabilities."""

    def __init__(self, params: Params, config: ModelConfig, *, expects_counts: bool = False):
        self.params = jax.tree_util.tree_map(jnp.asarray, params)
        self.config = config
        self.expects_counts = expects_counts
        self.last_compile_s = 0.0
        self._net = make_network(config)
        self._compiled: dict[tuple[int, ...], jax.stages.Compiled] = {}

    def _executable(self, shape: tuple[int, ...]) -> jax.stages.Compiled:
        if shape not in self._compiled:
            start = time.perf_counter()

            def probs(params: Params, x: jax.Array) -> jax.Array:
                logits = self._net.apply(params, None, x, self.expects_counts, False)
                return jax.nn.sigmoid(logits)  # masked diagonal: sigmoid(-inf) = 0

            spec = jax.ShapeDtypeStruct(shape, jnp.float32)
            self._compiled[shape] = jax.jit(probs).lower(self.params, spec).compile()
            self.last_compile_s = time.perf_counter() - start
        else:
            self.last_compile_s = 0.0
        return self._compiled[shape]

    def __call__(
        self, x: np.ndarray, interv: np.ndarray | None = None, *, return_probs: bool = True
    ) -> np.ndarray:
        """Edge probabilities (or the graph thresholded at 0.5) for one or a batch of datasets.

        Args:
          x: ``[n, d]`` or ``[B, n, d]`` raw (unstandardized) observations.
          interv: optional 0/1 mask of the same shape, 1 where a value was set by intervention.
          return_probs: ``False`` returns ``int8`` graphs ``probs > 0.5`` instead.
        """
        batch = check_model_input(x, interv, expects_counts=self.expects_counts)  # [B, n, d, 2]
        probs = np.asarray(self._executable(batch.shape)(self.params, batch), dtype=np.float64)
        if np.ndim(x) == 2:
            probs = probs[0]
        return probs if return_probs else (probs > 0.5).astype(np.int8)


def check_model_input(
    x: np.ndarray, interv: np.ndarray | None, *, expects_counts: bool = False
) -> np.ndarray:
    """Validate and stack into the network input ``[B, n, d, 2]`` float32 (ValueError if bad)."""
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be [n, d] or [B, n, d], got shape {x.shape}")
    if interv is not None and np.shape(interv) != x.shape:
        raise ValueError(f"interv has shape {np.shape(interv)}, x has {x.shape}; they must match")
    xs = x[None] if x.ndim == 2 else x
    masks = (
        np.zeros(xs.shape, np.float32) if interv is None else np.asarray(interv).reshape(xs.shape)
    )
    for b in range(xs.shape[0]):
        check_observations(xs[b], masks[b], reject_constant=False)
    if expects_counts and not np.all(np.mod(xs, 1) == 0):
        log.warning("this model expects count data, but x is not integer-valued")
    return np.stack([xs.astype(np.float32), masks.astype(np.float32)], axis=-1)


def resolve_model_path(path_or_name: str | os.PathLike) -> Path:
    """An existing directory, or a bare name looked up as ``<repo>/models/<name>/``."""
    path = Path(path_or_name)
    if path.is_dir():
        return path
    if len(path.parts) == 1 and (MODELS_DIR / path).is_dir():
        return MODELS_DIR / path
    raise ValueError(
        f"no model at {str(path)!r}: pass a model directory or the name of a folder in {MODELS_DIR}"
    )


def load_model(
    path_or_name: str | os.PathLike, *, use_polyak: bool = False, expects_counts: bool | None = None
) -> AviciModel:
    """Load our checkpoint format (``config.json`` + ``checkpoint_*.npz``) or the original's
    (``kwargs.json`` + ``checkpoint_*.pkl``, read without executing pickled code).

    Args:
      path_or_name: model directory or a name under ``<repo>/models/``.
      use_polyak: use the Polyak-averaged parameters of our checkpoints (default: raw params,
        as the original's loader does).
      expects_counts: count-data standardizer; defaults to the model's own record (``False``
        for original checkpoints, whose files do not record it).
    """
    directory = resolve_model_path(path_or_name)
    if (directory / ckpt.CONFIG_FILE).exists():
        record = ckpt.read_json(directory / ckpt.CONFIG_FILE)
        config = ModelConfig.from_dict(record["model"])
        trees, meta = ckpt.load_checkpoint(directory)
        name = "ave_params" if use_polyak else "params"
        if name not in trees:
            raise ValueError(f"{directory}: checkpoint step {meta['step']} has no {name}")
        params = ckpt.unflatten_params(trees[name])
        counts = bool(record.get("expects_counts", False))
    elif (directory / "kwargs.json").exists():
        config, params, _ = load_official(directory)
        counts = False
    else:
        raise ValueError(
            f"{directory}: neither {ckpt.CONFIG_FILE} (ours) nor kwargs.json (original)"
        )
    model = AviciModel(
        params, config, expects_counts=counts if expects_counts is None else expects_counts
    )
    check_params_match(model)
    return model


def check_params_match(model: AviciModel) -> None:
    """Refuse parameters whose names/shapes differ from the network the config builds."""
    expected = jax.eval_shape(
        lambda: model._net.init(jax.random.key(0), jnp.zeros((1, 2, 2, 2)), False, False)
    )
    want, have = _shapes(expected), _shapes(model.params)
    if want != have:
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        wrong = sorted(k for k in set(want) & set(have) if want[k] != have[k])
        raise ValueError(
            f"parameters do not match the model config: missing {missing[:5]}, unexpected "
            f"{extra[:5]}, wrong shape {wrong[:5]}"
        )


def _shapes(params: Params) -> dict[str, tuple[int, ...]]:
    return {f"{m}/{n}": tuple(a.shape) for m, leaves in params.items() for n, a in leaves.items()}
