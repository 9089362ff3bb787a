"""AVICI forward and train step on the default JAX device, against that device's own matmul peak.

  python benchmarks/bench_gpu.py [--tiny] [--out FILE.json]

Measured in the same run: the dense matmul rate (8192^3, bf16 and float32 at JAX's default
precision, i.e. TF32 on NVIDIA GPUs), the paper-size network's forward at n = 1000, d = 20
(batch 1 and 8) and one jitted training step at d = 20 with the paper's per-device batch (13
datasets of 200 rows), in float32 and with bf16 matmuls (``mixed_precision``), the float32 step
once more with row attention looping over variables (the network's path above
``ALL_VARIABLES_AT_ONCE``; seconds only, since XLA's cost analysis counts a loop body once).
FLOPs are XLA's cost analysis of the compiled program; rates are best of 3 warm
calls. ``--tiny`` shrinks every size so that the script runs in seconds on a CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from avici_core.model import network
from avici_core.model.loss import init_dual
from avici_core.model.network import ModelConfig, make_network
from avici_core.model.train import TrainConfig, TrainState, _step_fn, batch_size_per_device


def _measure(fn, *args, repeats: int = 3) -> tuple[float, float]:
    """(best seconds of ``repeats`` warm calls, XLA's FLOP count) of ``jax.jit(fn)``, compiled
    once."""
    compiled = jax.jit(fn).lower(*args).compile()
    jax.block_until_ready(compiled(*args))  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        best = min(best, time.perf_counter() - start)
    return best, float(compiled.cost_analysis()["flops"])


def matmul_rate(size: int, dtype) -> float:
    """TFLOP/s of one ``size^3`` matrix product."""
    a = jnp.ones((size, size), dtype)
    seconds, _ = _measure(lambda a, b: a @ b, a, a)
    return 2 * size**3 / seconds / 1e12


def forward_rate(config: ModelConfig, batch: int, n: int, d: int) -> dict[str, float]:
    net = make_network(config)
    params = net.init(jax.random.key(0), jnp.zeros((1, 4, d, 2)), False, False)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(batch, n, d, 2)), jnp.float32)
    seconds, flops = _measure(lambda p, x: net.apply(p, None, x, False, False), params, x)
    return {"seconds": seconds, "tflops": flops / seconds / 1e12}


def train_rate(config: TrainConfig, batch: int, n: int, d: int) -> dict[str, float]:
    net = make_network(config.model_config(), mixed_precision=config.mixed_precision)
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.lamb(1e-4))
    params = net.init(jax.random.key(0), jnp.zeros((1, 4, d, 2)), False, False)
    state = TrainState(
        jnp.zeros((), jnp.int32), params, optimizer.init(params), params, init_dual()
    )
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(batch, n, d, 2)), jnp.float32)
    g = jnp.asarray(np.triu(rng.random((batch, d, d)) < 0.2, 1), jnp.int32)
    count = jnp.zeros(batch, bool)
    step = _step_fn(config, net, optimizer)
    seconds, flops = _measure(step, state, jax.random.key(0), x, g, count)
    return {"seconds": seconds, "steps_per_s": 1.0 / seconds, "tflops": flops / seconds / 1e12}


def per_variable_train_rate(config: TrainConfig, batch: int, n: int, d: int) -> dict[str, float]:
    """:func:`train_rate` with row attention forced to loop over variables."""
    limits = dict(network.ALL_VARIABLES_AT_ONCE)
    network.ALL_VARIABLES_AT_ONCE.update(dict.fromkeys(limits, 0))
    try:
        return {"seconds": train_rate(config, batch, n, d)["seconds"]}
    finally:
        network.ALL_VARIABLES_AT_ONCE.update(limits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes (CPU smoke run)")
    parser.add_argument("--out", help="write the figures as JSON here too")
    args = parser.parse_args()
    device = jax.devices()[0]
    if args.tiny:
        size, n, d = 512, 64, 8
        model = ModelConfig(dim=32, layers=1, num_heads=2, key_size=8, widening=2)
        trainer = TrainConfig(dim=32, layers=1, num_heads=2, key_size=8, widening=2, dropout=0.0)
    else:
        size, n, d = 8192, 1000, 20
        model, trainer = ModelConfig(), TrainConfig(dropout=0.0)
    peak = {"bf16": matmul_rate(size, jnp.bfloat16), "f32": matmul_rate(size, jnp.float32)}
    batch = batch_size_per_device(20, 300)  # the paper's 13 datasets per device at d = 20
    result = {
        "device": f"{device.platform}:{device.device_kind}",
        "jax": jax.__version__,
        "matmul_tflops": peak,
        "forward_b1": forward_rate(model, 1, n, d),
        "forward_b8": forward_rate(model, 8, n, d),
        "train_step": train_rate(trainer, batch, n // 5, d),
        "train_step_bf16": train_rate(
            dataclasses.replace(trainer, mixed_precision=True), batch, n // 5, d
        ),
        "train_step_per_variable": per_variable_train_rate(trainer, batch, n // 5, d),
    }
    print(f"device {result['device']}, jax {result['jax']}")
    print(f"matmul {size}^3: bf16 {peak['bf16']:.1f} TFLOP/s, float32 {peak['f32']:.1f} TFLOP/s\n")
    print("| what | s | TFLOP/s | of float32 matmul peak | of bf16 peak |\n|---|---|---|---|---|")
    for name in ("forward_b1", "forward_b8", "train_step", "train_step_bf16"):
        r = result[name]
        print(
            f"| {name} | {r['seconds']:.4f} | {r['tflops']:.2f} | {r['tflops'] / peak['f32']:.0%} "
            f"| {r['tflops'] / peak['bf16']:.0%} |"
        )
    looped = result["train_step_per_variable"]["seconds"]
    print(
        f"\ntrain steps/s: {result['train_step']['steps_per_s']:.2f} (batch {batch}, n {n // 5}); "
        f"looping over variables: {looped:.4f} s a step "
        f"({looped / result['train_step']['seconds']:.2f}x the time)"
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
