"""Memory and time of AVICI inference on many rows: row-chunked vs. all rows at once.

``python benchmarks/bench_model_memory.py [--n 10000] [--d 51] [--rss] [--time-n 2000]``

* XLA temp buffers of the jitted forward (compile only, ``memory_analysis``) for the paper-size
  model, chunked (default ``row_chunk``) and on all rows (``row_chunk = n``);
* with ``--rss``: peak RSS of a fresh process running one chunked forward at n x d (slow: the
  row attention alone is ~40 TFLOP at n=10,000, d=51); ``--rss-layers`` runs a shallower model
  (peak memory no longer grows with depth, time does);
* warm forward time of both paths at ``--time-n`` rows (same process, best of 2), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from peak_memory import peak_rss_gib

from avici_core.model import AviciModel, ModelConfig
from avici_core.model.network import make_network

log = logging.getLogger("bench_model_memory")


def _config(n: int, layers: int, chunked: bool) -> ModelConfig:
    return ModelConfig(layers=layers) if chunked else ModelConfig(layers=layers, row_chunk=n)


def _params(config: ModelConfig, d: int):
    return make_network(config).init(
        jax.random.key(0), np.zeros((1, 4, d, 2), np.float32), False, False
    )


def xla_temp_gib(n: int, d: int, layers: int, chunked: bool) -> float:
    """XLA temp buffer size of the compiled forward (no run)."""
    config = _config(n, layers, chunked)
    net = make_network(config)
    spec = jax.ShapeDtypeStruct((n, d, 2), jnp.float32)
    fwd = jax.jit(lambda p, x: net.apply(p, None, x, False, False))
    compiled = fwd.lower(_params(config, d), spec).compile()
    return compiled.memory_analysis().temp_size_in_bytes / 2**30


def forward_seconds(n: int, d: int, layers: int, chunked: bool) -> float:
    """Best of 2 warm calls of the public inference API."""
    config = _config(n, layers, chunked)
    model = AviciModel(_params(config, d), config)
    x = np.random.default_rng(0).normal(size=(n, d))
    model(x)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return min(times)


def child(n: int, d: int, layers: int) -> None:
    """One chunked forward in this (fresh) process; prints time and peak RSS as JSON."""
    config = _config(n, layers, chunked=True)
    model = AviciModel(_params(config, d), config)
    start = time.perf_counter()
    probs = model(np.random.default_rng(0).normal(size=(n, d)))
    seconds = time.perf_counter() - start
    assert probs.shape == (d, d) and np.isfinite(probs).all()
    rss = peak_rss_gib()
    print(json.dumps({"first_call_s": seconds, "peak_rss_gib": rss}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--d", type=int, default=51)
    parser.add_argument("--rss", action="store_true", help="peak RSS of one forward (slow)")
    parser.add_argument("--rss-layers", type=int, default=8)
    parser.add_argument("--time-n", type=int, default=2000)
    parser.add_argument("--time-layers", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.n, args.d, args.rss_layers)
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    for chunked in (False, True):
        gib = xla_temp_gib(args.n, args.d, 8, chunked)
        log.info("XLA temp n=%d d=%d %s: %.3f GiB", args.n, args.d, _name(chunked), gib)
    if args.rss:
        cmd = [sys.executable, __file__, "--child", "--n", str(args.n), "--d", str(args.d)]
        out = subprocess.run(
            [*cmd, "--rss-layers", str(args.rss_layers)], capture_output=True, text=True, check=True
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        log.info("fresh process, chunked, layers=%d: %s", args.rss_layers, result)
    times = {c: forward_seconds(args.time_n, args.d, args.time_layers, c) for c in (False, True)}
    log.info(
        "warm forward n=%d d=%d layers=%d: all rows %.2f s, chunked %.2f s, ratio %.2fx",
        args.time_n,
        args.d,
        args.time_layers,
        times[False],
        times[True],
        times[False] / times[True],
    )


def _name(chunked: bool) -> str:
    return "chunked" if chunked else "all rows"


if __name__ == "__main__":
    main()
