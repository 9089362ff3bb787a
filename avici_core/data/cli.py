"""``python -m avici_core generate``: simulate one dataset file of a registered domain."""

from __future__ import annotations

import logging

from avici_core.cli import command_parser
from avici_core.data.simulate import generate_dataset
from avici_core.dataset import save_dataset
from avici_core.types import STREAMS

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    parser = command_parser("generate", __doc__)
    parser.add_argument("--domain", required=True, help="domain id from the registry")
    parser.add_argument("--seed", required=True, type=int, help="dataset index (>= 0)")
    parser.add_argument("--stream", default="test", choices=sorted(STREAMS), help="seed stream")
    parser.add_argument(
        "--registry", default=None, help="registry file (default config/domains.yaml)"
    )
    parser.add_argument("--out", required=True, help="output .npz path")
    parser.add_argument(
        "--vars-factor", type=float, default=1.0, help="shrink d by this factor (small scale)"
    )
    parser.add_argument(
        "--rows-factor", type=float, default=1.0, help="shrink the row counts by this factor"
    )
    args = parser.parse_args(argv)
    try:
        ds = generate_dataset(
            args.domain,
            args.seed,
            stream=args.stream,
            registry_path=args.registry,
            vars_factor=args.vars_factor,
            rows_factor=args.rows_factor,
        )
    except ValueError as err:
        parser.exit(2, f"error: {err}\n")
    save_dataset(args.out, ds)
    log.info(
        "wrote %s: d=%d, %d obs + %d int rows (+ held out), %d edges, family %s",
        args.out,
        ds.n_vars,
        len(ds.x_obs),
        len(ds.x_int),
        int(ds.g.sum()),
        ds.meta["family"],
    )
    return 0
