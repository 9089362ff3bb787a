"""The domain registry: YAML entries → validated :class:`DomainSpec` objects that draw specs.

Expansion rule (avici.md §3.1): in ``graph``, ``mechanism`` and ``interventions`` a list means
alternatives and a mapping means a product; a dataset draws one combination uniformly from the
flat list of all combinations. That is sampled lazily and exactly: a product picks each key
independently, and a list picks alternative i with probability ∝ its number of combinations.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import inspect
import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

from avici_core.config import load_schema, registry_path, schema_errors
from avici_core.data import distributions, graphs, mechanisms

_BUILTIN = {
    cls.__name__: cls
    for module in (distributions, graphs, mechanisms)
    for cls in vars(module).values()
    if inspect.isclass(cls)
    and cls.__module__ == module.__name__
    and not cls.__name__.startswith("_")
}
_LAZY = {  # classes whose modules pull heavier dependencies; imported on first use
    "GRNSergio": "avici_core.data.sergio:GRNSergio",
    "Ecoli": "avici_core.data.networks:Ecoli",
    "Yeast": "avici_core.data.networks:Yeast",
}
DEFAULT_INTERVENTIONS = {
    "targets": 1.0,
    "values": {"class": "SignedUniform", "low": 1.0, "high": 5.0},
}
N_CHECKED = 64  # concrete variants of one class node instantiated at load time


@functools.cache
def resolve_class(name: str) -> Any:
    """A registered class name, ``package.module:Class`` or ``path/to/file.py:Class`` (or function);
    a relative file path is relative to the working directory (the workflow's: the repository)."""
    if name in _BUILTIN:
        return _BUILTIN[name]
    target = _LAZY.get(name, name)
    if ":" not in target:
        known = ", ".join(sorted([*_BUILTIN, *_LAZY]))
        raise ValueError(f"unknown class {name!r}; known: {known}; or give 'module:Class'")
    module_name, attr = target.rsplit(":", 1)
    if module_name.endswith(".py"):
        path = Path(module_name).resolve()
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or not path.exists():
            raise ValueError(f"class {name!r}: file {path} not found")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    if not hasattr(module, attr):
        raise ValueError(f"class {name!r}: module {module_name!r} has no attribute {attr!r}")
    return getattr(module, attr)


def count_combinations(node: Any) -> int:
    if isinstance(node, list):
        return sum(count_combinations(x) for x in node)
    if isinstance(node, Mapping):
        return math.prod(count_combinations(v) for v in node.values())
    return 1


def sample_node(rng: np.random.Generator, node: Any) -> Any:
    """One combination, uniform over the flat expansion of ``node``."""
    if isinstance(node, list):
        weights = np.array([count_combinations(x) for x in node], dtype=float)
        return sample_node(rng, node[rng.choice(len(node), p=weights / weights.sum())])
    if isinstance(node, Mapping):
        return {k: sample_node(rng, v) for k, v in node.items()}
    return node


def expand_node(node: Any):
    """Every combination of ``node`` (the flat expansion), lazily."""
    if isinstance(node, list):
        for alternative in node:
            yield from expand_node(alternative)
    elif isinstance(node, Mapping):
        keys = list(node)
        for values in itertools.product(*(list(expand_node(node[k])) for k in keys)):
            yield dict(zip(keys, values))
    else:
        yield node


def build(node: Any) -> Any:
    """Instantiate a concrete (expanded) tree: mappings with ``class`` become objects."""
    if isinstance(node, Mapping):
        kwargs = {k: build(v) for k, v in node.items() if k != "class"}
        if "class" not in node:
            return kwargs
        cls = resolve_class(node["class"])
        kwargs = {
            k: distributions.as_distribution(v) if _takes_distribution(cls, k) else v
            for k, v in kwargs.items()
        }
        try:
            return cls(**kwargs)
        except TypeError as err:
            raise ValueError(f"{node['class']}: {err}") from None
    return node


@functools.cache
def _takes_distribution(cls: Any, name: str) -> bool:
    """Whether argument ``name`` of ``cls`` is a distribution (annotated so, or one by default)."""
    try:
        param = inspect.signature(cls).parameters.get(name)
    except (TypeError, ValueError):
        return False
    if param is None:
        return False
    return "Distribution" in str(param.annotation) or callable(param.default)


def n_targets(targets: float, n_vars: int) -> int:
    """Resolve the ``targets`` entry to a number of distinct intervened nodes."""
    if targets == -1 or (isinstance(targets, float) and targets == 1.0):
        return n_vars
    if isinstance(targets, float):
        if not 0 < targets < 1:
            raise ValueError(f"a fractional targets entry must be in (0, 1], got {targets}")
        return math.ceil(targets * n_vars)
    if not 0 <= targets <= n_vars:
        raise ValueError(
            f"targets={targets} intervened nodes is impossible with {n_vars} variables"
        )
    return int(targets)


MIN_SCALED_VARS = 3  # a scaled-down domain keeps a graph with some structure ...
MIN_SCALED_ROWS = 40  # ... and enough rows for every method (20 used, 20 held out)


@dataclasses.dataclass(frozen=True)
class DomainSpec:
    """One registry entry: sizes and the (unexpanded) generative tree."""

    id: str
    n_vars: int
    n_obs: int
    n_int: int
    tree: dict  # {graph, mechanism, interventions}; empty for a real-data domain
    description: str = ""
    loader: str | None = None  # real data: "module:function" returning a Dataset
    loader_args: dict = dataclasses.field(default_factory=dict)

    @property
    def families(self) -> tuple[str, ...]:
        """Sorted graph class names; test sets cycle through them (balanced families)."""
        if self.loader:
            return ("real",)
        alts = self.tree["graph"] if isinstance(self.tree["graph"], list) else [self.tree["graph"]]
        return tuple(sorted({a["class"] for a in alts}))

    @property
    def n_combinations(self) -> int:
        return count_combinations(self.tree)

    def scaled(self, vars_factor: float = 1.0, rows_factor: float = 1.0) -> DomainSpec:
        """This domain at another size (an overlay's small scale): d and both row counts times the
        factors, rounded up, with at least ``MIN_SCALED_VARS`` variables and ``MIN_SCALED_ROWS``
        generated rows of each kind; a fixed count of intervened nodes shrinks with d. Real data
        and factors of 1 return the domain unchanged."""
        if vars_factor <= 0 or rows_factor <= 0:
            raise ValueError(
                f"scale factors must be positive, got vars {vars_factor} and rows {rows_factor}"
            )
        if self.loader or (vars_factor == 1 and rows_factor == 1):
            return self
        n_vars = max(MIN_SCALED_VARS, math.ceil(self.n_vars * vars_factor))
        tree = dict(self.tree)
        targets = tree.get("interventions", {}).get("targets")
        if isinstance(targets, int) and targets > 0:
            scaled_targets = min(n_vars, math.ceil(targets * vars_factor))
            tree["interventions"] = {**tree["interventions"], "targets": scaled_targets}
        return dataclasses.replace(
            self,
            n_vars=n_vars,
            n_obs=max(MIN_SCALED_ROWS, math.ceil(self.n_obs * rows_factor)),
            n_int=max(MIN_SCALED_ROWS, math.ceil(self.n_int * rows_factor)) if self.n_int else 0,
            tree=tree,
        )

    def sample_spec(self, rng: np.random.Generator, family: str | None = None) -> dict:
        """A concrete spec; with ``family`` only graph alternatives of that class are eligible."""
        if self.loader:
            raise ValueError(
                f"domain {self.id!r} is real data ({self.loader}); it cannot be sampled"
            )
        tree = dict(self.tree)
        if family is not None:
            alts = tree["graph"] if isinstance(tree["graph"], list) else [tree["graph"]]
            tree["graph"] = [a for a in alts if a["class"] == family]
            if not tree["graph"]:
                raise ValueError(
                    f"domain {self.id!r} has no graph family {family!r}; has {self.families}"
                )
        return sample_node(rng, tree)


def _fail(path: str, domain: str, key: str, message: str) -> ValueError:
    where = f"domain {domain!r}, key {key!r}" if key else f"domain {domain!r}"
    return ValueError(f"{path}: {where}: {message}")


def _class_nodes(node: Any, key: str):
    """Yield (key path, node) for every mapping with a ``class`` in an unexpanded tree."""
    if isinstance(node, list):
        for i, x in enumerate(node):
            yield from _class_nodes(x, f"{key}[{i}]")
    elif isinstance(node, Mapping):
        if "class" in node:
            yield key, node
        for k, v in node.items():
            yield from _class_nodes(v, f"{key}.{k}" if key else k)


def _check_class_node(key: str, node: Mapping, n_vars: int) -> None:
    cls = resolve_class(node["class"])
    params = inspect.signature(cls).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(node) - {"class"} - set(params))
        if unknown:
            raise ValueError(
                f"{node['class']} has no argument(s) {unknown}; it takes {sorted(params)}"
            )
    for concrete in itertools.islice(expand_node(node), N_CHECKED):
        obj = build(concrete)
        if key.startswith("graph") and hasattr(obj, "check"):
            obj.check(n_vars)


def parse_domain(domain_id: str, entry: Mapping, path: str = "<registry>") -> DomainSpec:
    """Validate one (schema-checked) entry deeply: classes exist, arguments fit, sizes are possible."""
    if "loader" in entry:
        try:
            resolve_class(entry["loader"])
        except (ValueError, ImportError) as err:
            raise _fail(path, domain_id, "loader", str(err)) from None
        return DomainSpec(
            id=domain_id,
            n_vars=int(entry.get("n_vars", 0)),
            n_obs=0,
            n_int=0,
            tree={},
            description=str(entry.get("description", "")),
            loader=entry["loader"],
            loader_args=dict(entry.get("loader_args", {})),
        )
    n_vars = int(entry.get("n_vars", 20))
    tree = {
        "graph": entry["graph"],
        "mechanism": entry["mechanism"],
        "interventions": {**DEFAULT_INTERVENTIONS, **entry.get("interventions", {})},
    }
    # innermost nodes first, so an error names the deepest key that is wrong
    for key, node in sorted(_class_nodes(tree, ""), key=lambda kv: -kv[0].count(".")):
        try:
            _check_class_node(key, node, n_vars)
        except ValueError as err:
            raise _fail(path, domain_id, key, str(err)) from None
    n_int = int(entry.get("n_int", 1000))
    for targets in expand_node(tree["interventions"]["targets"]):
        try:
            m = n_targets(targets, n_vars)
        except ValueError as err:
            raise _fail(path, domain_id, "interventions.targets", str(err)) from None
        if n_int > 0 and m == 0:
            raise _fail(path, domain_id, "interventions.targets", "n_int > 0 but 0 targets")
    return DomainSpec(
        id=domain_id,
        n_vars=n_vars,
        n_obs=int(entry.get("n_obs", 2000)),
        n_int=n_int,
        tree=tree,
        description=str(entry.get("description", "")),
    )


def validate_registry(doc: Any, path: str = "<registry>") -> None:
    """JSON-schema check that names the domain and the key of the first error."""
    # checked, not filled: parse_domain applies the sizes' defaults (a loader's data has its own)
    errors = schema_errors(doc, load_schema("domains"), fill_defaults=False)
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    parts = [str(p) for p in err.absolute_path]
    if len(parts) >= 2 and parts[0] == "domains":
        raise _fail(path, parts[1], ".".join(parts[2:]), err.message)
    if err.validator == "additionalProperties" and not parts:
        raise ValueError(f"{path}: {err.message} (the file needs one top-level key: domains)")
    raise ValueError(f"{path}: {'.'.join(parts) or 'top level'}: {err.message}")


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> dict[str, DomainSpec]:
    doc = yaml.safe_load(Path(path).read_text())
    validate_registry(doc, path)
    return {k: parse_domain(k, v, path) for k, v in doc["domains"].items()}


def load_registry(path: str | Path | None = None) -> dict[str, DomainSpec]:
    """All domains of a registry file (default: the shipped one, ``config/domains.yaml`` in a
    checkout), validated."""
    path = registry_path("domains", path).resolve()
    if not path.exists():
        raise FileNotFoundError(f"domain registry {path} not found")
    return _load_cached(str(path), path.stat().st_mtime)


def get_domain(domain_id: str, path: str | Path | None = None) -> DomainSpec:
    registry = load_registry(path)
    if domain_id not in registry:
        raise ValueError(
            f"unknown domain {domain_id!r}; known domains: {', '.join(sorted(registry))}"
        )
    return registry[domain_id]
