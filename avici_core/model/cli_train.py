"""``python -m avici_core train --config FILE [--model ID] --out DIR [--steps N]``.

FILE is YAML: a single train config (keys of ``TrainConfig``), or a model registry
``{models: {ID: {...}}}`` from which ``--model`` picks an entry. An entry gives its train
config as ``train: {...}``, or in the workflow's ``config/models.yaml`` form as
``train_domains`` + ``seed`` + ``hparams`` (names mapped by ``HPARAM_NAMES``). Training resumes
from the latest checkpoint in ``--out``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import yaml

from avici_core.cli import command_parser
from avici_core.model.train import TrainConfig, train

log = logging.getLogger(__name__)

# The workflow registry's hparam names -> TrainConfig fields (same meaning).
HPARAM_NAMES = {
    "heads": "num_heads",
    "train_n_vars": "n_vars",
    "train_n_obs": "n_obs_train",
    "train_n_int": "n_int_train",
    "bsu": "batch_size_unit",
    "lr": "lr_base",
}
ENTRY_KEYS = {"train", "train_domains", "seed", "hparams", "resources", "description"}


def _entry_to_train(entry: dict[str, Any], model_id: str) -> dict[str, Any]:
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise ValueError(
            f"model {model_id!r}: unknown key(s) {unknown}; known: {sorted(ENTRY_KEYS)}"
        )
    if "train" in entry:
        return dict(entry["train"])
    raw = {HPARAM_NAMES.get(k, k): v for k, v in (entry.get("hparams") or {}).items()}
    if "train_domains" in entry:
        raw["domains"] = entry["train_domains"]
    if "seed" in entry:
        raw["seed"] = entry["seed"]
    return raw


def read_train_config(path: str | Path, model_id: str | None) -> TrainConfig:
    """Parse FILE (single config or registry) into a validated :class:`TrainConfig`."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a YAML mapping")
    if "models" in raw:
        models = raw["models"] or {}
        if model_id is None:
            raise ValueError(f"{path} is a model registry; pass --model (one of {sorted(models)})")
        if model_id not in models:
            raise ValueError(f"unknown model {model_id!r}; {path} defines {sorted(models)}")
        raw = _entry_to_train(models[model_id], model_id)
    elif model_id is not None:
        raise ValueError(f"--model {model_id!r} given, but {path} is a single train config")
    return TrainConfig.from_dict(raw)


def main(argv: list[str]) -> int:
    parser = command_parser("train", __doc__)
    parser.add_argument("--config", required=True, help="train config or model registry (YAML)")
    parser.add_argument("--model", help="model id in a registry")
    parser.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl)")
    parser.add_argument(
        "--steps", type=int, help="stop at this step (default: the config's n_steps)"
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        help="wall-clock budget: stop at a checkpoint and finish like a completed run "
        "(default: the config's max_minutes, else none)",
    )
    args = parser.parse_args(argv)
    config = read_train_config(args.config, args.model)
    if args.max_minutes is not None:
        config = dataclasses.replace(config, max_minutes=args.max_minutes)
    summary = train(config, args.out, n_steps=args.steps)
    log.info("trained to step %d in %.1f s", summary["step"], summary["walltime_s"])
    return 0
