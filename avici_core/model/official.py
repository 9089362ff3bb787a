"""Read the original package's checkpoint layout (``kwargs.json`` + ``checkpoint_*.pkl``) safely.

The pickles hold a ``ModelState(step, rng, opt_state, params, dual, dual_penalty_polyak,
ave_params)`` of numpy arrays, haiku ``FlatMapping``s and optax state tuples. A restricted
unpickler rebuilds only numpy arrays and plain containers; every allowed class from the
original's stack (ModelState, FlatMapping, optax states) becomes an inert record of its
fields, so no code from the file can run. Parameter names already match ours (spec §1.4).
"""

from __future__ import annotations

import collections
import io
import json
import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from avici_core.model.network import ModelConfig

log = logging.getLogger(__name__)

MODEL_STATE_FIELDS = (
    "step",
    "rng",
    "opt_state",
    "params",
    "dual",
    "dual_penalty_polyak",
    "ave_params",
)

_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): np._core.multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): np._core.multiarray.scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): __import__("codecs").encode,  # bytes in protocol-2 pickles
}
_RECORD_MODULES = ("avici.", "amortibs.", "haiku.", "optax.")
_MAPPING_NAMES = ("FlatMapping", "FlatMap", "frozendict")


class Record(tuple):
    """Inert stand-in for a pickled named tuple / state class: positional fields + a source name."""

    source: str = ""

    def __new__(cls, *args: Any) -> Record:
        return super().__new__(cls, args)

    def __setstate__(self, state: Any) -> None:  # BUILD opcode: keep the state, run nothing
        self.__dict__["state"] = state


def _mapping_standin(*args: Any, **kwargs: Any) -> dict:
    """``FlatMapping(mapping)`` / ``frozendict(mapping)`` -> a plain dict."""
    return dict(*args, **kwargs)


class RestrictedUnpickler(pickle.Unpickler):
    """Allows numpy array reconstruction, OrderedDict, and inert records of known classes."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY_GLOBALS:
            return _NUMPY_GLOBALS[(module, name)]
        if module.startswith(_RECORD_MODULES):
            if name in _MAPPING_NAMES:
                return _mapping_standin
            if name == "ModelState" or name.endswith("State"):
                return type(name, (Record,), {"source": f"{module}.{name}"})
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name} from a checkpoint pickle (only numpy arrays, "
            "containers and known state records are allowed)"
        )


def restricted_load(data: bytes) -> Any:
    return RestrictedUnpickler(io.BytesIO(data)).load()


def model_state_fields(state: Any) -> dict[str, Any]:
    """The unpickled ModelState record -> ``{field: value}``."""
    if isinstance(state, Record) and len(state) == len(MODEL_STATE_FIELDS):
        return dict(zip(MODEL_STATE_FIELDS, state))
    if isinstance(state, dict) and "params" in state:
        return state
    raise ValueError(f"checkpoint pickle holds {type(state).__name__}, expected a ModelState")


def _as_params(tree: Any) -> dict[str, dict[str, np.ndarray]]:
    if not isinstance(tree, dict):
        raise ValueError(f"checkpoint params are a {type(tree).__name__}, expected a mapping")
    return {
        str(module): {str(k): np.asarray(v, dtype=np.float32) for k, v in dict(leaves).items()}
        for module, leaves in tree.items()
    }


_KWARG_MAP = {
    "layers": "layers",
    "dim": "dim",
    "key_size": "key_size",
    "num_heads": "num_heads",
    "widening_factor": "widening",
    "out_dim": "out_dim",
    "logit_bias_init": "logit_bias_init",
    "cosine_temp_init": "cosine_temp_init",
}


def config_from_kwargs(kwargs: dict[str, Any]) -> ModelConfig:
    """The original ``kwargs.json`` -> :class:`ModelConfig` (inference only: dropout 0)."""
    net = kwargs.get("neural_net_kwargs", {})
    net = net.get("model_kwargs", net)
    ln_axis = net.get("ln_axis", -1)
    if ln_axis not in (-1, "last"):
        raise ValueError(f"kwargs.json: ln_axis={ln_axis!r} is not supported (only the last axis)")
    if net.get("n_mixtures", 1) != 1 or not net.get("cosine_sim", True):
        raise ValueError("kwargs.json: only n_mixtures=1 with cosine_sim=True is supported")
    ignored = sorted(
        set(net) - set(_KWARG_MAP) - {"dropout", "ln_axis", "name", "n_mixtures", "cosine_sim"}
    )
    if ignored:
        log.info("kwargs.json: ignoring network kwargs %s", ignored)
    values = {
        ours: net[theirs] for theirs, ours in _KWARG_MAP.items() if net.get(theirs) is not None
    }
    mask_diag = bool(kwargs.get("inference_model_kwargs", {}).get("mask_diag", True))
    return ModelConfig(**values, mask_diag=mask_diag)


def load_official(
    directory: str | Path,
) -> tuple[ModelConfig, dict[str, dict[str, np.ndarray]], int]:
    """``kwargs.json`` + the last ``checkpoint_*.pkl`` -> (config, params, step)."""
    directory = Path(directory)
    pickles = sorted(directory.glob("checkpoint_*.pkl"))
    if not pickles or not (directory / "kwargs.json").exists():
        raise ValueError(
            f"{directory}: expected kwargs.json and checkpoint_*.pkl (original layout)"
        )
    config = config_from_kwargs(json.loads((directory / "kwargs.json").read_text()))
    fields = model_state_fields(restricted_load(pickles[-1].read_bytes()))
    return config, _as_params(fields["params"]), int(np.asarray(fields["step"]))
