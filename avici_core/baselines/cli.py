"""``python -m avici_core run-method``: one registered method on one or more datasets -> one
prediction ``.npz`` each.

A prediction file is written even when the method fails, times out or refuses the data (its
status says so); an unknown method or setting is an error before anything runs. Several datasets
(``--data a b --seed 0 1 --out pa pb``) share one child process: an AVICI model is loaded and
compiled once for the batch.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from avici_core.baselines.implementations import accepted_hparams
from avici_core.baselines.registry import (
    DEFAULT_PATH,
    MethodSpec,
    get_method,
    load_methods,
)
from avici_core.baselines.runner import Task, check_task, run_many
from avici_core.cli import command_parser
from avici_core.dataset import Dataset, load_dataset, select_setting
from avici_core.prediction import failed_prediction, save_prediction

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    parser = command_parser("run-method", __doc__)
    parser.add_argument("--method", required=True, help="method id in the registry")
    parser.add_argument("--data", required=True, type=Path, nargs="+", help="dataset .npz file(s)")
    parser.add_argument("--setting", required=True, choices=("obs", "int"))
    parser.add_argument("--seed", required=True, type=int, nargs="+", help="one per dataset")
    parser.add_argument(
        "--out", required=True, type=Path, nargs="+", help="prediction .npz, one per dataset"
    )
    parser.add_argument(
        "--methods",
        "--registry",
        dest="registry",
        type=Path,
        default=DEFAULT_PATH,
        help="method registry (config/methods.yaml)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads granted (default: the method's resources.threads)",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        help="folder of trained models (<dir>/<id>) where an AVICI method looks for its model "
        "(the workflow: results/models); shipped models are found without it",
    )
    args = parser.parse_args(argv)
    if not len(args.data) == len(args.seed) == len(args.out):
        parser.error(
            f"--data, --seed and --out need one value per dataset; got {len(args.data)}, "
            f"{len(args.seed)} and {len(args.out)}"
        )

    spec = get_method(load_methods(args.registry), args.method)
    hparams = {}
    if args.models_dir is not None and "models_dir" in accepted_hparams(spec.implementation):
        hparams["models_dir"] = str(args.models_dir)
    predict(spec, args.data, args.setting, args.seed, args.out, args.threads, hparams)
    return 0


def predict(
    spec: MethodSpec,
    data: list[Path],
    setting: str,
    seeds: list[int],
    outs: list[Path],
    threads: int | None = None,
    extra_hparams: dict | None = None,
) -> None:
    """Run ``spec`` on each dataset file in ``setting`` and write one prediction file each: the
    one route from a dataset file to a prediction file (``run-method`` and ``infer``)."""
    if setting not in spec.settings:
        raise ValueError(
            f"method {spec.id!r} does not run in setting {setting!r} "
            f"(its settings: {', '.join(spec.settings)})"
        )
    threads = threads if threads is not None else spec.resources.threads
    hparams = {**spec.hparams, **(extra_hparams or {})}
    datasets = [load_dataset(path) for path in data]
    tasks, refused = [], {}
    for k, (ds, path, seed) in enumerate(zip(datasets, data, seeds)):
        try:
            tasks.append(task_of(ds, setting, seed, source=str(path), transform=spec.transform))
        except ValueError as err:  # e.g. a mask that does not fit the data
            tasks.append(None)
            refused[k] = str(err)
            continue
        refused[k] = refusal(spec, tasks[k])
    accepted = [k for k, reason in refused.items() if reason is None]
    ran = run_many(
        spec.implementation,
        [tasks[k] for k in accepted],
        hparams,
        spec.timeout_s,
        threads=threads,
    )
    predictions = dict(zip(accepted, ran))
    for k, (ds, path, out) in enumerate(zip(datasets, data, outs)):
        # Refused data (e.g. a gene never detected) is a marked cell of the table, not a dead job.
        pred = (
            predictions[k]
            if k in predictions
            else failed_prediction(ds.n_vars, "failed", f"input refused: {refused[k]}", 0.0, {})
        )
        meta = {
            **pred.meta,
            "method": spec.id,
            "hparams": spec.hparams,
            "setting": setting,
            "data": str(path),
            "dataset_meta": ds.meta,
        }
        save_prediction(out, dataclasses.replace(pred, meta=meta))
        log.info(
            "%s on %s (%s): %s %s in %.2f s -> %s",
            spec.id,
            path,
            setting,
            pred.status,
            pred.message,
            pred.walltime_s,
            out,
        )


def task_of(
    ds: Dataset, setting: str, seed: int, *, source: str = "data", transform: str = "zscore"
) -> Task:
    """The rows a method sees in ``setting``, with what the runner needs to know about them."""
    x, mask = select_setting(ds, setting, source=source)  # [n, d], [n, d]
    return Task(
        x,
        mask,
        seed,
        is_count_data=ds.is_count_data,
        truth=ds.g,
        source=source,
        transform=transform,
    )


def refusal(spec: MethodSpec, task: Task) -> str | None:
    """Why the method refuses the task's data, or None when it takes it."""
    try:
        check_task(spec.implementation, task, spec.hparams)
    except ValueError as err:
        return str(err)
    return None
