"""``config/methods.yaml``: validated loading and hyper-parameter grid expansion.

The file maps ``methods: {id: entry}``; it is read (schema ``avici_core/schemas/methods.schema.yaml``,
defaults filled) by the ground floor's one registry reader, ``avici_core.config``.
A ``grid:`` of lists expands into one method per combination, named ``id__k=v-k2=v2`` (keys
sorted), so hyper-parameter variants are plain ids everywhere downstream.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

from avici_core.baselines.implementations import accepted_hparams, get_implementation
from avici_core.config import read_registry, registry_path

DEFAULT_PATH = registry_path("methods")  # the shipped registry (config/methods.yaml in a checkout)


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
    grouped: bool = False  # the workflow runs every seed of a (domain, setting) in one job


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
    path = registry_path("methods", path)
    doc = read_registry("methods", path)
    specs: dict[str, MethodSpec] = {}
    for method_id, entry in doc["methods"].items():
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
                grouped=entry["jobs"] == "per_group" or entry["impl"] == "avici",
            )
    return specs


def get_method(specs: dict[str, MethodSpec], method_id: str) -> MethodSpec:
    if method_id not in specs:
        raise ValueError(f"unknown method {method_id!r}; known: {', '.join(sorted(specs))}")
    return specs[method_id]
