"""``config/methods.yaml``: validated loading and hyper-parameter grid expansion.

The file maps ``methods: {id: entry}``; the entry schema is ``workflow/schemas/methods.schema.yaml``.
A ``grid:`` of lists expands into one method per combination, named ``id__k=v-k2=v2`` (keys
sorted), so hyper-parameter variants are plain ids everywhere downstream.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from avici_core.baselines.implementations import accepted_hparams, get_implementation

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "workflow" / "schemas" / "methods.schema.yaml"
DEFAULT_PATH = REPO / "config" / "methods.yaml"


@dataclasses.dataclass(frozen=True)
class Resources:
    threads: int = 1
    mem_mb: int = 2000
    runtime: int = 60  # minutes
    gpu: int = 0


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """One runnable method id (a grid variant is its own spec)."""

    id: str
    implementation: str
    hparams: dict[str, Any]
    settings: tuple[str, ...]
    resources: Resources
    timeout_s: float
    default: bool = True
    description: str = ""
    transform: str = "zscore"  # what the method sees: z-scores, or nonparanormal (rank) scores


def _schema() -> dict[str, Any]:
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


def _with_defaults(entry: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """Fill the schema's ``default`` values (one nesting level for ``resources``)."""
    out = dict(entry)
    for key, prop in props.items():
        if key not in out and "default" in prop:
            out[key] = copy.deepcopy(prop["default"])
        if prop.get("type") == "object" and "properties" in prop and key in out:
            out[key] = _with_defaults(out[key], prop["properties"])
    return out


def _error_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate_methods(doc: Any, *, source: str = "methods.yaml") -> None:
    """Schema-check the file; the error names the offending key path."""
    if not isinstance(doc, dict) or set(doc) != {"methods"}:
        found = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"{source}: expected one top-level key 'methods', found {found}")
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(doc["methods"]),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        e = jsonschema.exceptions.best_match(errors)
        raise ValueError(f"{source}: methods.{_error_path(e)}: {e.message}")


def grid_variants(method_id: str, grid: dict[str, list[Any]]) -> list[tuple[str, dict[str, Any]]]:
    """[(variant id, hparam overrides)] for every combination; ``[(id, {})]`` without a grid."""
    if not grid:
        return [(method_id, {})]
    keys = sorted(grid)
    variants = []
    for values in itertools.product(*(grid[k] for k in keys)):
        name = "-".join(f"{k}={v}" for k, v in zip(keys, values))
        variants.append((f"{method_id}__{name}", dict(zip(keys, values))))
    return variants


def _check_entry(method_id: str, entry: dict[str, Any], source: str) -> None:
    """Implementation exists and every hyper-parameter is a keyword of its wrapper."""
    impl = entry["impl"]
    try:
        get_implementation(impl)
    except ValueError as exc:
        raise ValueError(f"{source}: methods.{method_id}.impl: {exc}") from None
    accepted = accepted_hparams(impl)
    for field in ("hparams", "grid"):
        unknown = sorted(set(entry[field]) - accepted)
        if unknown:
            raise ValueError(
                f"{source}: methods.{method_id}.{field}: unknown hyper-parameter(s) {unknown} for "
                f"implementation {impl!r}; it accepts {sorted(accepted) or 'none'}"
            )


def load_methods(path: str | Path | None = None) -> dict[str, MethodSpec]:
    """Validated method registry with grids expanded: id -> MethodSpec.

    Raises:
      ValueError: naming the bad key (schema violations, unknown implementation or
        hyper-parameter, a grid variant that collides with another id).
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    with open(path) as f:
        doc = yaml.safe_load(f)
    validate_methods(doc, source=str(path))
    entry_props = _schema()["$defs"]["method"]["properties"]
    specs: dict[str, MethodSpec] = {}
    for method_id, raw in doc["methods"].items():
        entry = _with_defaults(raw, entry_props)
        _check_entry(method_id, entry, str(path))
        for variant_id, overrides in grid_variants(method_id, entry["grid"]):
            if variant_id in specs:
                raise ValueError(f"{path}: methods.{method_id}: id {variant_id!r} is defined twice")
            specs[variant_id] = MethodSpec(
                id=variant_id,
                implementation=entry["impl"],
                hparams={**entry["hparams"], **overrides},
                settings=tuple(entry["settings"]),
                resources=Resources(**entry["resources"]),
                timeout_s=float(entry["timeout_s"]),
                default=bool(entry["default"]),
                description=entry["description"],
                transform=entry["transform"],
            )
    return specs


def get_method(specs: dict[str, MethodSpec], method_id: str) -> MethodSpec:
    if method_id not in specs:
        raise ValueError(f"unknown method {method_id!r}; known: {', '.join(sorted(specs))}")
    return specs[method_id]
