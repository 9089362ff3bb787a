"""``python -m avici_core aggregate --out results/metrics/all.csv METRIC_CSV...``"""

from __future__ import annotations

import logging

from avici_core.cli import command_parser
from avici_core.report.aggregate import aggregate_metric_files, write_csv_atomic

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    parser = command_parser("aggregate", __doc__)
    parser.add_argument("inputs", nargs="+", help="per-prediction metric CSVs (from `score`)")
    parser.add_argument("--out", required=True, help="long-form CSV to write")
    args = parser.parse_args(argv)
    df = aggregate_metric_files(args.inputs)
    write_csv_atomic(df, args.out)
    log.info("wrote %d metric rows from %d files to %s", len(df), len(args.inputs), args.out)
    return 0
