"""The experiment plan: a selection (``config/config.yaml``) resolved against the registries into
the runs the workflow executes. Pure functions of their arguments; ``workflow/rules/common.smk``
calls them and keeps only Snakemake's paths and wildcards.

A run is one (domain, setting, method, seed) with the seed as the ``{seed}`` wildcard: the bare
index on the test stream, ``<stream>-<index>`` on another.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from avici_core.baselines.registry import MethodSpec
from avici_core.data.registry import DomainSpec


def select(kind: str, wanted: str | list[str], known: Collection[str], default_all: Iterable[str]):
    """Resolve "all" or a list of ids; unknown ids fail here, naming the key, the id and the
    known ones."""
    if wanted == "all":
        return sorted(default_all)
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise ValueError(
            f"config key '{kind}': unknown id(s) {unknown}; known {kind}: {', '.join(sorted(known))}"
        )
    return list(wanted)


def seed_range(first: int, n: int, cap: int | None = None) -> list[int]:
    """Seeds first .. first + n - 1, at most ``cap`` of them (an overlay's small scale)."""
    return list(range(first, first + (n if cap is None else min(n, cap))))


def seed_id(stream: str, seed: int) -> str:
    """The {seed} wildcard: the bare index on the test stream, ``<stream>-<index>`` otherwise."""
    return str(seed) if stream == "test" else f"{stream}-{seed}"


def seed_order(seed: str) -> tuple[str, int]:
    """Sort key of a {seed} wildcard: stream, then the integer index."""
    stream, _, index = seed.rpartition("-")
    return stream, int(index)


def experiments(
    config: Mapping[str, Any],
    domains: Mapping[str, DomainSpec],
    methods: Mapping[str, MethodSpec],
    eval_domains: Collection[str],
) -> dict[str, dict[str, Any]]:
    """Every experiment of the config resolved into ids: domains, methods, settings, seeds and
    stream. With ``experiments`` the runs are their union (each with its own keys, falling back
    to the flat ones); without, the flat keys are the one experiment, ``default``."""
    default_methods = [m for m, s in methods.items() if s.default]

    def resolve(where: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            domains=select(f"{where}domains", spec["domains"], domains, eval_domains),
            methods=select(f"{where}methods", spec["methods"], methods, default_methods),
            settings=list(spec.get("settings", config["settings"])),
            seeds=seed_range(spec.get("first_seed", 0), spec["n_seeds"], config.get("max_seeds")),
            stream=spec.get("stream", config["stream"]),
        )

    named = config.get("experiments") or {}
    return {name: resolve(f"experiments.{name}.", s) for name, s in named.items()} or {
        "default": resolve("", config)
    }


def experiment_runs(
    exp: Mapping[str, Any], domains: Mapping[str, DomainSpec], methods: Mapping[str, MethodSpec]
) -> list[dict[str, str]]:
    """Every run of one experiment; a domain without interventional rows runs obs only, and a
    method only in the settings it supports."""
    return [
        dict(domain=d, setting=s, method=m, seed=seed_id(exp["stream"], k))
        for d in exp["domains"]
        for m in exp["methods"]
        for s in exp["settings"]
        if (s == "obs" or domains[d].n_int > 0) and s in methods[m].settings
        for k in exp["seeds"]
    ]


def plan_runs(
    planned: Mapping[str, Mapping[str, Any]],
    domains: Mapping[str, DomainSpec],
    methods: Mapping[str, MethodSpec],
) -> list[dict[str, str]]:
    """The union of every experiment's runs, in a stable order, each once.

    Metric rows carry the integer seed only, so one (domain, setting, method, seed) in two
    streams is refused (it would be two rows with one key).
    """
    runs = list(
        {
            tuple(r.values()): r
            for exp in planned.values()
            for r in experiment_runs(exp, domains, methods)
        }.values()
    )
    seen: dict[tuple[str, str, str, str], str] = {}
    for r in runs:
        key = (r["domain"], r["setting"], r["method"], r["seed"].rsplit("-", 1)[-1])
        if seen.setdefault(key, r["seed"]) != r["seed"]:
            raise ValueError(
                f"config key 'experiments': {key[:3]} runs on seed {key[3]} of two seed streams; "
                "give the tuning experiment its own methods (e.g. a grid) or other domains"
            )
    return runs


def score_groups(runs: Iterable[Mapping[str, str]]) -> dict[tuple[str, str, str], list[str]]:
    """(domain, setting, method) -> every seed planned for it, in seed order: one scoring job."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for r in runs:
        groups.setdefault((r["domain"], r["setting"], r["method"]), []).append(r["seed"])
    return {k: sorted(v, key=seed_order) for k, v in groups.items()}


def rows_used(spec: DomainSpec) -> tuple[int, int, int]:
    """(d, observational rows, interventional rows) a method sees: half of those generated."""
    return spec.n_vars, math.ceil(spec.n_obs / 2), math.ceil(spec.n_int / 2)
