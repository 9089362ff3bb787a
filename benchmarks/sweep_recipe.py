"""Short training runs of recipe variants at equal wall-clock budget, tracking the edge-level signal.

  python benchmarks/sweep_recipe.py [--minutes 8] [--out results/sweep] [--only NAME ...]

Every variant starts from scratch with the ``avici-small-v1`` entry of ``config/models.yaml``
plus its overrides, and trains for ``--minutes`` of wall time (``max_minutes``), validating on
the same fixed validation sets (d = 20, 32 datasets of 150 obs + 50 int rows from the tune
stream). Printed per variant and per validation: steps, seconds per step, AUROC, AUPRC and
``rowcol``, the share of the logit variance that one effect per row plus one per column explains
(near 1: the model ranks variables as causes / effects; lower: it resolves edges). A variant
whose folder already holds ``final.json`` is not retrained, so an interrupted sweep resumes.
Run it on idle cores (or pinned with ``taskset``): the budget is wall time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

from avici_core.model.cli_train import read_train_config
from avici_core.model.train import train

ROOT = Path(__file__).resolve().parents[1]

VARIANTS: dict[str, dict] = {
    "base": {},
    "warmup300-lr1e-3": {"lr_warmup": 300, "lr_base": 1e-3},
    "bsu120": {"batch_size_unit": 120},
    "rows48+16": {"n_obs_train": 48, "n_int_train": 16},
    "d5-20": {"n_vars": (5, 10, 20)},
    "wide2x128": {"dim": 128, "key_size": 32, "layers": 2},
    "bf16": {"mixed_precision": True},
}

SWEEP = {  # same for every variant: a budget in minutes, never in steps
    "n_steps": 1_000_000,
    "lr_boundaries": (1_000_000,),
    "eval_every": 150,
    "log_every": 50,
    "checkpoint_every": 1_000_000,
    "keep_checkpoints": 1,
    "val_n_vars": (20,),
    "val_n_datasets": 32,
    "n_workers": 0,
}


def evaluations(run: Path) -> list[dict]:
    """Validation records of a run's ``metrics.jsonl`` (step, wall time, raw-parameter metrics)."""
    rows = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "val/d20/params/auroc" in rec:
            rows.append(
                {
                    "step": rec["step"],
                    "walltime_s": rec.get("walltime_s", float("nan")),
                    **{k: rec[f"val/d20/params/{k}"] for k in ("auroc", "auprc", "rowcol")},
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "sweep")
    parser.add_argument("--only", nargs="*", choices=sorted(VARIANTS))
    args = parser.parse_args()
    base = read_train_config(ROOT / "config" / "models.yaml", "avici-small-v1")
    names = args.only or list(VARIANTS)
    print(f"load average before: {os.getloadavg()}, CPUs: {os.cpu_count()}")
    for name in names:
        config = dataclasses.replace(base, **SWEEP, **VARIANTS[name], max_minutes=args.minutes)
        train(config, args.out / name)
    print("\n| variant | steps | s/step | AUROC | AUPRC | rowcol | curve (step: AUROC / rowcol) |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        rows = evaluations(args.out / name)
        last = rows[-1]
        curve = ", ".join(f"{r['step']}: {r['auroc']:.2f}/{r['rowcol']:.2f}" for r in rows)
        print(
            f"| {name} | {last['step']} | {last['walltime_s'] / last['step']:.2f} | "
            f"{last['auroc']:.3f} | {last['auprc']:.3f} | {last['rowcol']:.2f} | {curve} |"
        )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
