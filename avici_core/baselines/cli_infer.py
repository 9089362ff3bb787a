"""``python -m avici_core infer --model DIR --data FILE.npz --out FILE.npz [--setting obs|int]``

An AVICI model (a directory or the name of a shipped model) on one dataset file, through the same
route as ``run-method`` (its own process, the failure contract): ``scores`` are the edge
probabilities, ``graph = scores > threshold`` (the model's validated threshold, 0.5 if it stores
none), kind ``probs``; ``walltime_s`` covers loading, compiling and running (as the paper timed
AVICI), ``meta.compile_s`` the compilation. Data the model refuses (e.g. NaN) give a ``failed``
prediction.
"""

from __future__ import annotations

from pathlib import Path

from avici_core.baselines.cli import predict
from avici_core.baselines.registry import MethodSpec, Resources
from avici_core.cli import command_parser


def main(argv: list[str]) -> int:
    parser = command_parser("infer", __doc__)
    parser.add_argument("--model", required=True, help="model directory or shipped model name")
    parser.add_argument("--data", required=True, type=Path, help="dataset .npz")
    parser.add_argument("--out", required=True, type=Path, help="prediction .npz")
    parser.add_argument("--setting", choices=("obs", "int"), default="obs")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds (default 3600)")
    args = parser.parse_args(argv)
    spec = MethodSpec(
        id="avici",
        implementation="avici",
        hparams={"model": str(args.model)},
        settings=("obs", "int"),
        resources=Resources(),
        timeout_s=args.timeout,
    )
    predict(spec, [args.data], args.setting, [0], [args.out])
    return 0
