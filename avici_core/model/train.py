"""Training loop (spec §2): LAMB with clipping, equal-nvars curriculum, per-d batch sizes,
data-parallel over all local devices, Polyak average, dual acyclicity schedule, checkpoints.

Shapes: batch ``x [B, n, d, 2]`` with ``B = n_devices * bs(d)`` sharded over devices along B,
``g [B, d, d]``, ``is_count [B]``.

A run in ``out`` resumes from its latest checkpoint; with the same seed on CPU it reaches the
same parameters as an uninterrupted run (data are a pure function of the seed and the step, see
``pool.py``; the step's PRNG key is ``fold_in(key(seed), step)``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import platform
import time
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from sklearn.metrics import auc, f1_score, precision_recall_curve, roc_auc_score
from tqdm import tqdm

from avici_core.io import write_text
from avici_core.metrics.prob_metrics import probability_row_column_share
from avici_core.model import checkpoint as ckpt
from avici_core.model.loss import (
    DualConfig,
    DualState,
    edge_bce,
    init_dual,
    total_loss,
    update_dual,
)
from avici_core.model.network import ModelConfig, is_pair_head, make_network
from avici_core.model.pool import DataPools, PoolSpec, make_dataset, sample_rows
from avici_core.seeds import seed_stream
from avici_core.types import Params

log = logging.getLogger(__name__)

MODEL_KEYS = (
    "dim",
    "layers",
    "num_heads",
    "key_size",
    "widening",
    "dropout",
    "attention_axes",
    "relational_head",
    "pair_statistics",
    "input_values",
)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters; defaults are the paper's (spec §2.1–2.3).

    Attributes:
      domains: registered training domains, mixed uniformly per dataset.
      registry: domain registry file (``None``: the shipped ``config/domains.yaml``).
      n_vars: training sizes d; one d per step (equal-nvars curriculum).
      n_steps: total optimizer steps.
      batch_size_unit: bsu; datasets per device at d are ``floor(0.1 + bsu (1 - e^{-0.1 d}) / d)``.
      lr_base: base learning rate, scaled by ``sqrt(max_d global batch size)``.
      lr_boundaries, lr_decay: piecewise-constant schedule (multiply by ``lr_decay`` at each).
      lr_warmup: steps of linear warm-up from 0 to the scheduled rate (0: none, as in the paper).
      n_obs_train, n_int_train, p_obs_only: rows per training dataset (150 obs + 50 int, or with
        probability ``p_obs_only`` per device shard all 200 observational).
      pool_n_obs, pool_n_int, pool_size, fresh_per_step: pooled datasets' rows, datasets per
        d-pool, and new datasets entering d's pool per step at d.
      dropout, acyclicity, mask_diag, dim, layers, num_heads, key_size, widening,
        attention_axes, relational_head, pair_statistics, input_values: model and loss (see
        ``ModelConfig``, ``loss.py``).
      polyak: step size of the parameter average.
      checkpoint_every, keep_checkpoints, eval_every, log_every: in steps.
      val_n_vars, val_n_datasets: fixed validation sets (per d).
      seed: the only source of randomness.
      n_workers: data-generating processes (0: generate in the training process).
      init_from: a model folder (an exported model or a training run) whose parameters start
        this run (a warm start: the optimizer, step and data stream start fresh); its network
        must have this config's shapes, except that an input channel this config adds
        (``input_values``) starts with zero weights, so a z-score source warm-starting a
        ``zscore+normal_scores`` run starts as the source's function, and a pair-statistics head
        the source lacks (``pair_statistics``) starts fresh with its output layer at zero, so
        the run again starts as the source's function. ``None``: random initialisation.
      mixed_precision: the dense layers multiply bfloat16 inputs with float32 accumulation;
        parameters, attention, layer norms and loss stay float32 (``network.bf16_matmuls``);
        inference of the trained model stays float32.
      max_minutes: wall-clock budget of one training process (``None``: none); when it is spent
        the run validates, checkpoints and finishes as if ``n_steps`` were reached, so a job can
        be sized to a cluster slot.
    """

    domains: tuple[str, ...] = ("neurips-linear",)
    registry: str | None = None
    n_vars: tuple[int, ...] = (2, 5, 10, 20, 30, 40, 50)
    n_steps: int = 300_000
    batch_size_unit: int = 300
    lr_base: float = 3e-5
    lr_boundaries: tuple[int, ...] = (200_000, 300_000)
    lr_decay: float = 0.1
    lr_warmup: int = 0
    n_obs_train: int = 150
    n_int_train: int = 50
    p_obs_only: float = 0.5
    pool_n_obs: int = 600
    pool_n_int: int = 200
    pool_size: int = 200
    fresh_per_step: int = 4
    dropout: float = 0.0
    acyclicity: str = "dual"
    mask_diag: bool = True
    dim: int = 128
    layers: int = 8
    num_heads: int = 8
    key_size: int = 32
    widening: int = 4
    attention_axes: str = "both"
    relational_head: bool = False
    pair_statistics: bool = False
    input_values: str = "zscore"
    polyak: float = 1e-3
    checkpoint_every: int = 10_000
    keep_checkpoints: int = 3
    eval_every: int = 15_000
    log_every: int = 100
    val_n_vars: tuple[int, ...] = (20,)
    val_n_datasets: int = 16
    seed: int = 0
    n_workers: int = 4
    max_minutes: float | None = None
    mixed_precision: bool = False
    init_from: str | None = None

    def __post_init__(self) -> None:
        if not self.domains:
            raise ValueError("train config: domains must list at least one registered domain")
        if min(self.n_vars, default=0) < 2:
            raise ValueError(f"train config: n_vars must be >= 2, got {list(self.n_vars)}")
        if self.acyclicity not in ("dual", "none"):
            raise ValueError(
                f"train config: acyclicity must be 'dual' or 'none', got {self.acyclicity!r}"
            )
        if (
            self.pool_n_obs < self.n_obs_train + self.n_int_train
            or self.pool_n_int < self.n_int_train
        ):
            raise ValueError("train config: pool_n_obs/pool_n_int must cover the training rows")
        if self.lr_warmup < 0:
            raise ValueError(f"train config: lr_warmup must be >= 0, got {self.lr_warmup}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"train config: max_minutes must be > 0, got {self.max_minutes}")
        if not 0.0 <= self.p_obs_only <= 1.0:
            raise ValueError(f"train config: p_obs_only must be in [0, 1], got {self.p_obs_only}")
        for name in (
            "n_steps",
            "batch_size_unit",
            "pool_size",
            "checkpoint_every",
            "eval_every",
            "log_every",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"train config: {name} must be >= 1")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise ValueError(f"unknown train config key(s) {unknown}; known: {sorted(fields)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    def model_config(self) -> ModelConfig:
        values = {k: getattr(self, k) for k in MODEL_KEYS}
        # As in the original, training without the penalty also predicts the diagonal.
        return ModelConfig(**values, mask_diag=self.mask_diag and self.acyclicity == "dual")


def hardware(jax_devices: list[str]) -> str:
    """What a run trained on: its JAX devices, and the host's CPU model and core count."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    kinds = ", ".join(sorted(set(jax_devices))) or "none"
    return f"{len(jax_devices)} JAX device(s) ({kinds}); CPU {cpu}, {os.cpu_count()} logical cores"


def batch_size_per_device(d: int, bsu: int) -> int:
    """``floor(0.1 + bsu (1 - e^{-0.1 d}) / d)``, at least 1."""
    return max(1, math.floor(0.1 + bsu * (1.0 - math.exp(-0.1 * d)) / d))


def curriculum(n_vars: tuple[int, ...], bsu: int, n_devices: int) -> np.ndarray:
    """Equal-nvars: ``p(d) ∝ d / effective_bs(d)`` (about equal variables per step)."""
    weights = np.array([d / (n_devices * batch_size_per_device(d, bsu)) for d in n_vars])
    return weights / weights.sum()


def make_optimizer(config: TrainConfig, n_devices: int) -> optax.GradientTransformation:
    """Clip 1.0 -> LAMB with sqrt batch-size scaling, an optional linear warm-up and a
    piecewise-constant schedule (Adam on the same schedule for a pair-statistics head)."""
    max_batch = max(
        n_devices * batch_size_per_device(d, config.batch_size_unit) for d in config.n_vars
    )
    lr = config.lr_base * math.sqrt(max_batch)
    schedule = optax.piecewise_constant_schedule(
        lr, {b: config.lr_decay for b in config.lr_boundaries}
    )
    if config.lr_warmup:
        warmup = config.lr_warmup
        decayed = schedule
        schedule = lambda step: decayed(step) * jnp.minimum(1.0, (step + 1) / warmup)
    lamb = optax.lamb(schedule, weight_decay=0.0)
    if not config.pair_statistics:
        return optax.chain(optax.clip_by_global_norm(1.0), lamb)
    # LAMB scales each update by the parameter's norm, so the pair head's zero-initialised output
    # layer would stay near zero; the head takes Adam (LAMB's moments, without the trust ratio)
    adam = optax.adam(schedule, eps=1e-6)
    labels = lambda params: {
        module: {name: "adam" if is_pair_head(module) else "lamb" for name in leaves}
        for module, leaves in params.items()
    }
    return optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.multi_transform({"lamb": lamb, "adam": adam}, labels),
    )


def _same_schedule_until(old: dict[str, Any], new: dict[str, Any], step: int) -> bool:
    """Whether two train configs' learning-rate schedules agree on steps ``0 .. step``.

    Lets a finished run be extended with a later decay: boundaries past the checkpoint's step
    have not been applied yet, so moving or adding them changes nothing already trained.
    """
    if old.get("lr_decay") != new.get("lr_decay"):
        return False
    applied = lambda cfg: sorted(b for b in cfg.get("lr_boundaries", ()) if b <= step)
    return applied(old) == applied(new)


class TrainState(NamedTuple):
    step: jax.Array  # []
    params: Params
    opt_state: optax.OptState
    ave_params: Params
    dual: DualState


def loss_and_grads_fn(config: TrainConfig, net):
    """``(params, lam, key, x, g, is_count) -> ((loss, aux), grads)``: the training objective.

    ``key`` is the step's key; it splits into the dropout key and the power-iteration key of the
    acyclicity penalty. Kept apart from the update so the fidelity test can compare gradients.
    """
    mask_diag = config.model_config().mask_diag

    def loss_and_grads(params, lam, key, x, g, is_count):
        key_drop, key_pen = jax.random.split(key)

        def loss_fn(params):
            logits = net.apply(params, key_drop, x, is_count, True)
            return total_loss(
                key_pen, logits, g, lam, mask_diag=mask_diag, acyclicity=config.acyclicity
            )

        return jax.value_and_grad(loss_fn, has_aux=True)(params)

    return loss_and_grads


def _step_fn(config: TrainConfig, net, optimizer):
    dual_config = DualConfig()
    loss_and_grads = loss_and_grads_fn(config, net)

    def step(state: TrainState, base_key: jax.Array, x, g, is_count):
        key = jax.random.fold_in(base_key, state.step)
        (loss, aux), grads = loss_and_grads(state.params, state.dual.lam, key, x, g, is_count)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        ave = optax.incremental_update(params, state.ave_params, config.polyak)
        dual = state.dual
        if config.acyclicity == "dual":
            dual = update_dual(dual, aux["penalty"], state.step, dual_config)
        metrics = {**aux, "loss": loss, "grad_norm": optax.global_norm(grads), "lam": dual.lam}
        return TrainState(state.step + 1, params, opt_state, ave, dual), metrics

    return step


def validation_sets(config: TrainConfig) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Fixed validation batches per d from the ``tune`` stream (150 obs + 50 int rows each)."""
    spec = _pool_spec(config)
    rng = seed_stream(config.seed, 7)
    out = {}
    for d in config.val_n_vars:
        pooled = [make_dataset(spec, d, k, stream="tune") for k in range(config.val_n_datasets)]
        x = np.stack(
            [
                sample_rows(
                    rng, ds, n_obs=config.n_obs_train, n_int=config.n_int_train, obs_only=False
                )
                for ds in pooled
            ]
        )
        out[d] = (
            x,
            np.stack([ds["g"] for ds in pooled]),
            np.array([ds["is_count"] for ds in pooled]),
        )
    return out


def edge_metrics(probs: np.ndarray, g: np.ndarray, *, mask_diag: bool) -> dict[str, float]:
    """Mean over datasets of AUROC, AUPRC (trapezoid), F1 at 0.5 on the scored entries, and of
    the logit variance share explained by row + column effects (``rowcol``, see
    :func:`avici_core.metrics.prob_metrics.probability_row_column_share`)."""
    keep = ~np.eye(g.shape[-1], dtype=bool) if mask_diag else np.ones(g.shape[-2:], bool)
    rows = []
    for prob, truth in zip(probs, g):
        p, t = prob[keep], truth[keep]
        if 0 < t.sum() < t.size:
            precision, recall, _ = precision_recall_curve(t, p)
            rows.append(
                (
                    roc_auc_score(t, p),
                    auc(recall, precision),
                    f1_score(t, p > 0.5, zero_division=0.0),
                    probability_row_column_share(prob),
                )
            )
    names = ("auroc", "auprc", "f1", "rowcol")
    if not rows:
        return dict.fromkeys(names, float("nan"))
    return {k: float(v) for k, v in zip(names, np.nanmean(np.array(rows), axis=0))}


def _pool_spec(config: TrainConfig) -> PoolSpec:
    return PoolSpec(
        config.domains, config.seed, config.pool_n_obs, config.pool_n_int, config.registry
    )


INPUT_LAYER = "BaseModel/linear"  # embeds each cell's input channels


def warm_start_params(source: str | Path, template: Any) -> Any:
    """The averaged (else raw) parameters of the latest checkpoint in ``source``, shaped like
    ``template``; a network of another shape is refused by name of the first differing array."""
    trees, _ = ckpt.load_checkpoint(source)
    flat = trees.get("ave_params", trees.get("params"))
    if flat is None:
        raise ValueError(f"init_from: {source} holds no params or ave_params")
    log.info("warm start from %s", source)
    flat = dict(flat)
    wanted = template[INPUT_LAYER]["w"].shape  # [channels, D]
    have = flat.get(f"{INPUT_LAYER}/w")
    if have is not None and have.shape[0] < wanted[0] and have.shape[1:] == wanted[1:]:
        log.info("warm start: input channels %d..%d start at zero", have.shape[0], wanted[0] - 1)
        flat[f"{INPUT_LAYER}/w"] = np.concatenate(
            [have, np.zeros((wanted[0] - have.shape[0], *wanted[1:]), have.dtype)]
        )
    added = {
        f"{module}/{name}": np.asarray(value)
        for module, leaves in template.items()
        if is_pair_head(module)
        for name, value in leaves.items()
    }
    if added and not any(key in flat for key in added):
        log.info("warm start: the pair-statistics head starts fresh (its output at zero)")
        flat.update(added)
    return ckpt.unflatten_like(template, flat, what=f"params of init_from {source}")


class Trainer:
    """Owns the jitted step, the sharding, the data pools and the checkpoint directory."""

    def __init__(self, config: TrainConfig, out: str | Path):
        self.config, self.out = config, Path(out)
        self.devices = jax.local_devices()
        self.mesh = Mesh(np.array(self.devices), ("batch",))
        self.batch_sharding = NamedSharding(self.mesh, PartitionSpec("batch"))
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.net = make_network(config.model_config(), mixed_precision=config.mixed_precision)
        self.optimizer = make_optimizer(config, len(self.devices))
        self.base_key = jax.random.key(config.seed)
        self._step = jax.jit(_step_fn(config, self.net, self.optimizer), donate_argnums=0)
        evaluation = make_network(config.model_config())  # float32, as the model is used
        self._probs = jax.jit(
            lambda p, x, c: jax.nn.sigmoid(evaluation.apply(p, None, x, c, False))
        )
        self.val = validation_sets(config)

    def init_state(self) -> TrainState:
        d = min(self.config.n_vars)
        x = jnp.zeros((1, 4, d, 2))
        # jitted: run op by op, the init compiles each of its hundreds of small ops on its own
        init = jax.jit(lambda key, x: self.net.init(key, x, False, False))
        params = init(jax.random.fold_in(self.base_key, 2**31 - 1), x)
        if self.config.init_from is not None:
            params = warm_start_params(self.config.init_from, params)
        ave = jax.tree_util.tree_map(jnp.copy, params)  # own buffers: the step donates its state
        return TrainState(
            jnp.zeros((), jnp.int32), params, jax.jit(self.optimizer.init)(params), ave, init_dual()
        )

    def _write_config(self, resumed_step: int) -> None:
        """Record the train config; a resumption may change only what it has not yet used."""
        record = {
            "model": self.config.model_config().to_dict(),
            "train": self.config.to_dict(),
            "expects_counts": bool(all(c.all() for _, _, c in self.val.values())),
        }
        path = self.out / ckpt.CONFIG_FILE
        if path.exists():
            old = ckpt.read_json(path)
            free = {
                "n_steps",
                "n_workers",
                "max_minutes",
            }  # may change between a run and its resumption
            mismatch = {
                k
                for k in record["train"]
                if k not in free and old["train"].get(k) != record["train"][k]
            }
            if mismatch >= {"lr_boundaries"} and _same_schedule_until(
                old["train"], record["train"], resumed_step
            ):
                mismatch -= {"lr_boundaries"}
            if mismatch:
                raise ValueError(
                    f"{self.out} holds a run with a different train config ({sorted(mismatch)}); "
                    "use a new --out directory"
                )
        ckpt.write_json(path, record)

    def restore(self) -> tuple[TrainState, dict[str, Any]]:
        """The latest checkpoint in ``out`` (or a fresh state) and its metadata (``{}`` if fresh)."""
        template = self.init_state()
        if not ckpt.checkpoint_steps(self.out):
            return template, {}
        trees, meta = ckpt.load_checkpoint(self.out)
        state = TrainState(
            step=jnp.asarray(meta["step"], jnp.int32),
            params=ckpt.unflatten_like(template.params, trees["params"], what="params"),
            opt_state=ckpt.unflatten_like(template.opt_state, trees["opt_state"], what="opt_state"),
            ave_params=ckpt.unflatten_like(
                template.ave_params, trees["ave_params"], what="ave_params"
            ),
            dual=DualState(
                jnp.float32(meta["dual"]["lam"]), jnp.float32(meta["dual"]["penalty_ema"])
            ),
        )
        log.info("resuming from step %d in %s", meta["step"], self.out)
        return state, meta

    def save(
        self, state: TrainState, rng: np.random.Generator, pools: DataPools, walltime_s: float
    ) -> None:
        host = jax.device_get(state)
        meta = {
            "walltime_s": walltime_s,
            "dual": {"lam": float(host.dual.lam), "penalty_ema": float(host.dual.penalty_ema)},
            "rng": np.asarray(jax.random.key_data(self.base_key)).tolist(),
            "sampler": {"bit_generator": rng.bit_generator.state, "window_start": pools.start},
        }
        trees = {"params": host.params, "opt_state": host.opt_state, "ave_params": host.ave_params}
        ckpt.save_checkpoint(
            self.out, int(host.step), trees, meta, keep=self.config.keep_checkpoints
        )

    def evaluate(self, state: TrainState) -> dict[str, float]:
        mask_diag = self.config.model_config().mask_diag
        result: dict[str, float] = {}
        for d, (x, g, is_count) in self.val.items():
            for name, params in (("params", state.params), ("ave", state.ave_params)):
                probs = np.asarray(self._probs(params, x, is_count), np.float64)
                logits = np.log(np.clip(probs, 1e-12, 1.0)) - np.log(
                    np.clip(1.0 - probs, 1e-12, 1.0)
                )
                result[f"val/d{d}/{name}/loss"] = float(
                    edge_bce(jnp.asarray(logits), g, mask_diag=mask_diag)
                )
                for k, v in edge_metrics(probs, g, mask_diag=mask_diag).items():
                    result[f"val/d{d}/{name}/{k}"] = v
        return result

    def _global_batch(self, rng: np.random.Generator, pools: DataPools):
        n_dev = len(self.devices)
        cfg = self.config
        d = int(rng.choice(cfg.n_vars, p=curriculum(cfg.n_vars, cfg.batch_size_unit, n_dev)))
        per_device = batch_size_per_device(d, cfg.batch_size_unit)
        obs_only = np.repeat(rng.random(n_dev) < cfg.p_obs_only, per_device)  # one coin per shard
        x, g, is_count = pools.batch(
            rng,
            d,
            n_dev * per_device,
            n_obs=cfg.n_obs_train,
            n_int=cfg.n_int_train,
            obs_only=obs_only,
        )
        if not np.isfinite(x).all():
            raise FloatingPointError(
                f"training batch at d={d} contains NaN/inf; check domains {cfg.domains}"
            )
        put = lambda a: jax.device_put(a, self.batch_sharding)
        return d, put(x), put(g), put(is_count)

    def run(self, n_steps: int | None = None) -> dict[str, Any]:
        """Train up to ``n_steps`` (default: the config's), checkpointing and validating.

        The run folder is locked for the whole run (a second trainer is refused), and a run
        that already finished returns its ``final.json`` unchanged.
        """
        total = self.config.n_steps if n_steps is None else n_steps
        self.out.mkdir(parents=True, exist_ok=True)
        with ckpt.run_lock(self.out):
            final = self.out / "final.json"
            if final.exists():
                summary = ckpt.read_json(final)
                if summary.get("step", 0) >= total:
                    log.info("%s already finished; %s left as it is", self.out, final)
                    return summary
            return self._run(total)

    def _run(self, total: int) -> dict[str, Any]:
        cfg = self.config
        self._write_config(max(ckpt.checkpoint_steps(self.out), default=0))
        state, meta = self.restore()
        _drop_records_after(self.out / "metrics.jsonl", int(state.step))
        sampler = meta.get("sampler", {})
        state = jax.device_put(state, self.replicated)
        rng = seed_stream(cfg.seed, 1)
        if sampler:
            rng.bit_generator.state = sampler["bit_generator"]
        pools = DataPools(
            _pool_spec(cfg),
            list(cfg.n_vars),
            pool_size=cfg.pool_size,
            fresh_per_step=cfg.fresh_per_step,
            n_workers=cfg.n_workers,
            window_start=sampler.get("window_start"),
        )
        start, last_eval, budget_spent = int(state.step), {}, False
        # wall time summed over every process that trained this run (resumptions included)
        earlier = float(meta.get("walltime_s", 0.0))
        started = time.perf_counter()
        walltime = lambda: earlier + time.perf_counter() - started
        deadline = math.inf if cfg.max_minutes is None else started + 60.0 * cfg.max_minutes
        try:
            with (
                open(self.out / "metrics.jsonl", "a") as metrics_log,
                tqdm(total=total, initial=start, disable=None, desc="train") as bar,
            ):
                window_start, data_s = time.perf_counter(), 0.0
                for step in range(start, total):
                    fetch = time.perf_counter()
                    d, x, g, is_count = self._global_batch(rng, pools)
                    data_s += time.perf_counter() - fetch
                    state, metrics = self._step(state, self.base_key, x, g, is_count)
                    done = step + 1
                    budget_spent = time.perf_counter() >= deadline
                    last = done == total or budget_spent
                    log_now = done % cfg.log_every == 0 or last
                    eval_now = done % cfg.eval_every == 0 or last
                    save_now = done % cfg.checkpoint_every == 0 or last
                    bar.update(1)
                    if not (log_now or eval_now or save_now):
                        continue  # no host synchronisation between log/eval/checkpoint steps
                    loss = float(metrics["loss"])
                    if not math.isfinite(loss):
                        raise FloatingPointError(
                            f"loss became {loss} by step {done} (d={d}); lower lr_base or check "
                            f"the data; the last good checkpoint is in {self.out}"
                        )
                    bar.set_postfix(loss=f"{loss:.4f}", d=d)
                    record: dict[str, Any] = {}
                    if log_now:
                        # the step is dispatched asynchronously, so the loop waits on the device
                        # unless preparing the next batch takes longer: data_share near 1 means
                        # the device waits for data
                        now = time.perf_counter()
                        record = {k: float(v) for k, v in metrics.items()} | {
                            "d": d,
                            "data_share": data_s / max(now - window_start, 1e-9),
                        }
                    if eval_now:
                        last_eval = self.evaluate(state)
                        record |= last_eval
                    if record:
                        record["walltime_s"] = walltime()
                        metrics_log.write(json.dumps({"step": done, **record}) + "\n")
                        metrics_log.flush()
                    if save_now:
                        self.save(state, rng, pools, walltime())
                    if log_now:  # the next window starts after this step's evaluation and save
                        window_start, data_s = time.perf_counter(), 0.0
                    if budget_spent:
                        log.info("max_minutes=%s spent at step %d", cfg.max_minutes, done)
                        break
        finally:
            pools.close()
        summary = {
            "step": int(state.step),
            "walltime_s": walltime(),
            "hardware": hardware([f"{d.platform}:{d.device_kind}" for d in self.devices]),
            "val": last_eval,
        }
        if budget_spent:
            summary["stopped"] = f"max_minutes={cfg.max_minutes}"
        if int(state.step) >= total or budget_spent:  # stopped where asked: a finished run
            ckpt.write_json(self.out / "final.json", summary)
        return summary


def _drop_records_after(log_path: Path, step: int) -> None:
    """Drop the records a killed process logged after its last checkpoint: the resumed run
    logs those steps again, and one record per step keeps the log in step with the checkpoint.
    A line the kill cut short is dropped too."""
    if not log_path.exists():
        return

    def logged_step(line: str) -> float:
        try:
            return json.loads(line)["step"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return math.inf

    lines = log_path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if logged_step(line) <= step]
    if len(kept) < len(lines):
        log.info("dropped %d records after step %d from %s", len(lines) - len(kept), step, log_path)
        write_text(log_path, "".join(kept))


def train(config: TrainConfig, out: str | Path, *, n_steps: int | None = None) -> dict[str, Any]:
    """Train (resuming from ``out``) and return a summary; see :class:`Trainer`."""
    return Trainer(config, out).run(n_steps)
