"""``python -m avici_core export-model``: a finished training run -> a shippable model folder.

The workflow's ``train_model`` rule leaves a run directory (``results/models/<id>``) with
optimizer state and several checkpoints. A shipped model needs only one parameter set, its
network config and a model card, so the folder stays small enough to commit and loads with
``load_model("<id>")``. The parameter set (raw or Polyak-averaged) is the one with the better
final validation AUPRC, recorded in the card.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import f1_score

from avici_core.cli import command_parser
from avici_core.io import write_text
from avici_core.model import checkpoint as ckpt
from avici_core.model.api import MODELS_DIR
from avici_core.model.network import ModelConfig
from avici_core.model.train import hardware

log = logging.getLogger(__name__)

CARD_FILE = "README.md"
INPUT_DESCRIPTIONS = {
    "zscore": "each column's z-score, as in the paper",
    "normal_scores": "each column's normal scores (ranks mapped to standard-normal quantiles), "
    "so any increasing transform of a column leaves the prediction unchanged",
    "zscore+normal_scores": "each column's z-score and its normal scores (ranks mapped to "
    "standard-normal quantiles), two channels",
}

PAIR_HEAD_NOTE = (
    " plus a pair-statistics head (an MLP on each pair's correlation and partial correlation over"
    " all rows, added to the edge logit; trained with Adam, the rest with LAMB)"
)


def validation_records(run_dir: Path) -> list[dict[str, float]]:
    """Every ``val/...`` record of ``metrics.jsonl`` (with its step), in training order."""
    with open(run_dir / "metrics.jsonl") as lines:
        records = [json.loads(line) for line in lines]
    found = [r for r in records if any(k.startswith("val/") for k in r)]
    if not found:
        raise ValueError(f"{run_dir}/metrics.jsonl has no validation record; train longer")
    return found


def learning_curve(records: list[dict[str, float]]) -> str:
    """Markdown rows ``| step | d | AUROC | AUPRC |`` (both parameter sets) over training."""
    rows = []
    for record in records:
        sizes = sorted(
            {k.split("/")[1] for k in record if k.startswith("val/")}, key=lambda s: int(s[1:])
        )
        for d in sizes:
            cells = [
                f"{record.get(f'val/{d}/{name}/{metric}', float('nan')):.3f}"
                for name in ("params", "ave")
                for metric in ("auroc", "auprc")
            ]
            rows.append(f"| {int(record['step']):,} | {d[1:]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def pick_params(validation: dict[str, float]) -> str:
    """``params`` or ``ave_params``: the one with the higher mean validation AUPRC."""

    def mean_auprc(name: str) -> float:
        values = [
            v
            for k, v in validation.items()
            if k.startswith("val/") and k.endswith(f"/{name}/auprc")
        ]
        return sum(values) / len(values) if values else float("-inf")

    return "ave_params" if mean_auprc("ave") > mean_auprc("params") else "params"


def choose_threshold(model_dir: str | Path) -> dict[str, float]:
    """The decision threshold that maximises F1 on the model's own validation sets.

    The sets are rebuilt from the training record (fixed ``tune``-stream datasets, never trained
    on); F1 pools every off-diagonal entry of every set. Returns the threshold and the F1 there
    and at 0.5, for the card.
    """
    from avici_core.model.api import load_model
    from avici_core.model.train import TrainConfig, validation_sets

    record = ckpt.read_json(Path(model_dir) / ckpt.CONFIG_FILE)
    model = load_model(model_dir)
    probs, truth = [], []
    for x, g, _ in validation_sets(TrainConfig.from_dict(record["train"])).values():
        p = model(x[..., 0], interv=x[..., 1])  # [B, d, d]
        off = ~np.eye(g.shape[-1], dtype=bool)
        probs.append(p[:, off].ravel())
        truth.append(g[:, off].ravel() != 0)
    p, t = np.concatenate(probs), np.concatenate(truth)
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
    f1 = np.array([f1_score(t, p > c, zero_division=0.0) for c in grid])
    best = int(np.argmax(f1))
    return {
        "threshold": float(grid[best]),
        "f1": float(f1[best]),
        "f1_at_0.5": float(f1_score(t, p > 0.5, zero_division=0.0)),
    }


def threshold_line(chosen: dict[str, float]) -> str:
    return (
        f"Decision threshold {chosen['threshold']:.2f}: the edge probability above which `discover` "
        f"and graph outputs keep an edge, chosen to maximise F1 on the validation sets below "
        f"(F1 {chosen['f1']:.3f} there; {chosen['f1_at_0.5']:.3f} at 0.5)."
    )


def stamp_threshold(model_dir: str | Path) -> dict[str, float]:
    """Choose the threshold and record it in the folder's ``config.json``."""
    chosen = choose_threshold(model_dir)
    path = Path(model_dir) / ckpt.CONFIG_FILE
    ckpt.write_json(path, {**ckpt.read_json(path), "threshold": chosen["threshold"]})
    return chosen


def model_card(
    name: str,
    description: str,
    record: dict[str, Any],
    *,
    step: int,
    n_params: int,
    chosen: str,
    validation: dict[str, float],
    curve: str,
    walltime_s: float | None,
    hardware_line: str,
    command: str,
    threshold: dict[str, float],
) -> str:
    """Markdown card: what the model is, how it was trained, how to reproduce it."""
    model, train = record["model"], record["train"]
    val_rows = "\n".join(
        f"| {k.split('/')[1]} | {k.split('/')[2]} | {k.split('/')[3]} | {v:.3f} |"
        for k, v in sorted(validation.items())
        if k.startswith("val/") and not k.endswith("/loss")
    )
    boundaries = train["lr_boundaries"]
    schedule = (
        f"times {train['lr_decay']} at steps {boundaries}" if boundaries else "constant schedule"
    )
    hours = "unknown" if walltime_s is None else f"{walltime_s / 3600:.2f} h ({walltime_s:.0f} s)"
    start = (
        f"warm start from `{train['init_from']}` (its parameters; a fresh optimizer), then "
        if train.get("init_from")
        else ""
    )
    # summed over every process that trained the run (resumptions included)
    return f"""# {name}

{description.strip()}

Load it offline with `avici_core.load_model("{name}")`, or run it on a CSV table with
`python -m avici_core discover TABLE.csv --out DIR`. Held-out quality against the classical
methods: `benchmarks/README.md` (section "Pretrained model {name}").

## Network
{n_params:,} parameters: {model["layers"]} encoder layer pairs (attention over variables, then rows),
width {model["dim"]}, {model["num_heads"]} heads of size {model["key_size"]}, feed-forward widening
{model["widening"]}, dropout {model["dropout"]}, cosine edge head{PAIR_HEAD_NOTE if model.get("pair_statistics") else ""}; acyclicity penalty:
{train["acyclicity"]}. Input: {INPUT_DESCRIPTIONS[model.get("input_values", "zscore")]}.
Shipped parameter set: `{chosen}` (the higher final validation AUPRC).

{threshold_line(threshold)}

## Training
- domains: {", ".join(train["domains"])} (`config/domains.yaml`), seed {train["seed"]}
- d in {train["n_vars"]}; {train["n_obs_train"]} observational + {train["n_int_train"]}
  interventional rows per dataset (all observational with probability {train["p_obs_only"]})
- {start}{step:,} steps, batch size unit {train["batch_size_unit"]}, LAMB, base learning rate
  {train["lr_base"]} ({schedule})
- wall time: {hours}
- hardware: {hardware_line}

## Validation (fixed datasets of the training distribution, `tune` seed stream, step {int(validation["step"])})
| d | parameters | metric | value |
|---|---|---|---|
{val_rows}

Over training (the same validation sets):

| step | d | AUROC (params) | AUPRC (params) | AUROC (ave) | AUPRC (ave) |
|---|---|---|---|---|---|
{curve}

## Reproduce
```
{command}
```
"""


def export_model(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    name: str,
    description: str,
    command: str,
) -> Path:
    """Write ``config.json``, one parameter checkpoint and the model card into ``out_dir``."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if not (run_dir / "final.json").exists():
        raise ValueError(f"{run_dir} has no final.json: the training run is not finished")
    record = ckpt.read_json(run_dir / ckpt.CONFIG_FILE)
    final = ckpt.read_json(run_dir / "final.json")
    trees, meta = ckpt.load_checkpoint(run_dir)
    records = validation_records(run_dir)
    validation = records[-1]
    chosen = pick_params(validation)
    params = trees[chosen]
    n_params = sum(int(v.size) for v in params.values())
    ModelConfig.from_dict(record["model"])  # fail here, not at load time, on a stale config

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    ckpt.write_json(out_dir / ckpt.CONFIG_FILE, record)
    ckpt.save_checkpoint(out_dir, int(meta["step"]), {"params": params}, {"source": chosen}, keep=1)
    threshold = stamp_threshold(out_dir)
    card = model_card(
        name,
        description,
        record,
        step=int(meta["step"]),
        n_params=n_params,
        chosen=chosen,
        validation=validation,
        curve=learning_curve(records),
        walltime_s=final.get("walltime_s"),
        hardware_line=final.get("hardware")
        or f"not recorded by the run; exported on {hardware(jax_devices=[])}",
        command=command,
        threshold=threshold,
    )
    write_text(out_dir / CARD_FILE, card)
    return out_dir


def main(argv: list[str]) -> int:
    parser = command_parser("export-model", __doc__)
    parser.add_argument("model", help="model id in the registry (the run is results/models/<id>)")
    parser.add_argument("--registry", default="config/models.yaml", help="model registry (YAML)")
    parser.add_argument("--run", help="run directory (default: results/models/<id>)")
    parser.add_argument("--out", help=f"output folder (default: {MODELS_DIR}/<id>)")
    args = parser.parse_args(argv)
    entry = (yaml.safe_load(Path(args.registry).read_text()).get("models") or {}).get(args.model)
    if entry is None:
        raise SystemExit(f"export-model: no model {args.model!r} in {args.registry}")
    run_dir = Path(args.run or f"results/models/{args.model}")
    final = run_dir / "final.json"
    step = ckpt.read_json(final)["step"] if final.exists() else "N"
    out = export_model(
        run_dir,
        Path(args.out or MODELS_DIR / args.model),
        name=args.model,
        description=entry.get("description", ""),
        command=(  # the exact step: a registry entry may go on training past the shipped one
            f"python -m avici_core train --config {args.registry} --model {args.model} "
            f"--out {run_dir} --steps {step}\n"
            f"python -m avici_core export-model {args.model}"
            + (f" --run {run_dir}" if args.run else "")
        ),
    )
    size = sum(f.stat().st_size for f in out.iterdir())
    log.info("exported %s -> %s (%.2f MB)", run_dir, out, size / 1e6)
    return 0
