"""Speed of the image track's parts, as ratios against references measured in the same run.

Run: ``JAX_PLATFORMS=cpu python benchmarks/bench_cgm.py [--steps 10]``. References: sprite
rendering (for the other renderers) and one jitted CVAE step at 32x32, batch 128 (for the
hierarchical VAE, the 64x64 CVAE and the counterfactual-training step). Compilation is excluded.
"""

from __future__ import annotations

import argparse
import logging
import time

import jax
import numpy as np

from avici_core.cgm import evaluate, mechanisms, oracle, scm, vae

log = logging.getLogger("bench_cgm")


def render_seconds(name: str, n: int) -> float:
    dom = scm.make_domain(name, seed=0)
    u, v = dom.sample_noise(np.random.default_rng(0), n)
    a = dom.propagate(u)
    t = time.perf_counter()
    dom.render(a, v)
    return time.perf_counter() - t


def step_seconds(cfg: vae.VAEConfig, size: int, steps: int, cf: bool = False) -> float:
    """Seconds per training step after a compile-only warm-up run."""
    dom = scm.make_domain("sprites_scm", size=size)
    s = dom.sample(np.random.default_rng(0), 512)
    pa = evaluate.features(dom.attributes, s.a)

    def run(n_steps: int) -> float:
        c = vae.VAEConfig(**{**cfg.__dict__, "steps": n_steps, "cf_steps": n_steps if cf else 0})
        t = time.perf_counter()
        model, bound = vae.train(jax.random.PRNGKey(0), np.random.default_rng(0), c, s.x, pa)
        if cf:
            orc = oracle.train(
                jax.random.PRNGKey(1),
                np.random.default_rng(1),
                oracle.OracleSpec(dom.attributes, 8),
                s.x,
                s.a,
                steps=1,
                batch=8,
            )
            t = time.perf_counter()
            vae.train_counterfactual(
                jax.random.PRNGKey(2),
                np.random.default_rng(2),
                model,
                orc,
                s.x,
                pa,
                pa[::-1],
                s.a[::-1],
                bound=bound,
            )
        return time.perf_counter() - t

    run(1)  # the compile lands in both runs; the difference is pure steps
    return (run(steps + 1) - run(1)) / steps


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    n = 2000
    ref = render_seconds("sprites_scm", n)
    print(f"render {n} images, sprites_scm (reference): {ref:.3f} s")
    for name in ("dsprites_grid", "digits_scm", "scene_scm", "sprites_randdag"):
        print(f"render {name}: {render_seconds(name, n) / ref:.1f}x sprites_scm")
    dom = scm.make_domain("sprites_scm")
    a = dom.sample(np.random.default_rng(0), 5000).a
    t = time.perf_counter()
    mechanisms.fit(jax.random.PRNGKey(0), dom.attributes, dom.graph, a, steps=600)
    print(
        f"parent-mechanism fit, 5000 rows, 600 steps (with compile): {time.perf_counter() - t:.1f} s"
    )
    base = vae.VAEConfig(width=16, z_dim=8, batch=128)
    ref = step_seconds(base, 32, args.steps)
    print(f"CVAE step 32x32 batch 128 (reference): {1e3 * ref:.0f} ms ({128 / ref:.0f} images/s)")
    rows = {
        "HVAE (2 levels) 32x32": step_seconds(
            vae.VAEConfig(width=16, z_dim=8, batch=128, levels=2), 32, args.steps
        ),
        "CVAE 64x64": step_seconds(base, 64, args.steps),
        "counterfactual-training step 32x32": step_seconds(base, 32, args.steps, cf=True),
    }
    for name, sec in rows.items():
        print(f"{name}: {sec / ref:.2f}x the reference step ({1e3 * sec:.0f} ms)")


if __name__ == "__main__":
    main()
