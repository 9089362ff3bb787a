"""``python -m avici_core infer --model DIR --data FILE.npz --out FILE.npz [--setting obs|int]``.

Writes the prediction contract of ``docs/architecture.md``: ``scores`` are the edge
probabilities, ``graph = scores > threshold`` (the model's validated threshold, 0.5 if it
stores none), kind ``probs``. ``walltime_s`` covers loading,
compiling and running (as the paper timed AVICI); ``meta`` splits it into ``load_s``,
``compile_s`` and ``run_s``. Data the model refuses (e.g. NaN) give a ``failed`` prediction.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from avici_core.cli import command_parser
from avici_core.dataset import load_dataset, select_setting
from avici_core.model.api import load_model
from avici_core.prediction import Prediction, failed_prediction, save_prediction

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    parser = command_parser("infer", __doc__)
    parser.add_argument("--model", required=True, help="model directory or name under models/")
    parser.add_argument("--data", required=True, help="dataset .npz")
    parser.add_argument("--out", required=True, help="prediction .npz")
    parser.add_argument("--setting", choices=("obs", "int"), default="obs")
    args = parser.parse_args(argv)

    ds = load_dataset(args.data)
    meta = {"method": "avici", "model": str(args.model), "setting": args.setting}
    start = time.perf_counter()
    model = load_model(args.model)
    loaded = time.perf_counter()
    try:
        x, mask = select_setting(ds, args.setting, source=str(args.data))
        meta["n_rows"] = int(x.shape[0])
        probs = model(x, interv=mask, source=str(args.data))
    except ValueError as err:  # refused data is a failed prediction, never a missing file
        log.error("model refused the data: %s", err)
        message = f"input refused: {err}"
        pred = failed_prediction(ds.n_vars, "failed", message, time.perf_counter() - start, meta)
        save_prediction(args.out, pred)
        return 0
    total = time.perf_counter() - start
    compile_s = model.last_compile_s
    timing = {
        "load_s": loaded - start,
        "compile_s": compile_s,
        "run_s": total - (loaded - start) - compile_s,
    }
    pred = Prediction(
        scores=probs.astype(np.float64),
        graph=(probs > model.graph_threshold).astype(np.int8),
        kind="probs",
        has_probs=True,
        status="ok",
        walltime_s=total,
        meta={**meta, **timing, "threshold": model.graph_threshold},
    )
    save_prediction(args.out, pred)
    log.info("wrote %s (compile %.2f s, run %.2f s)", args.out, compile_s, timing["run_s"])
    return 0
