"""``python -m avici_core run-method``: one registered method on one dataset -> prediction ``.npz``.

The prediction file is written even when the method fails, times out or refuses the data (its
status says so); an unknown method or setting is an error before anything runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from avici_core.baselines.prediction import failed_prediction, save_prediction
from avici_core.baselines.registry import DEFAULT_PATH, get_method, load_methods
from avici_core.baselines.runner import run
from avici_core.data.dataset import load_dataset, select_setting

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m avici_core run-method", description=__doc__)
    parser.add_argument("--method", required=True, help="method id in the registry")
    parser.add_argument("--data", required=True, type=Path, help="dataset .npz")
    parser.add_argument("--setting", required=True, choices=("obs", "int"))
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--out", required=True, type=Path, help="prediction .npz")
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
    args = parser.parse_args(argv)

    spec = get_method(load_methods(args.registry), args.method)
    if args.setting not in spec.settings:
        raise ValueError(
            f"method {spec.id!r} does not run in setting {args.setting!r} "
            f"(its settings: {', '.join(spec.settings)})"
        )
    ds = load_dataset(args.data)
    x, mask = select_setting(ds, args.setting)  # [n, d], [n, d]
    threads = args.threads if args.threads is not None else spec.resources.threads
    try:
        pred = run(
            spec.implementation,
            x,
            mask,
            spec.hparams,
            args.seed,
            spec.timeout_s,
            threads=threads,
            is_count_data=ds.is_count_data,
            truth=ds.g,
        )
    except ValueError as err:  # data the method cannot take (e.g. a gene never detected)
        # In a pipeline this is a marked cell of the table, not a dead job.
        pred = failed_prediction(ds.n_vars, "failed", f"input refused: {err}", 0.0, {})
    meta = {
        **pred.meta,
        "method": spec.id,
        "hparams": spec.hparams,
        "setting": args.setting,
        "data": str(args.data),
        "dataset_meta": ds.meta,
    }
    save_prediction(args.out, dataclasses.replace(pred, meta=meta))
    log.info(
        "%s on %s (%s): %s %s in %.2f s -> %s",
        spec.id,
        args.data,
        args.setting,
        pred.status,
        pred.message,
        pred.walltime_s,
        args.out,
    )
    return 0
