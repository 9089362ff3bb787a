"""Float32 against bf16 matmuls (``mixed_precision``) on this machine, same process, taking turns.

  python benchmarks/bench_mixed_precision.py [--turns 4] [--skip-paper-step]

In one process: the matmul rate of a 2048^3 product in float32 and from bfloat16 inputs with
float32 accumulation (what ``network.bf16_matmuls`` asks of XLA), the paper-size forward at
n = 1000, d = 20, the paper-size train step (8 datasets x 200 rows) and the small models' train
step (avici-small and avici-small-v10's network, 3 x 128 rows, d = 20), each compiled once per
precision and then timed in alternating turns, so that both precisions see the same machine
load. Rates are ``bench_model.matmul_flops`` (the matmuls' multiply-adds x 2) per second and,
for both precisions, a share of the float32 peak; bf16 work counts the same FLOPs.

The paper-size step's executable asks XLA for 12 GB of temporary memory per call (measured on
XLA's CPU backend, jax 0.10.2); holding both precisions' steps was killed for memory on a 24 GiB
machine (AMD EPYC), so pass ``--skip-paper-step`` there.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from bench_model import SMALL, SMALL_STEP, _data, _jitted_step, _params, _timed, matmul_flops

from avici_core.allocator import keep_freed_memory
from avici_core.model.network import ModelConfig, make_network

PEAK_SIZE = 2048
V10 = dict(SMALL, input_values="normal_scores", pair_statistics=True)


def _matmuls() -> dict[bool, Callable]:
    a = jnp.ones((PEAK_SIZE, PEAK_SIZE), jnp.float32)
    a16 = a.astype(jnp.bfloat16)
    f32 = jax.jit(lambda a: a @ a)
    bf16 = jax.jit(lambda a: jnp.dot(a, a, preferred_element_type=jnp.float32))
    return {False: lambda: f32(a), True: lambda: bf16(a16)}


def _forwards(n: int, d: int) -> tuple[dict[bool, Callable], float]:
    """Both precisions' forward and the largest difference of their edge probabilities."""
    config = ModelConfig()
    params, x = _params(config, d), jnp.asarray(_data(1, (1, n, d)))
    calls, probs = {}, {}
    for mixed in (False, True):
        net = make_network(config, mixed_precision=mixed)
        forward = jax.jit(lambda p, x, net=net: jax.nn.sigmoid(net.apply(p, None, x, False, False)))
        calls[mixed] = lambda forward=forward: forward(params, x)
        probs[mixed] = np.asarray(calls[mixed]())
    return calls, float(np.abs(probs[True] - probs[False]).max())


def _steps(shape: tuple[int, int, int], network_size: dict) -> dict[bool, Callable]:
    b, _, d = shape
    g = (np.random.default_rng(0).random((b, d, d)) < 0.1).astype(np.int32)
    args = (jax.random.key(0), jnp.asarray(_data(0, shape)), jnp.asarray(g), jnp.zeros(b, bool))
    calls = {}
    for mixed in (False, True):
        step, state = _jitted_step(d, network_size, mixed)
        calls[mixed] = lambda step=step, state=state: step(state, *args)
        _timed(calls[mixed])  # compile
    return calls


def _turns(calls: dict[bool, Callable], turns: int) -> dict[bool, list[float]]:
    times = {mixed: [] for mixed in calls}
    for mixed, call in calls.items():
        _timed(call)  # warm
    for _ in range(turns):
        for mixed, call in calls.items():
            times[mixed].append(_timed(call))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--skip-paper-step", action="store_true", help="it takes minutes")
    args = parser.parse_args()
    keep_freed_memory()  # as the CLI runs
    print(f"load average before: {os.getloadavg()}, CPUs: {os.cpu_count()}, jax {jax.__version__}")
    n, d = 1000, 20
    forwards, prob_diff = _forwards(n, d)
    work = {
        f"matmul {PEAK_SIZE}^3": (_matmuls(), 2 * PEAK_SIZE**3),
        f"paper forward, n = {n}, d = {d}": (forwards, matmul_flops(ModelConfig(), n, d)),
        "avici-small train step, 3 x 128 rows": (_steps(SMALL_STEP, SMALL), None),
        "avici-small-v10 train step, 3 x 128 rows": (_steps(SMALL_STEP, V10), None),
    }
    if not args.skip_paper_step:
        work["paper train step, 8 x 200 rows"] = (_steps((8, 200, d), {}), None)
    times = {name: _turns(calls, args.turns) for name, (calls, _) in work.items()}
    peak = 2 * PEAK_SIZE**3 / min(times[f"matmul {PEAK_SIZE}^3"][False]) / 1e9
    print(
        f"\nfloat32 matmul peak {peak:.0f} GFLOP/s; forward probabilities differ by at most "
        f"{prob_diff:.1e}\n"
    )
    print(
        "| what | float32 [s] | bf16 matmuls [s] | bf16 / float32 | GFLOP/s float32 | "
        "GFLOP/s bf16 | share of float32 peak, float32 / bf16 |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, (_, flops) in work.items():
        f32, bf16 = (min(times[name][mixed]) for mixed in (False, True))
        medians = "/".join(f"{statistics.median(times[name][m]):.3g}" for m in (False, True))
        rates = ["", "", ""]
        if flops:
            g32, g16 = flops / f32 / 1e9, flops / bf16 / 1e9
            rates = [f"{g32:.0f}", f"{g16:.0f}", f"{g32 / peak:.0%} / {g16 / peak:.0%}"]
        print(
            f"| {name} | {f32:.3g} | {bf16:.3g} | {bf16 / f32:.2f} (medians {medians}) | "
            + " | ".join(rates)
            + " |"
        )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
