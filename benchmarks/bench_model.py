"""Speed and memory of the AVICI network; ratios against the original package in the same run.

  python benchmarks/bench_model.py [--quick] [--ref-python /work/avici-ref-venv/bin/python]

1. Reference (same weights, same inputs): warm jitted forward at n=1000, d=20 and one jitted
   LAMB update at d=20, batch 8, n=200 of the original (``avici_ref_model_driver.py`` in its own
   venv, called as a subprocess) vs ours; max |probability difference| is printed too, and
   both rates as a fraction of this machine's float32 matmul peak measured in the same run
   (``matmul_flops``: the matmuls' work, counted by hand).
2. Grid: forward wall time and peak RSS for n x d with row attention materialising one
   variable's logits (plain) or streaming key blocks (blockwise), each in a fresh subprocess
   (RSS is per process); GFLOP/s = ``matmul_flops`` / time. Plain combos whose ``[H, n, n]``
   logits of one variable would exceed ``--plain-limit-gib`` are skipped.
3. Allocator: the forward at n=1000, d=20 and the small model's train step (the shipped
   avici-small network, d=20, 3 datasets x 128 rows) in fresh processes with glibc's default
   malloc and with the heap the CLI keeps (``avici_core.allocator``), taking turns; page faults
   per call are printed too. Everything else here runs as the CLI does, with the kept heap.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from peak_memory import peak_rss_gib

from avici_core.allocator import keep_freed_memory
from avici_core.model.loss import init_dual
from avici_core.model.network import ModelConfig, make_network
from avici_core.model.train import TrainConfig, TrainState, _step_fn, make_optimizer

log = logging.getLogger("bench_model")
HERE = Path(__file__).resolve().parent
PLAIN = 10**9  # row_block larger than any n: one variable's [H, n, n] logits at a time
STREAMED = 256  # row_block that streams key blocks of 64 rows from n = 257 on


def _data(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((*shape, 2), np.float32)
    x[..., 0] = rng.normal(size=shape)
    return x


def _params(config: ModelConfig, d: int):
    return make_network(config).init(jax.random.key(0), jnp.zeros((1, 4, d, 2)), False, False)


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def matmul_flops(config: ModelConfig, n: int, d: int) -> float:
    """Multiply-adds x 2 of every matmul of one forward on [n, d] (the model FLOPs; elementwise
    work such as the softmax's exp is not counted). XLA's cost analysis counts a loop body once,
    and row attention now loops over variables, so it no longer sees the whole work."""
    D, hk, w = config.dim, config.num_heads * config.key_size, config.widening * config.dim
    rows = n * d
    projections = 2 * rows * D * hk * 4  # query, key, value, output
    attend_d = 2 * 2 * n * d * d * hk  # logits and weighted values over variables
    attend_n = 2 * 2 * d * n * n * hk  # ... over rows
    ffn = 2 * 2 * rows * D * w
    return config.layers * (2 * projections + attend_d + attend_n + 2 * ffn)


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matmul rate now (best of ``repeats``), the in-run reference."""
    a = jnp.ones((size, size), jnp.float32)
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    return 2 * size**3 / min(_timed(f, a) for _ in range(repeats)) / 1e9


def _page_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _warm(fn, repeats: int) -> tuple[float, int]:
    """Best time of ``repeats`` calls after the first, and the page faults of the last call."""
    times = []
    for _ in range(repeats):
        faults = _page_faults()
        times.append(_timed(fn))
        faults = _page_faults() - faults
    return min(times), faults


def child(n: int, d: int, blockwise: bool, kept: bool) -> None:
    """One forward in this process; prints JSON (time, peak RSS, page faults per call).
    ``kept``: the CLI's allocator settings (``avici_core.allocator``), else glibc's defaults."""
    if kept:
        keep_freed_memory()
    config = ModelConfig(row_block=STREAMED if blockwise else PLAIN)
    net = make_network(config)
    params = _params(config, d)
    x = jnp.asarray(_data(0, (1, n, d)))
    f = jax.jit(lambda p, x: net.apply(p, None, x, False, False))
    first = _timed(f, params, x)
    small = n * d <= 1000 * 100  # big combos: one run only
    warm, faults = _warm(lambda: f(params, x), 2) if small else (first, -1)
    rss_gib = peak_rss_gib()
    print(json.dumps({"first_s": first, "warm_s": warm, "peak_rss_gib": rss_gib, "faults": faults}))


SMALL = {"dim": 64, "layers": 4, "num_heads": 4, "key_size": 16, "widening": 2}  # avici-small
SMALL_STEP = (3, 128, 20)  # datasets x rows x variables: a d = 20 step of its training


def small_step_child(kept: bool) -> None:
    """One train step of the shipped small network on ``SMALL_STEP`` in this process; prints
    JSON (warm time, page faults per step)."""
    if kept:
        keep_freed_memory()
    b, _, d = SMALL_STEP
    step, state = _jitted_step(d, SMALL)
    g = (np.random.default_rng(0).random((b, d, d)) < 0.1).astype(np.int32)
    args = (jax.random.key(0), jnp.asarray(_data(0, SMALL_STEP)), jnp.asarray(g))
    call = lambda: step(state, *args, jnp.zeros(b, bool))
    _timed(call)
    warm, faults = _warm(call, 5)
    print(json.dumps({"warm_s": warm, "faults": faults}))


def run_child(n: int, d: int, blockwise: bool, kept: bool = True) -> dict:
    cmd = [sys.executable, __file__, "--child", *(str(int(a)) for a in (n, d, blockwise, kept))]
    return _child_json(cmd)


def _child_json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _jitted_step(d: int, network_size: dict, mixed_precision: bool = False):
    """The jitted training step (dropout off) of a network and its fresh state at ``d``."""
    config = TrainConfig(dropout=0.0, n_vars=(d,), mixed_precision=mixed_precision, **network_size)
    optimizer = make_optimizer(config, 1)
    params = _params(config.model_config(), d)
    state = TrainState(
        jnp.zeros((), jnp.int32), params, optimizer.init(params), params, init_dual()
    )
    network = make_network(config.model_config(), mixed_precision=mixed_precision)
    return jax.jit(_step_fn(config, network, optimizer)), state


def our_train_step(batch: dict[str, np.ndarray]) -> tuple[float, float]:
    step, state = _jitted_step(20, {})  # the paper-size network
    x = np.concatenate(
        [batch["train_x_obs"][:, :150], batch["train_x_int"]], axis=1
    )  # [8, 200, 20, 2]
    args = (jax.random.key(0), jnp.asarray(x), jnp.asarray(batch["train_g"]), jnp.zeros(8, bool))
    first = _timed(lambda: step(state, *args))
    warm = _timed(lambda: step(state, *args))
    return first, warm


def reference(ref_python: str, n: int, d: int) -> None:
    """Our forward and update vs the original's on identical weights and inputs."""
    config = ModelConfig()
    params = _params(config, d)
    x = _data(1, (1, n, d))
    rng = np.random.default_rng(2)
    batch = {
        "train_x_obs": _data(3, (8, 200, 20)),
        "train_x_int": _data(4, (8, 50, 20)),
        "train_g": np.triu(rng.random((8, 20, 20)) < 0.2, 1).astype(np.float32),
    }
    batch["train_x_int"][..., 0, 1] = 1.0
    with tempfile.TemporaryDirectory() as tmp:
        arrays = {
            f"param/{m}/{k}": np.asarray(v)
            for m, leaves in params.items()
            for k, v in leaves.items()
        }
        np.savez(Path(tmp) / "in.npz", x=x, **arrays, **batch)
        env = {**os.environ, "JAX_PLATFORMS": "cpu"}
        cmd = [
            ref_python,
            str(HERE / "avici_ref_model_driver.py"),
            f"{tmp}/in.npz",
            f"{tmp}/out.npz",
        ]
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        ref = dict(np.load(Path(tmp) / "out.npz"))

    net = make_network(config)
    f = jax.jit(lambda p, x: jax.nn.sigmoid(net.apply(p, None, x, False, False)))
    first = _timed(f, params, x)
    warm = min(_timed(f, params, x) for _ in range(2))
    diff = float(np.abs(np.asarray(f(params, x)) - ref["probs"]).max())
    t_first, t_warm = our_train_step(batch)
    peak = matmul_peak_gflops()
    fwd_gflop = matmul_flops(config, n, d) / 1e9
    step_gflop = 3 * 8 * matmul_flops(config, 200, 20) / 1e9  # forward + backward, batch 8
    print(f"\nreference, n={n} d={d}: max |p_ours - p_orig| = {diff:.2e}")
    print(
        f"fp32 matmul peak now: {peak:.0f} GFLOP/s; forward {fwd_gflop:.0f} GFLOP (matmuls): "
        f"ours {fwd_gflop / warm:.0f} GFLOP/s = {fwd_gflop / warm / peak:.0%} of peak, "
        f"original {fwd_gflop / ref['fwd_warm_s'] / peak:.0%}; train step ~{step_gflop:.0f} "
        f"GFLOP: ours {step_gflop / t_warm / peak:.0%} of peak, "
        f"original {step_gflop / ref['train_warm_s'] / peak:.0%}"
    )
    print("| what | original [s] | ours [s] | speed-up |\n|---|---|---|---|")
    print(
        f"| forward warm | {ref['fwd_warm_s']:.2f} | {warm:.2f} | {ref['fwd_warm_s'] / warm:.2f}x |"
    )
    print(
        f"| forward first (incl. compile) | {ref['fwd_first_s']:.2f} | {first:.2f} | {ref['fwd_first_s'] / first:.2f}x |"
    )
    print(
        f"| train step warm (d=20, B=8, n=200) | {ref['train_warm_s']:.2f} | {t_warm:.2f} | {ref['train_warm_s'] / t_warm:.2f}x |"
    )
    print(
        f"| train step first | {ref['train_first_s']:.2f} | {t_first:.2f} | {ref['train_first_s'] / t_first:.2f}x |"
    )


def allocator_comparison(n: int, d: int, rounds: int = 2) -> None:
    """The forward and the small model's train step with glibc's default malloc against the
    CLI's kept heap, fresh processes taking turns (``rounds`` each), so both see one machine;
    rates as a share of the float32 matmul peak measured just before."""
    b, rows, small_d = SMALL_STEP
    runs = {  # name: (one fresh process's result, matmul GFLOP of one call)
        f"forward n={n} d={d}": (
            lambda kept: run_child(n, d, False, kept),
            matmul_flops(ModelConfig(), n, d) / 1e9,
        ),
        f"small model's train step ({b} x {rows} rows, d={small_d})": (
            lambda kept: _child_json(
                [sys.executable, __file__, "--small-step-child", str(int(kept))]
            ),
            3 * b * matmul_flops(ModelConfig(**SMALL), rows, small_d) / 1e9,  # fwd + bwd
        ),
    }
    peak = matmul_peak_gflops()
    print(
        f"\nallocator (best of {rounds} processes; page faults per call; "
        f"float32 matmul peak {peak:.0f} GFLOP/s)"
    )
    for name, (run, gflop) in runs.items():
        results: dict[bool, list[dict]] = {False: [], True: []}
        for _ in range(rounds):
            for kept in (False, True):
                results[kept].append(run(kept))
        best = {k: min(v, key=lambda r: r["warm_s"]) for k, v in results.items()}
        cells = {
            k: f"{r['warm_s']:.3f} s ({gflop / r['warm_s']:.0f} GFLOP/s, "
            f"{gflop / r['warm_s'] / peak:.0%} of peak) and {r['faults']:,} faults"
            for k, r in best.items()
        }
        print(
            f"{name}, {gflop:.1f} GFLOP: glibc default {cells[False]}, kept heap {cells[True]}: "
            f"{best[False]['warm_s'] / best[True]['warm_s']:.2f}x"
        )


def grid(ns: list[int], ds: list[int], plain_limit_gib: float) -> None:
    print("\n| n | d | GFLOP | path | first [s] | warm [s] | GFLOP/s | peak RSS [GiB] |")
    print("|---|---|---|---|---|---|---|---|")
    for d in ds:
        for n in ns:
            gflop = matmul_flops(ModelConfig(), n, d) / 1e9
            for blockwise in (False, True):
                if not blockwise and 8 * n * n * 4 / 2**30 > plain_limit_gib:
                    print(
                        f"| {n} | {d} | {gflop:.0f} | plain | skipped (logits > {plain_limit_gib} GiB) | | | |"
                    )
                    continue
                r = run_child(n, d, blockwise)
                name = "blockwise" if blockwise else "plain"
                print(
                    f"| {n} | {d} | {gflop:.0f} | {name} | {r['first_s']:.2f} | {r['warm_s']:.2f} | "
                    f"{gflop / r['warm_s']:.0f} | {r['peak_rss_gib']:.2f} |",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="n in {200, 1000}, d = 20 only")
    parser.add_argument("--ref-python", default="/work/avici-ref-venv/bin/python")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--skip-allocator", action="store_true")
    parser.add_argument("--plain-limit-gib", type=float, default=4.0)
    parser.add_argument("--child", nargs=4, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--small-step-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child[:2], *map(bool, args.child[2:]))
        return
    if args.small_step_child is not None:
        small_step_child(bool(args.small_step_child))
        return
    keep_freed_memory()  # ours as the CLI runs it
    logging.basicConfig(level=logging.INFO)
    print(f"load average before: {os.getloadavg()}, CPUs: {os.cpu_count()}, jax {jax.__version__}")
    if not args.skip_reference:
        reference(args.ref_python, 1000, 20)
    if not args.skip_allocator:
        allocator_comparison(1000, 20)
    if not args.skip_grid:
        ns, ds = ([200, 1000], [20]) if args.quick else ([200, 1000, 5000, 10000], [20, 51, 100])
        grid(ns, ds, args.plain_limit_gib)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
