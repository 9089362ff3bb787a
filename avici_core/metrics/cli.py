"""``python -m avici_core score``: long-form metric rows of one prediction file."""

from __future__ import annotations

import argparse
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from avici_core.baselines.prediction import load_prediction
from avici_core.data.dataset import load_dataset
from avici_core.metrics.score import ROW_COLUMNS, metric_rows, score_prediction

log = logging.getLogger(__name__)


def oracle_rng(method: str, seed: int) -> np.random.Generator:
    """Coins of the semi-oracle orientation, stable per (method, seed) across processes."""
    return np.random.default_rng(np.random.SeedSequence([zlib.crc32(method.encode()), int(seed)]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m avici_core score", description=__doc__)
    parser.add_argument("--prediction", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--setting", required=True, choices=("obs", "int"))
    parser.add_argument("--method", required=True)
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)

    pred = load_prediction(args.prediction)
    truth = load_dataset(args.data).g
    scored = score_prediction(oracle_rng(args.method, args.seed), pred, truth)
    rows = metric_rows(
        scored, domain=args.domain, setting=args.setting, method=args.method, seed=args.seed
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=list(ROW_COLUMNS)).to_csv(args.out, index=False)
    log.info("scored %s (%s): %d rows -> %s", args.method, pred.status, len(rows), args.out)
    return 0
