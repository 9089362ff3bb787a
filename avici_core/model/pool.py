"""Training data: bounded per-d pools of datasets, refilled by background worker processes.

Dataset ``k`` of size ``d`` is a pure function of ``(seed, d, k)``, and each training step at
``d`` samples from the window of the ``pool_size`` most recent indices and then advances the
window by ``fresh_per_step``. So the data a step sees do not depend on worker timing, and a run
resumed from a checkpoint (window counters + host generator state) continues identically.
Workers (``spawn`` processes; this module imports no JAX) compute upcoming indices ahead of
need, bounded by ``lookahead`` per d, so the device only waits if generation is slower than
training.

Shapes: a pooled dataset holds ``x_obs [n_obs_pool, d]``, ``x_int [n_int_pool, d]``,
``mask [n_int_pool, d]``, ``g [d, d]``; a batch is ``x [B, n, d, 2]``, ``g [B, d, d]``,
``is_count [B]``.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import numpy as np

from avici_core.data import draw_dataset, get_domain
from avici_core.seeds import seed_stream
from avici_core.types import STREAMS


@dataclasses.dataclass(frozen=True)
class PoolSpec:
    """What one pooled dataset looks like (all fields picklable for the workers)."""

    domains: tuple[str, ...]
    seed: int
    n_obs: int = 600
    n_int: int = 200
    registry: str | None = None


@functools.lru_cache(maxsize=None)
def _domain(domain_id: str, registry: str | None):
    return get_domain(domain_id, registry)


def make_dataset(spec: PoolSpec, d: int, index: int, stream: str = "train") -> dict[str, Any]:
    """Dataset ``index`` of size ``d``: a domain chosen uniformly, then one draw (deterministic)."""
    rng = seed_stream(STREAMS[stream], spec.seed, d, index)
    domain = spec.domains[int(rng.integers(len(spec.domains)))]
    draw = draw_dataset(
        rng, _domain(domain, spec.registry), n_vars=d, n_obs=spec.n_obs, n_int=spec.n_int
    )
    return {
        "g": draw.g.astype(np.int8),
        "x_obs": draw.x_obs.astype(np.float32),
        "x_int": draw.x_int.astype(np.float32),
        "mask": draw.mask_int.astype(np.float32),
        "is_count": bool(draw.is_count_data),
    }


def sample_rows(
    rng: np.random.Generator, ds: dict[str, Any], *, n_obs: int, n_int: int, obs_only: bool
) -> np.ndarray:
    """Row sub-sample of one pooled dataset -> ``[n_obs + n_int, d, 2]`` (value, indicator).

    ``obs_only``: all ``n_obs + n_int`` rows observational; else ``n_obs`` observational rows
    followed by ``n_int`` interventional ones (both without replacement). Row order is
    irrelevant: the network is exactly invariant to it.
    """
    total = n_obs + n_int
    if obs_only or n_int == 0:
        rows = rng.choice(len(ds["x_obs"]), size=total, replace=False)
        x, mask = ds["x_obs"][rows], np.zeros((total, ds["x_obs"].shape[1]), np.float32)
    else:
        obs = rng.choice(len(ds["x_obs"]), size=n_obs, replace=False)
        ints = rng.choice(len(ds["x_int"]), size=n_int, replace=False)
        x = np.concatenate([ds["x_obs"][obs], ds["x_int"][ints]])
        mask = np.concatenate([np.zeros((n_obs, x.shape[1]), np.float32), ds["mask"][ints]])
    return np.stack([x, mask], axis=-1)


class DataPools:
    """Per-d windows of ``pool_size`` datasets, filled ahead by ``n_workers`` processes.

    ``n_workers=0`` generates in the calling process (same datasets, no parallelism).
    """

    def __init__(
        self,
        spec: PoolSpec,
        n_vars: list[int],
        *,
        pool_size: int,
        fresh_per_step: int,
        n_workers: int,
        lookahead: int = 16,
        window_start: dict[int, int] | None = None,
    ):
        self.spec, self.pool_size, self.fresh = spec, pool_size, fresh_per_step
        self.lookahead = lookahead
        self.start = {d: 0 for d in n_vars} | {int(k): v for k, v in (window_start or {}).items()}
        self.ready: dict[int, dict[int, dict]] = {d: {} for d in n_vars}
        self.pending: dict[int, collections.OrderedDict[int, Future]] = {
            d: collections.OrderedDict() for d in n_vars
        }
        self.next_index = dict(self.start)
        self.executor = (
            ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn"))
            if n_workers > 0
            else None
        )
        for d in n_vars:
            self._top_up(d)

    def _top_up(self, d: int) -> None:
        """Queue generation up to ``pool_size + lookahead`` indices past the window start."""
        if self.executor is None:
            return
        while self.next_index[d] < self.start[d] + self.pool_size + self.lookahead:
            k = self.next_index[d]
            self.pending[d][k] = self.executor.submit(make_dataset, self.spec, d, k)
            self.next_index[d] += 1

    def _get(self, d: int, k: int) -> dict:
        if k not in self.ready[d]:
            future = self.pending[d].pop(k, None)
            self.ready[d][k] = future.result() if future else make_dataset(self.spec, d, k)
        return self.ready[d][k]

    def batch(
        self,
        rng: np.random.Generator,
        d: int,
        size: int,
        *,
        n_obs: int,
        n_int: int,
        obs_only: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``size`` datasets drawn uniformly from d's window; ``obs_only [size]`` per dataset.

        Then the window slides by ``fresh_per_step`` and old datasets are dropped.
        """
        picks = self.start[d] + rng.integers(self.pool_size, size=size)
        pooled = [self._get(d, int(k)) for k in picks]
        x = np.stack(
            [
                sample_rows(rng, ds, n_obs=n_obs, n_int=n_int, obs_only=bool(o))
                for ds, o in zip(pooled, obs_only)
            ]
        )  # [B, n, d, 2]
        g = np.stack([ds["g"] for ds in pooled])  # [B, d, d]
        is_count = np.array([ds["is_count"] for ds in pooled])  # [B]
        self.start[d] += self.fresh
        self.ready[d] = {k: v for k, v in self.ready[d].items() if k >= self.start[d]}
        for k in [k for k in self.pending[d] if k < self.start[d]]:
            self.pending[d].pop(k).cancel()
        self._top_up(d)
        return x, g, is_count

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
