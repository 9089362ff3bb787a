"""Run a method in its own process with a hard timeout and thread limits.

The method runs in a fresh ``spawn`` process: a crash, an exception or a hang becomes a
``failed``/``timeout`` prediction and the caller goes on. Thread-count variables are set before
the child starts, so numpy/BLAS, XLA and friends pick them up at import. ``run_many`` serves
several datasets from one child (one import, one model load), each with its own timeout.

The datasets reach the child through a temporary file, not the process start-up pipe: a child
that dies or hangs before reading its task then cannot block the parent, and the timeout covers
the whole exchange from the child's start to its last answer.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing as mp
import os
import pickle
import random
import tempfile
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from avici_core.baselines.implementations import Implementation, get_implementation
from avici_core.data.standardize import transform_for_method
from avici_core.dataset import check_observations
from avici_core.prediction import Prediction, failed_prediction, from_output
from avici_core.seeds import seed_stream

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


def _child(conn: Connection, impl: Implementation, items_path: str, threads: int) -> None:
    """Child entry point: for each (x, mask, kwargs, seed) in the file at ``items_path`` seed every
    global RNG the packages use, call, send the outcome. One child serves a whole batch, so
    imports and caches are paid once."""
    from threadpoolctl import threadpool_limits

    logger = logging.getLogger(__name__)
    try:
        with open(items_path, "rb") as f:
            items = pickle.load(f)  # our own file, written by the parent a moment ago
        try:
            for module in impl.preload:  # package import time is not the method's run time
                importlib.import_module(module)
        except BaseException as exc:
            logger.error("%s failed:\n%s", impl.name, traceback.format_exc())
            for _ in items:
                conn.send(("failed", f"{type(exc).__name__}: {exc}", 0.0))
            return
        for x, mask, kwargs, seed in items:
            random.seed(seed)  # GRaSP/BOSS and causaldag draw from Python's random
            np.random.seed(seed % 2**32)  # causaldag also uses NumPy's global state
            start = time.perf_counter()
            try:
                with threadpool_limits(limits=threads):
                    out = impl.fn(seed_stream(seed), x, mask, **kwargs)
                conn.send(("ok", out, time.perf_counter() - start))
            except BaseException as exc:
                logger.error("%s failed:\n%s", impl.name, traceback.format_exc())
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


@dataclass(frozen=True)
class Task:
    """One dataset for :func:`run_many`: raw rows [n, d], the interventional mask [n, d] (None = all
    observational), the seed, and what the caller knows about it (count data, the true graph)."""

    data: np.ndarray
    interv_mask: np.ndarray | None
    seed: int
    is_count_data: bool = False
    truth: np.ndarray | None = None
    source: str = "data"  # where the data came from (a file name), for refusal messages
    transform: str = "zscore"  # what a standardizing method sees (see data.standardize)


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
    task = Task(data, interv_mask, seed, is_count_data, truth)
    return run_many(method, [task], hparams, timeout_s, threads=threads)[0]


def run_many(
    method: str | Implementation | Callable[..., Any],
    tasks: Sequence[Task],
    hparams: Mapping[str, Any],
    timeout_s: float,
    *,
    threads: int = 1,
) -> list[Prediction]:
    """:func:`run` on several datasets, served in order by one child process, so that imports and
    in-process caches (a loaded, compiled AVICI model) are paid once per batch, not per dataset.

    Each task has its own ``timeout_s`` (the first one's includes the child's start-up). A task that
    times out or kills the child is recorded as failed, and a fresh child takes the remaining ones.

    Raises:
      ValueError: bad input in any task, threads or an unknown method, before any process starts.
    """
    impl = _resolve(method)
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")
    env = thread_env(threads)  # validates threads
    prepared = [_prepare(impl, task, hparams, threads, timeout_s) for task in tasks]
    predictions: list[Prediction] = []
    while len(predictions) < len(prepared):
        predictions += _serve(impl, prepared[len(predictions) :], timeout_s, threads, env)
    return predictions


def check_task(
    method: str | Implementation | Callable[..., Any], task: Task, hparams: Mapping[str, Any]
) -> None:
    """Raise the ValueError :func:`run_many` would raise for ``task``, without running anything."""
    _prepare(_resolve(method), task, hparams, threads=1, timeout_s=1.0)


Prepared = tuple[tuple[np.ndarray, np.ndarray, dict[str, Any], int], int, dict[str, Any]]


def _prepare(
    impl: Implementation,
    task: Task,
    hparams: Mapping[str, Any],
    threads: int,
    timeout_s: float,
) -> Prepared:
    """Validate one task and turn it into the child's (x, mask, kwargs, seed), its d and its meta."""
    x = np.asarray(task.data)
    mask = np.zeros(x.shape, np.int8) if task.interv_mask is None else np.asarray(task.interv_mask)
    check_observations(
        x, mask, source=task.source, zero_columns_ok=task.is_count_data and impl.zero_columns_ok
    )
    if impl.needs_interventions and not mask.any():
        raise ValueError(
            f"{task.source}: no interventional rows (the mask is all 0); {impl.name} needs "
            "interventional data: run it in the int setting or give a mask with intervened values"
        )
    x_in = (
        transform_for_method(x, is_count_data=task.is_count_data, transform=task.transform)
        if impl.standardize
        else x.astype(np.float64)
    )
    kwargs = {**dict(hparams), **_context(impl, hparams, task.truth)}
    meta = {
        "implementation": impl.name,
        "seed": int(task.seed),
        "threads": int(threads),
        "timeout_s": float(timeout_s),
        "n_rows": int(x.shape[0]),
    }
    return (x_in, mask.astype(np.int8), kwargs, int(task.seed)), x.shape[1], meta


def _serve(
    impl: Implementation,
    batch: Sequence[Prepared],
    timeout_s: float,
    threads: int,
    env: Mapping[str, str],
) -> list[Prediction]:
    """One child for ``batch``: its predictions in order, until it is done, times out or dies (at
    least one prediction, so the caller always makes progress)."""
    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    fd, items_path = tempfile.mkstemp(prefix="avici-core-task-", suffix=".pkl")
    with os.fdopen(fd, "wb") as f:
        pickle.dump([item for item, _, _ in batch], f, protocol=pickle.HIGHEST_PROTOCOL)
    proc = ctx.Process(target=_child, args=(sender, impl, items_path, threads), daemon=True)
    predictions: list[Prediction] = []
    start = time.perf_counter()
    try:
        try:
            with _patched_environ(env):
                proc.start()
        except OSError as exc:  # e.g. the child died while the parent handed it its start-up data
            _, d, meta = batch[0]
            message = f"process could not start: {type(exc).__name__}: {exc}"
            return [failed_prediction(d, "failed", message, time.perf_counter() - start, meta)]
        finally:
            sender.close()
        for _, d, meta in batch:
            prediction, serving = _collect(proc, receiver, start, timeout_s, d, meta)
            predictions.append(prediction)
            if not serving:
                break
            start = time.perf_counter()
        else:
            proc.join(GRACE_S)
    finally:
        receiver.close()
        if proc.is_alive():
            proc.kill()
        if proc.pid is not None:
            proc.join()
        os.unlink(items_path)
    return predictions


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
) -> tuple[Prediction, bool]:
    """Wait for the child's next message or its death, whichever comes first, up to the deadline.

    Returns the prediction and whether the child is still there to serve the next task."""
    ready = receiver.poll(timeout_s)
    elapsed = time.perf_counter() - start
    if not ready:
        proc.kill()
        log.warning("%s timed out after %.1f s", meta["implementation"], timeout_s)
        message = f"timeout: no result after {timeout_s:g} s"
        return failed_prediction(d, "timeout", message, elapsed, meta), False
    try:
        status, payload, walltime = receiver.recv()
    except EOFError:  # the child died without a message (segfault, OOM kill, os._exit)
        proc.join(GRACE_S)
        message = f"process died with exit code {proc.exitcode}"
        return failed_prediction(d, "failed", message, elapsed, meta), False
    if status != "ok":
        log.warning("%s failed: %s", meta["implementation"], payload)
        return failed_prediction(d, "failed", payload, walltime, meta), True
    try:
        return from_output(payload, walltime, meta), True
    except ValueError as exc:  # malformed output is the method's failure, not the caller's
        return failed_prediction(d, "failed", f"invalid output: {exc}", walltime, meta), True
