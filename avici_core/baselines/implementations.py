"""Registry of implementations: a name maps to one small wrapper function (no if/elif on names).

A wrapper has the signature ``fn(rng, x, mask, **hparams) -> MethodOutput`` with
``x [n, d]`` (standardized unless the implementation asks for raw data) and ``mask [n, d]`` 0/1.
Family modules register their wrappers with ``@register(...)`` at import; ``get_implementation``
imports them all lazily, so heavy packages load only inside the method's own process.
``bootstrap-<name>`` resolves to any registered implementation wrapped in 10 seeded resamples.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from typing import Callable, Protocol

import numpy as np

from avici_core.prediction import MethodOutput

BOOTSTRAP_PREFIX = "bootstrap-"
FAMILY_MODULES = (
    "avici_core.baselines.constraint",
    "avici_core.baselines.score_based",
    "avici_core.baselines.fcm",
    "avici_core.baselines.continuous",
    "avici_core.baselines.gsp",
    "avici_core.baselines.trivial",
    "avici_core.baselines.bayes",
    "avici_core.baselines.amortized",
)
# Context a wrapper may declare; the runner supplies it from the caller's arguments.
CONTEXT_KEYS = ("n_edges", "truth")


class MethodFn(Protocol):
    def __call__(
        self, rng: np.random.Generator, x: np.ndarray, mask: np.ndarray, **hparams: object
    ) -> MethodOutput: ...


@dataclasses.dataclass(frozen=True)
class Implementation:
    """A wrapper plus what the runner must prepare for it."""

    name: str
    fn: Callable[..., MethodOutput]
    interventional: bool = False  # reads the mask (otherwise it sees pooled rows)
    needs_interventions: bool = False  # refuses data without intervened values
    zero_columns_ok: bool = False  # takes count data with all-zero genes (AVICI's standardizer)
    standardize: bool = True  # False: gets raw values (var-sort, AVICI standardizes itself)
    context: tuple[str, ...] = ()  # subset of CONTEXT_KEYS
    output_kind: str = "dag"  # kind of the hard graph it returns (bootstrap orients "cpdag")
    preload: tuple[str, ...] = ()  # modules imported before the clock starts (walltime = call only)


_REGISTRY: dict[str, Implementation] = {}


def register(
    name: str,
    *,
    interventional: bool = False,
    needs_interventions: bool = False,
    zero_columns_ok: bool = False,
    standardize: bool = True,
    context: tuple[str, ...] = (),
    output_kind: str = "dag",
    preload: tuple[str, ...] = (),
) -> Callable[[Callable[..., MethodOutput]], Callable[..., MethodOutput]]:
    """Decorator adding a wrapper under ``name``; a second registration of a name is an error."""
    unknown = set(context) - set(CONTEXT_KEYS)
    if unknown:
        raise ValueError(f"unknown context {sorted(unknown)} for {name!r}; known: {CONTEXT_KEYS}")

    def deco(fn: Callable[..., MethodOutput]) -> Callable[..., MethodOutput]:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"implementation {name!r} is registered twice")
        _REGISTRY[name] = Implementation(
            name,
            fn,
            interventional,
            needs_interventions,
            zero_columns_ok,
            standardize,
            tuple(context),
            output_kind,
            tuple(preload),
        )
        return fn

    return deco


@functools.cache
def _load_families() -> None:
    for module in FAMILY_MODULES:
        importlib.import_module(module)


def available() -> list[str]:
    """Registered implementation names (bootstrap variants not listed)."""
    _load_families()
    return sorted(_REGISTRY)


def get_implementation(name: str) -> Implementation:
    """Resolve a name, including ``bootstrap-<name>``; unknown names list the known ones."""
    _load_families()
    if name.startswith(BOOTSTRAP_PREFIX):
        from avici_core.baselines.bootstrap import bootstrap_implementation

        return bootstrap_implementation(get_implementation(name[len(BOOTSTRAP_PREFIX) :]))
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown implementation {name!r}; known: {', '.join(sorted(_REGISTRY))} "
            f"(each also as {BOOTSTRAP_PREFIX}<name>)"
        )
    return _REGISTRY[name]


def accepted_hparams(name: str) -> set[str]:
    """Keyword hyper-parameters a wrapper takes (context keys excluded), to catch config typos."""
    import inspect

    extra: set[str] = set()
    if name.startswith(BOOTSTRAP_PREFIX):
        extra = {"n_resamples"}
        name = name[len(BOOTSTRAP_PREFIX) :]
    params = inspect.signature(get_implementation(name).fn).parameters.values()
    keyword = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return (keyword | extra) - set(CONTEXT_KEYS)
