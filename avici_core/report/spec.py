"""Presentation spec (``config/tables.yaml``): loading, schema validation and default filling.

The schema lives with the workflow's other schemas (``workflow/schemas/tables.schema.yaml``) so
that the workflow and this library check the file against one definition.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "tables.schema.yaml"


def _fill_defaults(validator_class: type) -> type:
    """A validator class that also writes each property's ``default`` into the instance."""
    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, sub in props.items():
                if "default" in sub and name not in instance:
                    instance[name] = sub["default"]
        yield from check_properties(validator, props, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties})


def validate_with_defaults(instance: dict[str, Any], schema: dict[str, Any], *, what: str) -> None:
    """Validate in place, filling defaults; raise ValueError naming the offending key path."""
    validator = _fill_defaults(jsonschema.Draft202012Validator)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "<top level>"
        raise ValueError(f"{what}: invalid value at '{where}': {error.message}")


def load_tables_spec(
    path: str | os.PathLike, *, schema_path: str | os.PathLike = SCHEMA_PATH
) -> dict[str, Any]:
    """Read ``config/tables.yaml``, validate it and check that tables only name known metrics."""
    spec = yaml.safe_load(Path(path).read_text()) or {}
    schema = yaml.safe_load(Path(schema_path).read_text())
    validate_with_defaults(spec, schema, what=str(path))
    for table_id, table in spec["tables"].items():
        unknown = sorted(set(table["metrics"]) - set(spec["metrics"]))
        if unknown:
            raise ValueError(
                f"{path}: table '{table_id}' uses metric(s) {unknown} that are not defined under "
                f"'metrics' (defined: {sorted(spec['metrics'])})"
            )
    return spec
