"""Run one method in its own process with a hard timeout and thread limits.

The method runs in a fresh ``spawn`` process: a crash, an exception or a hang becomes a
``failed``/``timeout`` prediction and the caller goes on. Thread-count variables are set before
the child starts, so numpy/BLAS, XLA and friends pick them up at import.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing as mp
import os
import random
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from avici_core.baselines.implementations import Implementation, get_implementation
from avici_core.baselines.prediction import Prediction, failed_prediction, from_output
from avici_core.baselines.preprocess import standardize
from avici_core.data.dataset import check_observations

log = logging.getLogger(__name__)

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "RAYON_NUM_THREADS",
)
GRACE_S = 5.0  # how long a child may take to exit after it sent its result


def thread_env(threads: int) -> dict[str, str]:
    """Environment that caps every threaded runtime the methods use at ``threads``."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    env = {k: str(threads) for k in THREAD_VARS}
    eigen = "false" if threads == 1 else "true"
    env["XLA_FLAGS"] = (
        f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"
    )
    env["TQDM_DISABLE"] = "1"
    return env


@contextlib.contextmanager
def _patched_environ(env: Mapping[str, str]) -> Iterator[None]:
    """Temporarily set variables so a spawned child inherits them at start."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _child(
    conn: Connection,
    impl: Implementation,
    x: np.ndarray,
    mask: np.ndarray,
    kwargs: dict[str, Any],
    seed: int,
    threads: int,
) -> None:
    """Child entry point: seed every global RNG the packages use, call, send the outcome."""
    from threadpoolctl import threadpool_limits

    random.seed(seed)  # GRaSP/BOSS and causaldag draw from Python's random
    np.random.seed(seed % 2**32)  # causaldag also uses NumPy's global state
    start = time.perf_counter()
    try:
        for module in impl.preload:  # package import time is not the method's run time
            importlib.import_module(module)
        start = time.perf_counter()
        with threadpool_limits(limits=threads):
            out = impl.fn(np.random.default_rng(seed), x, mask, **kwargs)
        conn.send(("ok", out, time.perf_counter() - start))
    except BaseException as exc:
        logging.getLogger(__name__).error("%s failed:\n%s", impl.name, traceback.format_exc())
        conn.send(("failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - start))
    finally:
        conn.close()


def _context(
    impl: Implementation, hparams: Mapping[str, Any], truth: np.ndarray | None
) -> dict[str, Any]:
    """Caller-side inputs a wrapper declared (true edge count, true graph for bootstrap)."""
    extra: dict[str, Any] = {}
    if "n_edges" in impl.context and "n_edges" not in hparams:
        if truth is None:
            raise ValueError(
                f"{impl.name} needs the true edge count: pass truth= or hparams n_edges"
            )
        extra["n_edges"] = int((np.asarray(truth) != 0).sum())
    if "truth" in impl.context and truth is not None:
        extra["truth"] = (np.asarray(truth) != 0).astype(np.int8)
    return extra


def run(
    method: str | Implementation | Callable[..., Any],
    data: np.ndarray,
    interv_mask: np.ndarray | None,
    hparams: Mapping[str, Any],
    seed: int,
    timeout_s: float,
    *,
    threads: int = 1,
    is_count_data: bool = False,
    truth: np.ndarray | None = None,
) -> Prediction:
    """Run ``method`` on ``data [n, d]`` and return its prediction (never raises for method errors).

    Args:
      method: an implementation name (``pc``, ``bootstrap-ges``, ...), an ``Implementation`` or a
        plain wrapper function ``fn(rng, x, mask, **hparams)``.
      data: raw observations [n, d]; standardized here unless the implementation wants raw values.
      interv_mask: [n, d] 0/1 (None = all observational). Observational methods see pooled rows.
      truth: the true graph [d, d], used only for the random reference's edge count and the
        bootstrap's semi-oracle orientation of CPDAG resamples.

    Raises:
      ValueError: bad input data, mask, threads or an unknown method, before any process starts.
    """
    impl = _resolve(method)
    x = np.asarray(data)
    mask = np.zeros(x.shape, np.int8) if interv_mask is None else np.asarray(interv_mask)
    check_observations(x, mask)
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")
    x_in = standardize(x, is_count_data=is_count_data) if impl.standardize else x.astype(np.float64)
    kwargs = {**dict(hparams), **_context(impl, hparams, truth)}
    env = thread_env(threads)  # validates threads
    meta = {
        "implementation": impl.name,
        "seed": int(seed),
        "threads": int(threads),
        "timeout_s": float(timeout_s),
        "n_rows": int(x.shape[0]),
    }

    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child,
        args=(sender, impl, x_in, mask.astype(np.int8), kwargs, int(seed), int(threads)),
        daemon=True,
    )
    start = time.perf_counter()
    with _patched_environ(env):
        proc.start()
    sender.close()
    try:
        return _collect(proc, receiver, start, timeout_s, x.shape[1], meta)
    finally:
        receiver.close()
        if proc.is_alive():
            proc.kill()
        proc.join()


def _resolve(method: str | Implementation | Callable[..., Any]) -> Implementation:
    if isinstance(method, Implementation):
        return method
    if isinstance(method, str):
        return get_implementation(method)
    if callable(method):
        return Implementation(name=getattr(method, "__qualname__", repr(method)), fn=method)
    raise ValueError(f"method must be a name, an Implementation or a callable, got {type(method)}")


def _collect(
    proc: mp.process.BaseProcess,
    receiver: Connection,
    start: float,
    timeout_s: float,
    d: int,
    meta: dict[str, Any],
) -> Prediction:
    """Wait for the child's message or its death, whichever comes first, up to the deadline."""
    ready = receiver.poll(timeout_s)
    elapsed = time.perf_counter() - start
    if not ready:
        proc.kill()
        log.warning("%s timed out after %.1f s", meta["implementation"], timeout_s)
        return failed_prediction(
            d, "timeout", f"timeout: no result after {timeout_s:g} s", elapsed, meta
        )
    try:
        status, payload, walltime = receiver.recv()
    except EOFError:  # the child died without a message (segfault, OOM kill, os._exit)
        proc.join(GRACE_S)
        return failed_prediction(
            d, "failed", f"process died with exit code {proc.exitcode}", elapsed, meta
        )
    proc.join(GRACE_S)
    if status != "ok":
        log.warning("%s failed: %s", meta["implementation"], payload)
        return failed_prediction(d, "failed", payload, walltime, meta)
    try:
        return from_output(payload, walltime, meta)
    except ValueError as exc:  # malformed output is the method's failure, not the caller's
        return failed_prediction(d, "failed", f"invalid output: {exc}", walltime, meta)
