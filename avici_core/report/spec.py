"""Presentation spec (``config/tables.yaml``): read through the ground floor's one registry reader
(schema ``avici_core/schemas/tables.schema.yaml``, defaults filled there), then checked for
tables that name undefined metrics.
"""

from __future__ import annotations

import os
from typing import Any

from avici_core.config import read_registry


def load_tables_spec(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Read the tables spec (default: the shipped one), validate it and check that tables only
    name known metrics."""
    spec = read_registry("tables", path)
    for table_id, table in spec["tables"].items():
        unknown = sorted(set(table["metrics"]) - set(spec["metrics"]))
        if unknown:
            raise ValueError(
                f"{path}: table '{table_id}' uses metric(s) {unknown} that are not defined under "
                f"'metrics' (defined: {sorted(spec['metrics'])})"
            )
    return spec
