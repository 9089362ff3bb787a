"""``python -m avici_core score``: long-form metric rows of one or more prediction files.

The workflow scores every seed of one (domain, setting, method) in one call, pairing the i-th
``--prediction`` with the i-th ``--data`` and ``--seed``, and writes one CSV (the per-seed rows in
the order given). A prediction that cannot be scored (unreadable file, wrong shape, an error in a
metric) is logged with its path and recorded as rows with status ``failed``, so one bad file never
loses the other seeds' rows or stops the workflow.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from avici_core.cli import command_parser
from avici_core.dataset import load_dataset
from avici_core.io import atomic_path
from avici_core.metrics.score import METRICS, ROW_COLUMNS, metric_rows, score_prediction
from avici_core.prediction import load_prediction
from avici_core.seeds import seed_stream

log = logging.getLogger(__name__)


def oracle_rng(method: str, seed: int) -> np.random.Generator:
    """Coins of the semi-oracle orientation, stable per (method, seed) across processes."""
    return seed_stream(method, int(seed))


def score_file(
    prediction: str | os.PathLike,
    data: str | os.PathLike,
    *,
    domain: str,
    setting: str,
    method: str,
    seed: int,
) -> list[dict[str, object]]:
    """Metric rows of one prediction file against its dataset's true graph; if it cannot be
    scored, the error is logged and every metric is NaN with status ``failed``."""
    ids = dict(domain=domain, setting=setting, method=method, seed=seed)
    try:
        pred = load_prediction(prediction)
        truth = load_dataset(data).g
        scored = score_prediction(oracle_rng(method, seed), pred, truth)
    except Exception:
        log.exception("could not score %s against %s; its rows are 'failed'", prediction, data)
        return metric_rows({m: (float("nan"), "failed") for m in METRICS}, **ids)
    log.info("scored %s seed %d (%s)", method, seed, pred.status)
    return metric_rows(scored, **ids)


def main(argv: list[str]) -> int:
    parser = command_parser("score", __doc__)
    parser.add_argument("--prediction", required=True, type=Path, nargs="+")
    parser.add_argument("--data", required=True, type=Path, nargs="+", help="one per prediction")
    parser.add_argument("--domain", required=True)
    parser.add_argument("--setting", required=True, choices=("obs", "int"))
    parser.add_argument("--method", required=True)
    parser.add_argument("--seed", required=True, type=int, nargs="+", help="one per prediction")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if not len(args.prediction) == len(args.data) == len(args.seed):
        parser.error(
            f"give one --data and one --seed per --prediction: got {len(args.prediction)} "
            f"prediction(s), {len(args.data)} data file(s), {len(args.seed)} seed(s)"
        )

    rows, n_failed = [], 0
    for prediction, data, seed in zip(args.prediction, args.data, args.seed, strict=True):
        seed_rows = score_file(
            prediction,
            data,
            domain=args.domain,
            setting=args.setting,
            method=args.method,
            seed=seed,
        )
        rows += seed_rows
        n_failed += seed_rows[0]["status"] == "failed"
    with atomic_path(args.out) as tmp:  # a killed job never leaves a half-written CSV
        pd.DataFrame(rows, columns=list(ROW_COLUMNS)).to_csv(tmp, index=False)
    log.info(
        "%s %s %s: %d prediction(s), %d row(s) -> %s",
        args.domain,
        args.setting,
        args.method,
        len(args.prediction),
        len(rows),
        args.out,
    )
    if n_failed:
        log.warning("%d of %d prediction(s) have status 'failed'", n_failed, len(args.prediction))
    return 0
