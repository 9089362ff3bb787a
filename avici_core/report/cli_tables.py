"""``python -m avici_core tables --metrics all.csv --spec config/tables.yaml --out-dir DIR
[--table ID ...]``

Writes ``DIR/<table>.html``, ``.md``, ``.tex`` and ``.csv`` for every table in the spec (or the
ones named).
"""

from __future__ import annotations

import logging
from pathlib import Path

from avici_core.cli import command_parser
from avici_core.io import write_text
from avici_core.report.aggregate import read_metrics_csv, write_csv_atomic
from avici_core.report.spec import load_tables_spec
from avici_core.report.tables import summarize, to_csv_frame, to_html, to_latex, to_markdown

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    parser = command_parser("tables", __doc__)
    parser.add_argument("--metrics", required=True, help="long-form CSV from `aggregate`")
    parser.add_argument("--spec", required=True, help="config/tables.yaml")
    parser.add_argument("--out-dir", required=True, help="folder for <table>.{html,md,tex,csv}")
    parser.add_argument(
        "--table", action="append", metavar="ID", help="only this table (repeatable; default: all)"
    )
    args = parser.parse_args(argv)
    spec = load_tables_spec(args.spec)
    unknown = sorted(set(args.table or ()) - set(spec["tables"]))
    if unknown:
        parser.error(f"unknown table(s) {unknown}; {args.spec} has {sorted(spec['tables'])}")
    df = read_metrics_csv(args.metrics)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table_id in args.table or spec["tables"]:
        summary = summarize(df, table_id, spec)
        write_text(out_dir / f"{table_id}.html", to_html(summary, spec))
        write_text(out_dir / f"{table_id}.md", to_markdown(summary, spec))
        write_text(out_dir / f"{table_id}.tex", to_latex(summary, spec))
        write_csv_atomic(to_csv_frame(summary, spec), out_dir / f"{table_id}.csv")
        log.info(
            "table %s: %d rows x %d columns",
            table_id,
            len(summary.rows),
            len(summary.domains) * len(summary.metrics),
        )
    return 0
