"""Our checkpoint format: arrays in ``.npz``, everything else in JSON; never pickle.

A model directory holds::

  config.json                    model config (+ training config, count flag): written once
  checkpoint_{step:07d}.npz      flattened trees: keys ``<tree>/<path>`` ('/'-joined), e.g.
                                 ``params/BaseModel/linear/w``, ``opt_state/1/0/mu/BaseModel/linear/w``
  checkpoint_{step:07d}.json     step, dual state, rng key data and metadata; written after the
                                 ``.npz``, so its presence marks a complete checkpoint

Files are written atomically (temp file + rename); only the newest ``keep`` checkpoints stay.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

import jax
import numpy as np

from avici_core.io import write_npz, write_text

CONFIG_FILE = "config.json"
LOCK_FILE = ".lock"
_CHECKPOINT_RE = re.compile(r"^checkpoint_(\d{7,})\.json$")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True))


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def flatten_tree(tree: Any) -> dict[str, np.ndarray]:
    """Pytree -> ``{'a/b/0': array}`` (dict keys, sequence indices and attribute names joined)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {
        jax.tree_util.keystr(path, simple=True, separator="/"): np.asarray(leaf)
        for path, leaf in flat
    }


def unflatten_like(template: Any, flat: dict[str, np.ndarray], *, what: str) -> Any:
    """Fill ``template``'s structure with arrays from ``flat`` (keys as :func:`flatten_tree`)."""
    paths, treedef = jax.tree_util.tree_flatten_with_path(template)
    keys = [jax.tree_util.keystr(p, simple=True, separator="/") for p, _ in paths]
    missing, unexpected = sorted(set(keys) - set(flat)), sorted(set(flat) - set(keys))
    if missing or unexpected:
        raise ValueError(
            f"{what}: checkpoint does not match the model (missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}); was it written with another model config?"
        )
    leaves = []
    for key, (_, ref) in zip(keys, paths):
        value = flat[key]
        if np.shape(value) != np.shape(ref):
            raise ValueError(
                f"{what}: {key} has shape {np.shape(value)}, the model expects {np.shape(ref)}"
            )
        leaves.append(value.astype(np.asarray(ref).dtype))
    return jax.tree_util.tree_unflatten(treedef, leaves)


def unflatten_params(flat: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Haiku params are ``{module: {name: array}}``; the name is the last path component."""
    params: dict[str, dict[str, np.ndarray]] = {}
    for key, value in flat.items():
        module, _, name = key.rpartition("/")
        if not module:
            raise ValueError(f"parameter key {key!r} is not of the form 'module/name'")
        params.setdefault(module, {})[name] = value
    return params


def checkpoint_steps(directory: str | os.PathLike) -> list[int]:
    """Steps of the complete checkpoints in ``directory``, ascending."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    steps = []
    for path in directory.iterdir():
        match = _CHECKPOINT_RE.match(path.name)
        if match and path.with_suffix(".npz").exists():
            steps.append(int(match.group(1)))
    return sorted(steps)


def save_checkpoint(
    directory: str | os.PathLike,
    step: int,
    trees: dict[str, Any],
    meta: dict[str, Any],
    *,
    keep: int = 3,
) -> Path:
    """Write ``trees`` (e.g. params, opt_state, ave_params) and ``meta``; prune to ``keep``."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        f"{name}/{key}": value
        for name, tree in trees.items()
        for key, value in flatten_tree(tree).items()
    }
    stem = directory / f"checkpoint_{step:07d}"
    write_npz(stem.with_suffix(".npz"), arrays, compress=False)
    write_json(stem.with_suffix(".json"), {"step": int(step), **meta})
    for old in checkpoint_steps(directory)[:-keep]:
        old_stem = directory / f"checkpoint_{old:07d}"
        old_stem.with_suffix(".json").unlink(missing_ok=True)
        old_stem.with_suffix(".npz").unlink(missing_ok=True)
    return stem.with_suffix(".npz")


def load_checkpoint(
    directory: str | os.PathLike, step: int | None = None
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Latest (or given) checkpoint -> ``({tree_name: {key: array}}, meta)``."""
    directory = Path(directory)
    steps = checkpoint_steps(directory)
    if not steps:
        raise ValueError(f"no complete checkpoint_*.npz/.json pair in {directory}")
    step = steps[-1] if step is None else step
    if step not in steps:
        raise ValueError(f"no checkpoint for step {step} in {directory}; available: {steps}")
    stem = directory / f"checkpoint_{step:07d}"
    meta = json.loads(stem.with_suffix(".json").read_text())
    trees: dict[str, dict[str, np.ndarray]] = {}
    with np.load(stem.with_suffix(".npz"), allow_pickle=False) as f:
        for key in f.files:
            name, _, rest = key.partition("/")
            trees.setdefault(name, {})[rest] = f[key]
    return trees, meta


@contextlib.contextmanager
def run_lock(out: str | os.PathLike):
    """Hold an exclusive lock on run folder ``out``; a second holder is refused, not queued.

    ``flock`` is released by the kernel when the holder dies, so a killed trainer never leaves
    a stale lock behind (unlike a marker file).
    """
    path = Path(out) / LOCK_FILE
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise RuntimeError(
                f"{out} is in use by {holder}; wait for it to finish or train into another --out"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {os.uname().nodename}")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
