"""Haiku parameters + JSON metadata in one ``.npz`` (no pickle), written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from avici_core.io import write_npz
from avici_core.types import Params

SEP = "::"  # module and parameter names never contain it (haiku uses '/' and '~')


def save_params(path: str | os.PathLike, params: Params, meta: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        f"{mod}{SEP}{name}": np.asarray(val)
        for mod, sub in params.items()
        for name, val in sub.items()
    }
    arrays["__meta__"] = np.asarray(json.dumps(meta, sort_keys=True))
    write_npz(path, arrays, compress=False)


def load_params(path: str | os.PathLike) -> tuple[Params, dict[str, Any]]:
    with np.load(path, allow_pickle=False) as f:
        if "__meta__" not in f.files:
            raise ValueError(f"{path}: not a cgm checkpoint (no __meta__ entry)")
        meta = json.loads(str(f["__meta__"]))
        params: dict[str, dict[str, np.ndarray]] = {}
        for key in f.files:
            if key != "__meta__":
                mod, name = key.split(SEP)
                params.setdefault(mod, {})[name] = f[key]
    return params, meta
