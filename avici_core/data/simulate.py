"""Draw datasets from registered domains, deterministically per (domain, seed, stream)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from avici_core.data.distributions import as_distribution
from avici_core.data.registry import DomainSpec, build, get_domain, n_targets, resolve_class
from avici_core.dataset import Dataset
from avici_core.seeds import seed_stream
from avici_core.types import STREAMS

FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Draw:
    """One fresh dataset, raw (not standardized)."""

    g: np.ndarray  # [d, d] int8
    x_obs: np.ndarray  # [n_obs, d]
    x_int: np.ndarray  # [n_int, d]
    mask_int: np.ndarray  # [n_int, d] int8
    is_count_data: bool
    spec: dict


def dataset_rng(domain_id: str, seed: int, stream: str = "test") -> np.random.Generator:
    """A generator from a stable hash of the domain id, the seed and the stream.

    Streams (train 0, test 1, tune 2, as in the paper) never share entropy, so tuning data are
    disjoint from test data by construction; Python's ``hash`` is salted per process, sha256 is not.
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; use one of {sorted(STREAMS)}")
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return seed_stream(STREAMS[stream], domain_id, int(seed))


def draw_dataset(
    rng: np.random.Generator,
    spec: DomainSpec,
    *,
    n_vars: int,
    n_obs: int,
    n_int: int,
    family: str | None = None,
) -> Draw:
    """One dataset: draw a concrete spec, a graph, intervention targets, then the rows."""
    if n_vars < 2:
        raise ValueError(f"n_vars must be >= 2, got {n_vars}")
    if n_obs < 1 or n_int < 0:
        raise ValueError(f"need n_obs >= 1 and n_int >= 0, got n_obs={n_obs}, n_int={n_int}")
    concrete = spec.sample_spec(rng, family)
    graph_model = build(concrete["graph"])
    mechanism = build(concrete["mechanism"])
    interventions = build(concrete["interventions"])
    g = np.asarray(graph_model(rng, n_vars), dtype=np.int8)
    m = n_targets(interventions["targets"], n_vars) if n_int else 0
    if n_int and m == 0:
        raise ValueError(f"domain {spec.id!r}: n_int={n_int} rows but 0 intervention targets")
    targets = np.sort(rng.choice(n_vars, size=m, replace=False))
    x_obs, x_int, mask_int, is_count = mechanism.sample(
        rng,
        g,
        n_obs=n_obs,
        n_int=n_int,
        targets=targets,
        interv_dist=as_distribution(interventions["values"]),
    )
    return Draw(g, x_obs, x_int, mask_int.astype(np.int8), bool(is_count), concrete)


def generate_dataset(
    domain_id: str,
    seed: int,
    *,
    stream: str = "test",
    registry_path: str | Path | None = None,
    vars_factor: float = 1.0,
    rows_factor: float = 1.0,
) -> Dataset:
    """The dataset of (domain, seed, stream): the first half of the rows for inference, the rest held out.

    Test and tuning sets balance graph families over seeds: seed j uses ``families[j mod F]``.
    ``vars_factor``/``rows_factor`` shrink the domain (``DomainSpec.scaled``; the small scale).
    """
    spec = get_domain(domain_id, registry_path).scaled(vars_factor, rows_factor)
    if spec.loader:
        return _load_real(spec, seed, stream)
    rng = dataset_rng(domain_id, seed, stream)
    family = spec.families[int(seed) % len(spec.families)] if stream != "train" else None
    draw = draw_dataset(
        rng, spec, n_vars=spec.n_vars, n_obs=spec.n_obs, n_int=spec.n_int, family=family
    )
    n_obs_used, n_int_used = math.ceil(spec.n_obs / 2), math.ceil(spec.n_int / 2)
    meta = {
        "format_version": FORMAT_VERSION,
        "domain": domain_id,
        "seed": int(seed),
        "stream": stream,
        "n_vars": spec.n_vars,
        "family": family,
        "spec": draw.spec,
        "rows": "first half of the generated rows for inference, second half held out",
    }
    if (vars_factor, rows_factor) != (1.0, 1.0):
        meta["scale"] = {"vars": vars_factor, "rows": rows_factor}
    return Dataset(
        g=draw.g,
        x_obs=draw.x_obs[:n_obs_used],
        x_int=draw.x_int[:n_int_used],
        mask_int=draw.mask_int[:n_int_used],
        x_obs_heldout=draw.x_obs[n_obs_used:],
        x_int_heldout=draw.x_int[n_int_used:],
        mask_int_heldout=draw.mask_int[n_int_used:],
        is_count_data=draw.is_count_data,
        meta=meta,
    )


def _load_real(spec: DomainSpec, seed: int, stream: str) -> Dataset:
    """A real dataset is the same for every seed; the seed only names the file (and seeds methods)."""
    ds = resolve_class(spec.loader)(**spec.loader_args)
    if not isinstance(ds, Dataset):
        raise ValueError(
            f"domain {spec.id!r}: loader {spec.loader} returned {type(ds).__name__}, not a Dataset"
        )
    meta = {**ds.meta, "domain": spec.id, "seed": int(seed), "stream": stream, "family": "real"}
    return dataclasses.replace(ds, meta=meta)


def simulate_data(
    d: int,
    n: int,
    n_interv: int = 0,
    domain: str = "lin-gauss",
    seed: int = 0,
    *,
    registry_path: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(g [d, d], x [n + n_interv, d], interv [n + n_interv, d] or None)``, like the original package.

    Observational and interventional rows are shuffled together; values are raw (not standardized).
    """
    if d < 2:
        raise ValueError(f"d must be >= 2, got {d}")
    if n < 1 or n_interv < 0:
        raise ValueError(f"need n >= 1 and n_interv >= 0, got n={n}, n_interv={n_interv}")
    spec = get_domain(domain, registry_path)
    rng = dataset_rng(domain, seed, "test")
    draw = draw_dataset(rng, spec, n_vars=d, n_obs=n, n_int=n_interv)
    x = np.concatenate([draw.x_obs, draw.x_int])
    mask = np.concatenate([np.zeros_like(draw.x_obs, dtype=np.int8), draw.mask_int])
    order = rng.permutation(len(x))
    return draw.g.astype(int), x[order], (mask[order] if n_interv else None)
