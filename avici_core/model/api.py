"""Inference: ``load_model(path_or_name)(x, interv) -> edge probabilities``.

Shapes: ``x, interv [n, d]`` or ``[B, n, d]``; output ``[d, d]`` or ``[B, d, d]`` with
``out[..., i, j]`` the probability of the edge i -> j.

Inputs are checked in numpy before anything is compiled. One compiled executable is cached per
input shape; the compile time of the last call is kept in ``last_compile_s`` so callers can
report compile and run time separately.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from avici_core.config import SHIPPED_MODELS
from avici_core.data.standardize import nonparanormal, standardize
from avici_core.dataset import MIN_ROWS, check_observations
from avici_core.model import checkpoint as ckpt
from avici_core.model.network import EXECUTION_KEYS, InputValues, ModelConfig, make_network
from avici_core.model.official import load_official
from avici_core.types import Params

log = logging.getLogger(__name__)

MODELS_DIR = SHIPPED_MODELS  # where load_model finds a model given by name


class AviciModel:
    """A trained AVICI network with its parameters; call it on data to get edge probabilities."""

    def __init__(
        self,
        params: Params,
        config: ModelConfig,
        *,
        expects_counts: bool = False,
        train_n_vars: tuple[int, ...] = (),
        threshold: float | None = None,
    ):
        self.params = jax.tree_util.tree_map(jnp.asarray, params)
        self.config = config
        self.expects_counts = expects_counts
        self.train_n_vars = tuple(train_n_vars)  # the sizes d it was trained on (() = unknown)
        # decision threshold chosen on validation data (stored with the model; None: not chosen)
        self.threshold = threshold
        self.last_compile_s = 0.0
        self._net = make_network(config, standardize_input=False)
        self._compiled: dict[tuple[int, ...], jax.stages.Compiled] = {}

    def _executable(self, shape: tuple[int, ...]) -> jax.stages.Compiled:
        if shape not in self._compiled:
            start = time.perf_counter()

            def probs(params: Params, x: jax.Array) -> jax.Array:
                logits = self._net.apply(params, None, x, self.expects_counts, False)
                return jax.nn.sigmoid(logits)  # masked diagonal: sigmoid(-inf) = 0

            spec = jax.ShapeDtypeStruct(shape, jnp.float32)
            self._compiled[shape] = jax.jit(probs).lower(self.params, spec).compile()
            self.last_compile_s = time.perf_counter() - start
        else:
            self.last_compile_s = 0.0
        return self._compiled[shape]

    def __call__(
        self,
        x: np.ndarray,
        interv: np.ndarray | None = None,
        *,
        return_probs: bool = True,
        source: str = "data",
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Edge probabilities (or the graph thresholded at 0.5) for one or a batch of datasets.

        Args:
          x: ``[n, d]`` or ``[B, n, d]`` raw (unstandardized) observations.
          interv: optional 0/1 mask of the same shape, 1 where a value was set by intervention.
          return_probs: ``False`` returns ``int8`` graphs ``probs > 0.5`` instead.
          source, names: where the data came from and its column names, for refusal messages.
        """
        batch = check_model_input(
            x,
            interv,
            expects_counts=self.expects_counts,
            input_values=self.config.input_values,
            source=source,
            names=names,
        )
        self._warn_outside_training_range(batch.shape[-2], source)
        executable = self._executable(batch.shape)
        check_memory(executable, batch.shape, source=source, fits=self._fits)  # [B, n, d, C]
        probs = np.asarray(executable(self.params, batch), dtype=np.float64)
        if np.ndim(x) == 2:
            probs = probs[0]
        return probs if return_probs else (probs > self.graph_threshold).astype(np.int8)

    @property
    def graph_threshold(self) -> float:
        """The validated decision threshold, or 0.5 for a model that stores none."""
        return 0.5 if self.threshold is None else self.threshold

    def _warn_outside_training_range(self, d: int, source: str) -> None:
        if self.train_n_vars and not min(self.train_n_vars) <= d <= max(self.train_n_vars):
            log.warning(
                "%s: %d variables, outside the range this model was trained on (d = %d..%d); "
                "expect lower accuracy",
                source,
                d,
                min(self.train_n_vars),
                max(self.train_n_vars),
            )

    def _fits(self, shape: tuple[int, ...]) -> bool:
        """Whether a forward pass of ``shape`` fits the memory available now (compiles it)."""
        return memory_needed(self._executable(shape)) <= memory_available()


def memory_needed(executable: jax.stages.Compiled) -> int:
    """Bytes a compiled forward pass allocates: XLA's buffer assignment (arguments, outputs,
    temporaries), known once compiled and before anything runs."""
    stats = executable.memory_analysis()
    if stats is None:  # a backend without the analysis: assume it fits
        return 0
    return int(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes)


def memory_available() -> int:
    """Free bytes on the default device: free accelerator memory, else the host's available RAM
    (``MemAvailable``, capped by a cgroup limit such as a SLURM job's)."""
    device = jax.local_devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        meminfo = Path("/proc/meminfo").read_text().split("\n")
        line = next(x for x in meminfo if x.startswith("MemAvailable:"))
        available = int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        if limit != "max":
            available = min(available, int(limit) - used)
    except (OSError, ValueError):
        pass
    return available


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def check_memory(
    executable: jax.stages.Compiled,
    shape: tuple[int, ...],
    *,
    source: str,
    fits: Callable[[tuple[int, ...]], bool],
) -> None:
    """Refuse a forward pass that would not fit, naming the largest row count that does.

    The largest n is found by shrinking n in proportion to the memory it needs and confirming
    with ``fits`` (which compiles that size); refusals only, so the search costs nothing on data
    that fits.
    """
    needed, available = memory_needed(executable), memory_available()
    if needed <= available:
        return
    n = shape[-3]
    largest = max(1, int(n * available / needed * 0.9))
    while largest > MIN_ROWS and not fits((*shape[:-3], largest, *shape[-2:])):
        largest = int(largest * 0.8)
    raise MemoryError(
        f"{source}: {n} rows x {shape[-2]} variables need about {_size(needed)}, "
        f"{_size(available)} are available; pass --max-rows {largest} (a random subset of "
        f"rows; about the largest n that fits) or run on a machine with more memory"
    )


def check_model_input(
    x: np.ndarray,
    interv: np.ndarray | None,
    *,
    expects_counts: bool = False,
    input_values: InputValues = "zscore",
    source: str = "data",
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Validate, standardize in float64 and stack into the network input ``[B, n, d, C]`` float32:
    the value channel, the intervention mask, then normal scores if ``input_values`` asks (as
    ``network.standardize`` orders them).

    Standardizing before the cast makes the output independent of each column's units (an offset
    of 1e7 or a scale of 1e30 changes nothing) and finite for any finite input. Raises
    ValueError (see :func:`avici_core.dataset.check_observations`) for data no method can use.
    """
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"{source}: x must be [n, d] or [B, n, d], got shape {x.shape}")
    xs = x[None] if x.ndim == 2 else x
    if interv is None:
        masks = np.zeros(xs.shape, np.int8)
    else:
        masks = np.asarray(interv)
        masks = masks[None] if masks.ndim == 2 else masks
        if masks.shape[0] != xs.shape[0]:
            raise ValueError(f"{source}: {masks.shape[0]} mask(s) for {xs.shape[0]} dataset(s)")
    for b in range(xs.shape[0]):
        check_observations(
            xs[b], masks[b], source=source, names=names, zero_columns_ok=expects_counts
        )
    if expects_counts and not np.all(np.mod(xs, 1) == 0):
        log.warning("this model expects count data, but x is not integer-valued")
    if input_values == "normal_scores":
        values = np.stack([nonparanormal(xb) for xb in xs])
    else:
        values = np.stack([standardize(xb, is_count_data=expects_counts) for xb in xs])
    channels = [values, masks]
    if input_values == "zscore+normal_scores":
        channels.append(np.stack([nonparanormal(xb) for xb in xs]))
    return np.stack(channels, axis=-1).astype(np.float32)


def resolve_model_path(path_or_name: str | os.PathLike) -> Path:
    """An existing directory, or a bare name looked up as ``<repo>/models/<name>/``."""
    path = Path(path_or_name)
    if path.is_dir():
        return path
    if len(path.parts) == 1 and (MODELS_DIR / path).is_dir():
        return MODELS_DIR / path
    raise ValueError(
        f"no model at {str(path)!r}: pass a model directory or the name of a folder in {MODELS_DIR}"
    )


def load_model(
    path_or_name: str | os.PathLike, *, use_polyak: bool = False, expects_counts: bool | None = None
) -> AviciModel:
    """Load our checkpoint format (``config.json`` + ``checkpoint_*.npz``) or the original's
    (``kwargs.json`` + ``checkpoint_*.pkl``, read without executing pickled code).

    Args:
      path_or_name: model directory or a name under ``<repo>/models/``.
      use_polyak: use the Polyak-averaged parameters of our checkpoints (default: raw params,
        as the original's loader does).
      expects_counts: count-data standardizer; defaults to the model's own record (``False``
        for original checkpoints, whose files do not record it).
    """
    directory = resolve_model_path(path_or_name)
    if (directory / ckpt.CONFIG_FILE).exists():
        record = ckpt.read_json(directory / ckpt.CONFIG_FILE)
        # a stored row_block / row_chunk is how it ran when saved; today's defaults apply
        stored = {k: v for k, v in record["model"].items() if k not in EXECUTION_KEYS}
        config = ModelConfig.from_dict(stored)
        trees, meta = ckpt.load_checkpoint(directory)
        name = "ave_params" if use_polyak else "params"
        if name not in trees:
            raise ValueError(f"{directory}: checkpoint step {meta['step']} has no {name}")
        params = ckpt.unflatten_params(trees[name])
        counts = bool(record.get("expects_counts", False))
        train_n_vars = tuple(record.get("train", {}).get("n_vars", ()))
        threshold = record.get("threshold")
    elif (directory / "kwargs.json").exists():
        config, params, _ = load_official(directory)
        counts, train_n_vars, threshold = False, (2, 5, 10, 20, 30, 40, 50), None  # avici.md §2
    else:
        raise ValueError(
            f"{directory}: neither {ckpt.CONFIG_FILE} (ours) nor kwargs.json (original)"
        )
    model = AviciModel(
        params,
        config,
        expects_counts=counts if expects_counts is None else expects_counts,
        train_n_vars=train_n_vars,
        threshold=threshold,
    )
    check_params_match(model)
    return model


def check_params_match(model: AviciModel) -> None:
    """Refuse parameters whose names/shapes differ from the network the config builds."""
    expected = jax.eval_shape(
        lambda: model._net.init(
            jax.random.key(0), jnp.zeros((1, 2, 2, model.config.input_channels)), False, False
        )
    )
    want, have = _shapes(expected), _shapes(model.params)
    if want != have:
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        wrong = sorted(k for k in set(want) & set(have) if want[k] != have[k])
        raise ValueError(
            f"parameters do not match the model config: missing {missing[:5]}, unexpected "
            f"{extra[:5]}, wrong shape {wrong[:5]}"
        )


def _shapes(params: Params) -> dict[str, tuple[int, ...]]:
    return {f"{m}/{n}": tuple(a.shape) for m, leaves in params.items() for n, a in leaves.items()}
