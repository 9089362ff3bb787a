"""Ground floor: where registries, schemas and shipped models live, and one way to read a registry.

The registries (``domains``, ``methods``, ``models``, ``tables``, and ``cgm``, the image track's
configuration) are YAML files. Every
reader takes the path its caller gives; without one it reads the copy shipped inside the package
(``avici_core/registries/``, which in a source checkout are links to ``config/``, so an installed
wheel carries the same files). Schemas ship in ``avici_core/schemas/``; :func:`read_registry`
checks a file against its schema, fills the schema's defaults (here and nowhere else) and names the
first bad key. The subpackage that owns a registry builds its typed specs on top
(``data.registry``, ``baselines.registry``, ``report.spec``).
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
REGISTRY_KINDS = ("domains", "methods", "models", "tables", "cgm")
SHIPPED_MODELS = PACKAGE_DIR / "models"  # pretrained models (package data; models/ in a checkout)


def registry_path(kind: str, path: str | os.PathLike | None = None) -> Path:
    """``path`` if given, else the registry of that kind shipped with the package."""
    if kind not in REGISTRY_KINDS:
        raise ValueError(f"unknown registry kind {kind!r}; known: {', '.join(REGISTRY_KINDS)}")
    return Path(path) if path is not None else PACKAGE_DIR / "registries" / f"{kind}.yaml"


@functools.cache
def load_schema(kind: str) -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of a registry kind, shipped in ``avici_core/schemas/``."""
    return yaml.safe_load((PACKAGE_DIR / "schemas" / f"{kind}.schema.yaml").read_text())


def _filling_defaults(validator_class: type) -> type:
    """A validator class that also writes each property's ``default`` into the instance."""
    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, sub in props.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from check_properties(validator, props, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties})


def schema_errors(
    instance: Any, schema: dict[str, Any], *, fill_defaults: bool = True
) -> list[jsonschema.ValidationError]:
    """Every violation, shallowest first; with ``fill_defaults`` the schema's defaults are
    written into ``instance`` as it goes."""
    validator_class = jsonschema.Draft202012Validator
    validator = (_filling_defaults(validator_class) if fill_defaults else validator_class)(schema)
    return sorted(
        validator.iter_errors(instance), key=lambda e: (len(e.path), list(map(str, e.path)))
    )


def key_path(error: jsonschema.ValidationError) -> str:
    """``methods.pc.timeout_s``: where a violation is, as the user would write it."""
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate(instance: Any, schema: dict[str, Any], *, what: str) -> None:
    """Validate in place, filling defaults; a ValueError names ``what`` and the key path."""
    errors = schema_errors(instance, schema)
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        hint = ""
        if not error.absolute_path and schema.get("required"):
            keys = ", ".join(f"'{k}'" for k in schema["required"])
            hint = f" (the file needs the top-level key {keys})"
        raise ValueError(f"{what}: {key_path(error)}: {error.message}{hint}")


def read_registry(kind: str, path: str | os.PathLike | None = None) -> dict[str, Any]:
    """A registry file (``path`` or the shipped one), schema-checked with defaults filled."""
    source = registry_path(kind, path)
    if not source.is_file():
        raise FileNotFoundError(f"{kind} registry {source} not found")
    doc = yaml.safe_load(source.read_text())
    doc = {} if doc is None else doc
    validate(doc, load_schema(kind), what=str(source))
    return doc


def schema_default(kind: str, *keys: str) -> Any:
    """The default the schema of ``kind`` gives a key (``schema_default("cgm", "eval",
    "mech_steps")``), for command-line defaults that must agree with the registry's."""
    node = load_schema(kind)
    for key in keys:
        if key not in node.get("properties", {}) and isinstance(
            node.get("additionalProperties"), dict
        ):
            node = node["additionalProperties"]  # a key of every entry of a mapping
        node = node["properties"][key]
    return copy.deepcopy(node["default"])
