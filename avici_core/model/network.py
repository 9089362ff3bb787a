"""The AVICI network (Lorch et al. 2022): alternating axial attention over variables and rows.

Shape letters: B (or ``...``) batch dims, n rows, d variables, D model width, H heads, K key size.

``x [..., n, d, 2]`` (value, intervention indicator) -> edge logits ``[..., d, d]``, where
``logits[..., i, j]`` scores the edge i -> j. Haiku module names follow the original package
(``BaseModel/linear``, ``BaseModel/layer_norm_k``, ``BaseModel/multi_head_attention_k/{query,key,
value,linear}``, ``BaseModel/{learned_temp,final_matrix_bias}``) so official checkpoints load
without renaming (spec avici.md §1.4).

Attention over rows runs one variable at a time (``lax.map``), so one variable's logits are
alive at once instead of all ``[d, H, n, n]`` (which made the original memory-bound); only when
all of them are small (training batches) does it take every variable at once. Up to
``row_block`` rows it materialises that variable's ``[H, n, n]`` logits; above, it streams key
blocks of ``row_block // 4`` rows with an online softmax (peak memory linear in n).
:func:`use_blockwise` picks one from the input size; both agree to float32 round-off.
At inference on many rows, blocks attending over variables run on chunks of rows and blocks
attending over rows run one variable at a time (:func:`row_chunk_size`), so intermediates such
as ``[n, H, d, d]`` logits or the ``[n, d, 4D]`` FFN hidden exist for one slice at a time; the
per-position math is unchanged.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
from collections.abc import Callable
from typing import Literal, get_args

import haiku as hk
import jax
import jax.numpy as jnp

AttentionAxes = Literal["both", "n", "d"]
InputValues = Literal["zscore", "normal_scores", "zscore+normal_scores"]
INPUT_VALUES = get_args(InputValues)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Size and behaviour knobs; defaults are the paper's model (4,269,442 parameters).

    Attributes:
      dim: model width D.
      layers: number of (variable, row) attention pairs; the encoder has ``2 * layers`` blocks.
      num_heads, key_size: attention heads H and per-head width K.
      widening: FFN hidden width is ``widening * dim``.
      dropout: inverted-dropout rate on both residual branches (training only).
      out_dim: width of the edge-head embeddings u, v (``None`` -> ``dim``).
      logit_bias_init, cosine_temp_init: initial bias b and log-temperature tau of the edge head.
      mask_diag: predict no self-loops (diagonal probability 0, excluded from the loss).
      attention_axes: ``both`` alternates variables/rows; ``n`` or ``d`` attend over one axis
        only (ablations).
      relational_head: score pairs with an MLP on (u_i, v_j) instead of cosine similarity.
      pair_statistics: add to each edge logit a learned function of the pair's correlation and
        partial correlation over all rows (:func:`pair_statistics`; an MLP whose output layer
        starts at zero, so a warm start begins with the source's function). Not in the paper:
        the attention encoder pools each variable on its own, and at small compute it does not
        learn the partial correlations that tell a direct dependence from an indirect one.
      input_values: what the network sees of each value: its column's ``zscore`` (the original),
        its ``normal_scores`` (ranks mapped to normal quantiles, z-scored: blind to any increasing
        transform of a column, so skewed or outlying measurements look like the training data),
        or both (``zscore+normal_scores``: the scores are a third input channel).
      row_block: with more rows than this, row attention streams key blocks of
        ``row_block // 4`` rows (exact; linear memory in n); up to it, one variable's ``[H, n, n]`` logits are
        materialised (the fastest on CPU: 32 MB at n = 1000 with 8 heads). An execution
        setting, not part of a model: a loaded model uses the current default.
      row_chunk: at inference with more rows than this (or than fit :data:`CHUNK_BYTES` of FFN
        hidden), blocks attending over variables run on chunks of that many rows and blocks
        attending over rows on one variable at a time (exact; intermediates scale with the
        slice, not with n * d, and stay in cache).
    """

    dim: int = 128
    layers: int = 8
    num_heads: int = 8
    key_size: int = 32
    widening: int = 4
    dropout: float = 0.0
    out_dim: int | None = None
    logit_bias_init: float = -3.0
    cosine_temp_init: float = 2.0
    mask_diag: bool = True
    attention_axes: AttentionAxes = "both"
    relational_head: bool = False
    pair_statistics: bool = False
    input_values: InputValues = "zscore"
    row_block: int = 2048
    row_chunk: int = 1024

    def __post_init__(self) -> None:
        sizes = ("dim", "layers", "num_heads", "key_size", "widening", "row_block", "row_chunk")
        for name in sizes:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"model config: {name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model config: dropout must be in [0, 1), got {self.dropout}")
        if self.attention_axes not in ("both", "n", "d"):
            raise ValueError(
                f"model config: attention_axes must be 'both', 'n' or 'd', got {self.attention_axes!r}"
            )
        if self.input_values not in INPUT_VALUES:
            raise ValueError(
                f"model config: input_values must be one of {INPUT_VALUES}, "
                f"got {self.input_values!r}"
            )

    @property
    def input_channels(self) -> int:
        """Channels of the standardized input: value channel(s) and the intervention indicator."""
        return 3 if self.input_values == "zscore+normal_scores" else 2

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown model config key(s) {unknown}; known: {sorted(known)}")
        return cls(**raw)


EXECUTION_KEYS = ("row_block", "row_chunk")  # how the network runs, not what it is


def normal_scores(values: jax.Array) -> jax.Array:
    """Per column of ``values [..., n, d]``: ranks over rows (ties averaged) mapped to standard-normal
    quantiles ``Phi^-1(r / (n + 1))``, then z-scored; as ``data.standardize.nonparanormal``."""
    n = values.shape[-2]
    columns = jnp.moveaxis(values, -2, -1)  # [..., d, n]
    flat = columns.reshape(-1, n)
    ordered = jnp.sort(flat, axis=-1)
    below = jax.vmap(lambda a, v: jnp.searchsorted(a, v, side="left"))(ordered, flat)
    up_to = jax.vmap(lambda a, v: jnp.searchsorted(a, v, side="right"))(ordered, flat)
    ranks = (below + up_to + 1).astype(values.dtype) / 2  # 1-based, ties share their mean rank
    scores = jax.scipy.special.ndtri(ranks / (n + 1))
    centered = scores - scores.mean(axis=-1, keepdims=True)
    std = centered.std(axis=-1, keepdims=True)
    # a constant column (every value ties) maps to 0; its round-off must not be scaled up to +-1
    constant = (up_to - below)[:, :1] == n
    standardized = jnp.where(constant, 0.0, centered / jnp.where(constant, 1.0, std))
    return jnp.moveaxis(standardized.reshape(columns.shape), -1, -2)  # [..., n, d]


def standardize(
    x: jax.Array, is_count_data: jax.Array | bool = False, input_values: InputValues = "zscore"
) -> jax.Array:
    """Standardize channel 0 of ``x [..., n, d, 2]`` per dataset (spec §1.1) into the network's
    input ``[..., n, d, C]``: value channel, intervention indicator, then normal scores if asked.

    Real data: per-variable z-score over rows (ddof 0, std 0 -> 1). Count data: per-row log2-CPM
    with zeros -> NaN, minus the dataset's global nanmin, divided by its global nanstd, NaN -> 0.
    ``is_count_data [...]`` selects per dataset, so one jitted function serves mixed batches.
    ``input_values`` (see ``ModelConfig``) swaps or adds :func:`normal_scores` of the raw values.
    """
    values = x[..., 0]  # [..., n, d]
    indicator = x[..., 1]
    if input_values == "normal_scores":
        return jnp.stack([normal_scores(values), indicator], axis=-1)
    mean = values.mean(axis=-2, keepdims=True)
    std = values.std(axis=-2, keepdims=True)
    z_real = (values - mean) / jnp.where(std == 0.0, 1.0, std)

    counts = jnp.where(values > 0, values, jnp.nan)
    row_total = jnp.nansum(counts, axis=-1, keepdims=True) * 1e-6  # [..., n, 1]
    log_cpm = jnp.log2(counts / row_total)
    log_cpm = log_cpm - jnp.nanmin(log_cpm, axis=(-2, -1), keepdims=True)
    spread = jnp.nanstd(log_cpm, axis=(-2, -1), keepdims=True)
    log_cpm = log_cpm / jnp.where((spread == 0.0) | jnp.isnan(spread), 1.0, spread)
    z_count = jnp.nan_to_num(log_cpm, nan=0.0)

    flag = jnp.asarray(is_count_data, dtype=bool)[..., None, None]
    channels = [jnp.where(flag, z_count, z_real), indicator]
    if input_values == "zscore+normal_scores":
        channels.append(normal_scores(values))
    return jnp.stack(channels, axis=-1)


def use_blockwise(n_rows: int, config: ModelConfig) -> bool:
    """Whether row attention streams key blocks (exact; only memory and speed differ)."""
    return config.attention_axes != "d" and n_rows > config.row_block


# Bytes of a block's FFN hidden ``[rows, d, widening * dim]`` (float32) up to which inference runs
# it on all rows at once. Smaller slices stay in cache: the paper-size forward at n = 1000, d = 20
# (41 MB of hidden) took 2.22 s in 256-row chunks against 2.35 s on all rows (2 cores; 3.81 s
# against 4.34 s on one), while the small default model there (10 MB) ran 5 % slower chunked.
CHUNK_BYTES = 10 * 2**20


def row_chunk_size(
    n_rows: int, n_vars: int, config: ModelConfig, *, is_training: bool
) -> int | None:
    """Rows per chunk for row-independent sub-blocks, or ``None`` to run them on all rows at once.

    At most ``config.row_chunk`` rows, and few enough that a chunk's FFN hidden stays within
    :data:`CHUNK_BYTES`. Only at inference: training keeps every activation for the gradient
    anyway, and dropout masks would otherwise depend on the chunking.
    """
    hidden_row_bytes = 4 * n_vars * config.widening * config.dim
    rows = min(config.row_chunk, max(1, CHUNK_BYTES // hidden_row_bytes))
    return None if is_training or n_rows <= rows else rows


LAYER_NORM_EPS = 1e-5  # hk.LayerNorm's, as in the original


def _normalize(x: jax.Array) -> jax.Array:
    """``(x - mean) / sqrt(var + eps)`` over the last axis, in float32 at least: the
    data-dependent half of a layer norm, computed once for every layer norm of the same input
    (:class:`LayerNormAffine`)."""
    return _normalize_with_vjp(x.astype(jnp.promote_types(x.dtype, jnp.float32)))


@jax.custom_vjp
def _normalize_with_vjp(x: jax.Array) -> jax.Array:
    """:func:`_normalize` with a hand-written backward that keeps only the result and one scale
    per row: differentiated through the mean and variance, the layer norms took about a quarter
    of the small model's train step (benchmarks/README.md)."""
    return _normalize_forward(x)[0]


def _normalize_forward(x: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    mean = x.mean(axis=-1, keepdims=True)
    inv_std = jax.lax.rsqrt(x.var(axis=-1, keepdims=True) + LAYER_NORM_EPS)
    normalized = (x - mean) * inv_std
    return normalized, (normalized, inv_std)


def _normalize_backward(saved: tuple[jax.Array, jax.Array], grad: jax.Array) -> tuple[jax.Array]:
    normalized, inv_std = saved
    centered = grad - grad.mean(axis=-1, keepdims=True)
    projection = (grad * normalized).mean(axis=-1, keepdims=True)
    return (inv_std * (centered - normalized * projection),)


_normalize_with_vjp.defvjp(_normalize_forward, _normalize_backward)


class LayerNormAffine(hk.Module):
    """The learned half of ``hk.LayerNorm(axis=-1)``: its ``scale`` and ``offset`` parameters
    (same names, shapes and initial values, so checkpoints load unchanged) applied to the output
    of :func:`_normalize`."""

    def __init__(self):
        super().__init__(name="layer_norm")

    def __call__(self, normalized: jax.Array) -> jax.Array:
        width = normalized.shape[-1]
        scale = hk.get_parameter("scale", (width,), normalized.dtype, init=jnp.ones)
        offset = hk.get_parameter("offset", (width,), normalized.dtype, init=jnp.zeros)
        return normalized * scale + offset


def _kaiming_uniform() -> hk.initializers.Initializer:
    return hk.initializers.VarianceScaling(2.0, "fan_in", "uniform")


_BF16_MATMULS = contextvars.ContextVar("bf16_matmuls", default=False)


@contextlib.contextmanager
def bf16_matmuls(enabled: bool = True):
    """While tracing inside this context, the network's dense layers (:class:`Linear`) multiply
    in bfloat16 with float32 accumulation and result; attention, layer norms and loss stay float32."""
    token = _BF16_MATMULS.set(enabled)
    try:
        yield
    finally:
        _BF16_MATMULS.reset(token)


@jax.custom_vjp
def _bf16_matmul(x: jax.Array, w: jax.Array) -> jax.Array:
    """``x [r, i] @ w [i, o]`` from bfloat16 inputs, accumulated and returned in float32: XLA runs
    it on bf16 matrix units (AMX on recent Xeons, GPU tensor cores); a bfloat16 result would not
    be (benchmarks/README.md)."""
    return jnp.dot(
        x.astype(jnp.bfloat16), w.astype(jnp.bfloat16), preferred_element_type=jnp.float32
    )


def _bf16_matmul_fwd(x: jax.Array, w: jax.Array):
    return _bf16_matmul(x, w), (x, w.astype(jnp.bfloat16))


def _bf16_matmul_bwd(residuals, cotangent: jax.Array):
    """The input's gradient as a bf16-input product too (JAX's own transpose would multiply the
    float32 cotangent with a bfloat16 operand, a mixed product XLA runs slowly); the weight's in
    float32, as a contraction over rows runs slower in bf16 than in float32 on XLA's CPU."""
    x, w16 = residuals
    g16 = cotangent.astype(jnp.bfloat16)
    # Contracting both operands' last axes directly: `g16 @ w16.T` keeps a transpose that XLA's
    # CPU bf16 path runs 3x slower.
    grad_x = jnp.einsum("ro,io->ri", g16, w16, preferred_element_type=jnp.float32)
    return grad_x, jnp.einsum("ri,ro->io", x, cotangent)


_bf16_matmul.defvjp(_bf16_matmul_fwd, _bf16_matmul_bwd)


class Linear(hk.Module):
    """``x @ w + b`` with ``hk.Linear``'s parameters (names, shapes, default initialisers, so
    checkpoints load unchanged), its product through :func:`_bf16_matmul` under :func:`bf16_matmuls`."""

    def __init__(
        self,
        width: int,
        *,
        with_bias: bool = True,
        w_init: hk.initializers.Initializer | None = None,
        name: str | None = None,
    ):
        super().__init__(name=name)
        self.width, self.with_bias, self.w_init = width, with_bias, w_init

    def __call__(self, x: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        w_init = self.w_init or hk.initializers.TruncatedNormal(1.0 / math.sqrt(fan_in))
        w = hk.get_parameter("w", (fan_in, self.width), x.dtype, init=w_init)
        if _BF16_MATMULS.get():
            out = _bf16_matmul(x.reshape(-1, fan_in), w).reshape(*x.shape[:-1], self.width)
        else:
            out = x @ w
        if self.with_bias:
            out = out + hk.get_parameter("b", (self.width,), x.dtype, init=jnp.zeros)
        return out


def _softmax_rows(q: jax.Array, k: jax.Array, v: jax.Array) -> jax.Array:
    """Plain attention over axis -2 of ``q, k, v [..., n, K]`` (the ``[..., n, n]`` logits)."""
    logits = jnp.einsum("...qk,...sk->...qs", q, k)
    return jnp.einsum("...qs,...sk->...qk", jax.nn.softmax(logits, axis=-1), v)


def _online_softmax_rows(q: jax.Array, k: jax.Array, v: jax.Array, key_block: int) -> jax.Array:
    """Exact attention over axis -2 of ``q, k, v [..., n, K]`` in O(n * key_block) memory.

    Every query at once scans key blocks keeping a running max, normaliser and weighted sum
    (online softmax). Blocks are sized so padding stays below one row per block; padded keys get
    a -inf logit, so results equal the plain softmax.
    """
    n = k.shape[-2]
    n_blocks = -(-n // key_block)
    block = -(-n // n_blocks)
    pad = n_blocks * block - n
    widths = [(0, 0)] * (k.ndim - 2) + [(0, pad), (0, 0)]
    k, v = (jnp.pad(a, widths) for a in (k, v))
    key_bias = jnp.where(jnp.arange(n_blocks * block) < n, 0.0, -jnp.inf).astype(q.dtype)

    def split(a: jax.Array) -> jax.Array:  # [..., nb*blk, K] -> [nb, ..., blk, K]
        a = a.reshape(*a.shape[:-2], n_blocks, block, a.shape[-1])
        return jnp.moveaxis(a, -3, 0)

    def step(carry, kvb):
        running_max, norm, acc = carry
        k_blk, v_blk, b_blk = kvb
        logits = jnp.einsum("...qk,...sk->...qs", q, k_blk) + b_blk  # [..., n, blk]
        new_max = jnp.maximum(running_max, logits.max(axis=-1))
        weights = jnp.exp(logits - new_max[..., None])
        rescale = jnp.exp(running_max - new_max)
        norm = norm * rescale + weights.sum(axis=-1)
        acc = acc * rescale[..., None] + jnp.einsum("...qs,...sk->...qk", weights, v_blk)
        return (new_max, norm, acc), None

    init = (
        jnp.full(q.shape[:-1], -jnp.inf, q.dtype),
        jnp.zeros(q.shape[:-1], q.dtype),
        jnp.zeros((*q.shape[:-1], v.shape[-1]), q.dtype),
    )
    blocks = (split(k), split(v), key_bias.reshape(n_blocks, block))
    (_, norm, acc), _ = jax.lax.scan(step, init, blocks)
    return acc / norm[..., None]


# Logit entries up to which row attention takes every variable at once, by backend. CPU: 64 MiB
# in float32 (measured, see _row_attention). Accelerators: a loop over variables leaves the
# device idle between small kernels, and a training batch at the paper's size (13 datasets x 20
# variables x 8 heads x 200², 83 M entries, 0.3 GiB) fits; 1 GiB (not yet measured on a GPU).
ALL_VARIABLES_AT_ONCE = {"cpu": 2**24, "accelerator": 2**28}


def all_variables_at_once_limit() -> int:
    """:data:`ALL_VARIABLES_AT_ONCE` for JAX's default backend."""
    kind = "cpu" if jax.default_backend() == "cpu" else "accelerator"
    return ALL_VARIABLES_AT_ONCE[kind]


def _row_attention(q: jax.Array, k: jax.Array, v: jax.Array, *, key_block: int | None) -> jax.Array:
    """``q, k, v [..., d, H, n, K]``: one variable at a time (``lax.map``), plain or streamed in
    key blocks (``key_block``; the backward then recomputes them instead of storing [n, n]).

    On 2 CPU cores at n = 1000, d = 20 (paper-size network) this is 1.4x faster than streaming
    128-row query and key blocks, and several times faster than all variables' logits at once.
    Up to :func:`all_variables_at_once_limit` logit entries in all (a CPU training batch: 3.9 M
    at d = 20, 3 datasets x 128 rows), every variable at once skips the loop's slicing and
    stacking: the small model's train step took 0.213 s instead of 0.250 s on 2 cores.
    """
    n_logits = math.prod(q.shape[:-1]) * q.shape[-2]
    if key_block is None and n_logits <= all_variables_at_once_limit():
        return _softmax_rows(q, k, v)
    lead = q.shape[:-3]
    flat = [a.reshape(-1, *a.shape[-3:]) for a in (q, k, v)]  # [M, H, n, K]
    if key_block is None:
        attend = _softmax_rows
    else:
        attend = jax.checkpoint(lambda q, k, v: _online_softmax_rows(q, k, v, key_block))
    out = jax.lax.map(lambda qkv: attend(*qkv), flat)
    return out.reshape(*lead, *out.shape[-3:])


def _map_slices(
    fn: Callable[[jax.Array], jax.Array], z: jax.Array, axis: int, size: int
) -> jax.Array:
    """``fn(z)`` for an ``fn`` that acts on slices of ``size`` along ``axis`` independently.

    A loop (``hk.fori_loop``) overwrites ``z`` one slice at a time, so ``fn``'s intermediates
    exist for one slice only and no second ``z``-sized buffer is needed; a shorter last slice
    runs after the loop. ``fn`` must map a slice to the same shape and may be traced twice, so
    it must reuse modules built outside it.
    """
    n_full, rest = divmod(z.shape[axis], size)

    def step(i: jax.Array, z: jax.Array) -> jax.Array:
        part = jax.lax.dynamic_slice_in_dim(z, i * size, size, axis=axis)
        return jax.lax.dynamic_update_slice_in_dim(z, fn(part), i * size, axis=axis)

    z = hk.fori_loop(0, n_full, step, z)
    if rest:
        tail = jax.lax.slice_in_dim(z, n_full * size, z.shape[axis], axis=axis)
        z = jax.lax.dynamic_update_slice_in_dim(z, fn(tail), n_full * size, axis=axis)
    return z


class MultiHeadAttention(hk.Module):
    """Multi-head attention over one axis of ``[..., n, d, D]`` without swapping axes.

    Parameters are laid out exactly as ``hk.MultiHeadAttention`` (``query/key/value/linear``,
    VarianceScaling(2.0) init), so official weights load unchanged. The projections are built on
    the first call and reused, so one instance can run on several slices of the input.
    """

    def __init__(
        self,
        num_heads: int,
        key_size: int,
        model_size: int,
        *,
        row_block: int,
        name: str | None = None,
    ):
        super().__init__(name=name or "multi_head_attention")
        self.num_heads, self.key_size, self.model_size = num_heads, key_size, model_size
        self.row_block = row_block
        self.w_init = hk.initializers.VarianceScaling(2.0)
        self.linears: dict[str, Linear] = {}

    @hk.name_like("__call__")  # no "~_linear" in parameter names
    def _linear(self, name: str, width: int) -> Linear:
        if name not in self.linears:
            self.linears[name] = Linear(width, w_init=self.w_init, name=name)
        return self.linears[name]

    def __call__(
        self, q_in: jax.Array, k_in: jax.Array, v_in: jax.Array, *, over: str, blockwise: bool
    ) -> jax.Array:
        scale = 1.0 / math.sqrt(self.key_size)
        width = self.num_heads * self.key_size

        def heads(y: jax.Array, name: str) -> jax.Array:  # [..., n, d, D] -> [..., n, d, H, K]
            y = self._linear(name, width)(y)
            return y.reshape(*y.shape[:-1], self.num_heads, self.key_size)

        q, k, v = heads(q_in, "query") * scale, heads(k_in, "key"), heads(v_in, "value")
        if over == "d":
            logits = jnp.einsum("...ihk,...jhk->...hij", q, k)  # [..., n, H, d, d]
            out = jnp.einsum("...hij,...jhk->...ihk", jax.nn.softmax(logits, axis=-1), v)
        else:
            to_rows_last = lambda a: jnp.moveaxis(a, -4, -2)  # -> [..., d, H, n, K]
            key_block = max(1, self.row_block // 4) if blockwise else None
            out = _row_attention(*map(to_rows_last, (q, k, v)), key_block=key_block)
            out = jnp.moveaxis(out, -2, -4)
        out = out.reshape(*out.shape[:-2], width)  # [..., n, d, H*K]
        return self._linear("linear", self.model_size)(out)


def _residual_dropout(z: jax.Array, rate: float, is_training: bool) -> jax.Array:
    if is_training and rate > 0.0:
        return hk.dropout(hk.next_rng_key(), rate, z)
    return z


def _block(
    z: jax.Array,
    cfg: ModelConfig,
    *,
    over: str,
    is_training: bool,
    blockwise: bool,
    chunk: int | None,
) -> jax.Array:
    """Pre-LN block: attention over ``over`` then FFN, each a residual branch with dropout.

    Every position ``z [*lead, n, d, D]`` depends only on its own row (``over="d"``) or its own
    variable (``over="n"``). With ``chunk``, the block therefore runs on ``chunk`` rows or on one
    variable at a time (:func:`_map_slices`): same per-position math, memory of one slice.
    Modules are built once, in the original order, so parameter names match.
    """
    ln_q, ln_k, ln_v = LayerNormAffine(), LayerNormAffine(), LayerNormAffine()
    attention = MultiHeadAttention(cfg.num_heads, cfg.key_size, cfg.dim, row_block=cfg.row_block)
    hidden, ln_ffn = Linear(cfg.widening * cfg.dim, w_init=_kaiming_uniform()), LayerNormAffine()
    ffn_out = Linear(cfg.dim, w_init=_kaiming_uniform())

    def apply(z: jax.Array) -> jax.Array:
        normalized = _normalize(z)
        attended = attention(
            ln_q(normalized), ln_k(normalized), ln_v(normalized), over=over, blockwise=blockwise
        )
        z = z + _residual_dropout(attended, cfg.dropout, is_training)
        ffn = ffn_out(jax.nn.relu(hidden(ln_ffn(_normalize(z)))))
        return z + _residual_dropout(ffn, cfg.dropout, is_training)

    if chunk is None:
        return apply(z)
    rows_axis = z.ndim - 3
    if over == "d":
        return _map_slices(apply, z, axis=rows_axis, size=chunk)
    return _map_slices(apply, z, axis=rows_axis + 1, size=1)


def _block_axes(cfg: ModelConfig) -> list[str]:
    if cfg.attention_axes == "both":
        return ["d", "n"] * cfg.layers
    return [cfg.attention_axes] * (2 * cfg.layers)


PAIR_RIDGE = 1e-2  # added to the correlation matrix's unit diagonal: finite for n <= d
PAIR_HEAD = "pair_statistics"  # module-name prefix of the head's parameters
PAIR_HIDDEN = 32


def is_pair_head(module: str) -> bool:
    """Whether a parameter module (``BaseModel/...``) belongs to the pair-statistics head."""
    return module.startswith(f"BaseModel/{PAIR_HEAD}")


def pair_statistics(values: jax.Array) -> jax.Array:
    """``values [..., n, d]`` -> ``[..., d, d, 4]``: per pair the correlation, the partial
    correlation given all other variables (ridge :data:`PAIR_RIDGE`) and their squares, in float32.

    A constant column correlates with nothing (0). The diagonal is left as computed; the
    network masks it.
    """
    values = values.astype(jnp.float32)
    n, d = values.shape[-2:]
    centered = values - values.mean(axis=-2, keepdims=True)
    std = centered.std(axis=-2, keepdims=True)
    scaled = centered / jnp.where(std == 0.0, 1.0, std)
    corr = jnp.einsum("...ni,...nj->...ij", scaled, scaled) / n
    precision = jnp.linalg.inv(corr + PAIR_RIDGE * jnp.eye(d, dtype=jnp.float32))
    scale = jnp.sqrt(jnp.diagonal(precision, axis1=-2, axis2=-1))
    partial = -precision / (scale[..., :, None] * scale[..., None, :])
    return jnp.stack([corr, partial, corr**2, partial**2], axis=-1)


def _pair_logits(values: jax.Array) -> jax.Array:
    """The pair-statistics head: a 2-layer MLP on :func:`pair_statistics`, output ``[..., d, d]``."""
    hidden = Linear(PAIR_HIDDEN, name=f"{PAIR_HEAD}_hidden")(pair_statistics(values))
    out = Linear(1, w_init=jnp.zeros, name=f"{PAIR_HEAD}_out")(jax.nn.relu(hidden))
    return out[..., 0]


def _edge_logits(z: jax.Array, cfg: ModelConfig) -> jax.Array:
    """Pooled ``z [..., d, D]`` -> logits ``[..., d, d]`` (u: parent embedding, v: child)."""
    out_dim = cfg.out_dim or cfg.dim
    normalized = _normalize(z)  # u, v: [..., d, D']
    u = Linear(out_dim, w_init=_kaiming_uniform())(LayerNormAffine()(normalized))
    v = Linear(out_dim, w_init=_kaiming_uniform())(LayerNormAffine()(normalized))
    if cfg.relational_head:
        # MLP on concat(u_i, v_j): its first layer splits into a u part and a v part.
        pair_u = Linear(out_dim, name="relational_u")(u)[..., :, None, :]
        pair_v = Linear(out_dim, with_bias=False, name="relational_v")(v)[..., None, :, :]
        logits = Linear(1, name="relational_out")(jax.nn.relu(pair_u + pair_v))[..., 0]
    else:
        u = u / jnp.linalg.norm(u, axis=-1, keepdims=True)
        v = v / jnp.linalg.norm(v, axis=-1, keepdims=True)
        temp = hk.get_parameter(
            "learned_temp", (1, 1, 1), z.dtype, init=hk.initializers.Constant(cfg.cosine_temp_init)
        )
        logits = jnp.einsum("...id,...jd->...ij", u, v) * jnp.exp(temp[0])
    bias = hk.get_parameter(
        "final_matrix_bias", (1, 1, 1), z.dtype, init=hk.initializers.Constant(cfg.logit_bias_init)
    )
    return logits + bias[0]


class BaseModel(hk.Module):
    """Encoder + edge head; call with standardized ``x [..., n, d, 2]``, returns logits [..., d, d]."""

    def __init__(self, config: ModelConfig, name: str = "BaseModel"):
        super().__init__(name=name)
        self.config = config

    def __call__(self, x: jax.Array, *, is_training: bool) -> jax.Array:
        n, d = x.shape[-3], x.shape[-2]
        blockwise = use_blockwise(n, self.config)
        # init creates the parameters on all rows, outside any loop
        chunk = (
            None
            if hk.running_init()
            else row_chunk_size(n, d, self.config, is_training=is_training)
        )
        z = Linear(self.config.dim)(x)  # [..., n, d, D]
        for over in _block_axes(self.config):
            z = _block(
                z, self.config, over=over, is_training=is_training, blockwise=blockwise, chunk=chunk
            )
        z = LayerNormAffine()(_normalize(z)).max(axis=-3)  # [..., d, D]
        logits = _edge_logits(z, self.config)
        if self.config.pair_statistics:
            logits = logits + _pair_logits(x[..., 0]).astype(logits.dtype)
        if self.config.mask_diag:
            logits = jnp.where(jnp.eye(d, dtype=bool), -jnp.inf, logits)
        return logits


def make_network(
    config: ModelConfig, *, standardize_input: bool = True, mixed_precision: bool = False
) -> hk.Transformed:
    """``apply(params, rng, x [..., n, d, 2], is_count_data [...], is_training) -> logits``.

    Standardization runs inside (float32, as in training), so callers pass raw values; with
    ``standardize_input=False`` the caller passes the standardized ``[..., n, d,
    config.input_channels]`` already (inference does it in float64, see ``avici_core.model.api``)
    and ``is_count_data`` is ignored. The parameters are
    the same either way. ``rng`` may be ``None`` unless training with dropout.
    ``mixed_precision``: matmuls take bfloat16 inputs and accumulate in float32
    (:func:`bf16_matmuls`); parameters, activations, layer norms, softmax and logits stay float32.
    """

    def forward(x: jax.Array, is_count_data: jax.Array | bool, is_training: bool) -> jax.Array:
        channels = 2 if standardize_input else config.input_channels
        if x.ndim < 3 or x.shape[-1] != channels:
            raise ValueError(f"network input must be [..., n, d, {channels}], got shape {x.shape}")
        if standardize_input:
            x = standardize(x, is_count_data, config.input_values)
        with bf16_matmuls(mixed_precision):
            return BaseModel(config)(x, is_training=is_training)

    return hk.transform(forward)


def count_params(params: hk.Params) -> int:
    return sum(int(leaf.size) for leaf in jax.tree_util.tree_leaves(params))
