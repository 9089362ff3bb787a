"""Network, loss and inference API of the AVICI model (small shapes; CPU)."""

from __future__ import annotations

import functools
import re

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avici_core.data.standardize import nonparanormal
from avici_core.model import AviciModel, ModelConfig, load_model, network
from avici_core.model.api import check_model_input
from avici_core.model.loss import (
    DualConfig,
    edge_bce,
    init_dual,
    spectral_radius,
    total_loss,
    update_dual,
)
from avici_core.model.network import (
    CHUNK_BYTES,
    count_params,
    make_network,
    normal_scores,
    row_chunk_size,
    standardize,
)

TINY = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)


def _data(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*shape, 2)).astype(np.float32)
    x[..., 1] = rng.random(shape) < 0.2
    return x


def _init(config: ModelConfig, x: np.ndarray) -> hk.Params:
    return make_network(config).init(jax.random.key(0), x, False, False)


def _logits(config: ModelConfig, params: hk.Params, x: np.ndarray) -> np.ndarray:
    return np.asarray(make_network(config).apply(params, None, x, False, False))


def test_default_size_and_official_parameter_names():
    shapes = jax.eval_shape(lambda: _init(ModelConfig(), np.zeros((1, 4, 3, 2), np.float32)))
    assert count_params(shapes) == 4_269_442
    assert shapes["BaseModel/linear"]["w"].shape == (2, 128)
    assert shapes["BaseModel/multi_head_attention_15/query"]["w"].shape == (128, 256)
    assert "BaseModel/layer_norm_66" in shapes and "BaseModel/linear_34" in shapes
    assert shapes["BaseModel"]["learned_temp"].shape == (1, 1, 1)


def test_parameter_tree_equals_stock_haiku_attention():
    """Our fused attention must lay out parameters exactly as hk.MultiHeadAttention does."""

    def stock(x):
        with hk.experimental.name_scope("BaseModel"):
            z = hk.Linear(16)(x)
            q, k, v = (hk.LayerNorm(-1, True, True)(z) for _ in range(3))
            mha = hk.MultiHeadAttention(
                2, 4, w_init=hk.initializers.VarianceScaling(2.0), model_size=16
            )
            return mha(q, k, v)

    ref = jax.eval_shape(lambda: hk.transform(stock).init(jax.random.key(0), jnp.zeros((3, 4, 2))))
    ours = jax.eval_shape(lambda: _init(TINY, np.zeros((1, 3, 4, 2), np.float32)))
    for module, leaves in ref.items():
        assert {k: v.shape for k, v in ours[module].items()} == {
            k: v.shape for k, v in leaves.items()
        }


def test_shared_layer_norms_equal_stock_haiku_in_value_and_gradient():
    """Three layer norms of one input, normalised once with the hand-written backward, give
    hk.LayerNorm's outputs and gradients (input, scale and offset)."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 7, 5, 16)) * 3.0 + 1.5, jnp.float32)
    weights = jnp.asarray(rng.normal(size=(3, 16)), jnp.float32)

    def head(norms):  # a loss that weighs each norm's output differently
        return sum(((out * w) ** 2).sum() for out, w in zip(norms, weights))

    stock = hk.transform(lambda x: head([hk.LayerNorm(-1, True, True)(x) for _ in range(3)]))
    ours = hk.transform(
        lambda x: head([network.LayerNormAffine()(network._normalize(x)) for _ in range(3)])
    )
    params = stock.init(None, x)
    params = jax.tree_util.tree_map(  # scales and offsets away from their initial 1 and 0
        lambda p: p + jnp.asarray(rng.normal(size=p.shape), p.dtype), params
    )
    assert jax.tree_util.tree_structure(ours.init(None, x)) == jax.tree_util.tree_structure(params)
    grad = lambda f: jax.grad(lambda p, x: f.apply(p, None, x), argnums=(0, 1))(params, x)
    np.testing.assert_allclose(ours.apply(params, None, x), stock.apply(params, None, x), rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(grad(ours)), jax.tree_util.tree_leaves(grad(stock))):
        assert np.linalg.norm(a - b) <= 1e-5 * np.linalg.norm(b)


def test_linear_equals_stock_haiku_linear_in_parameters_and_output():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(3, 4, 6)), jnp.float32)
    for kwargs in ({}, {"with_bias": False}, {"w_init": network._kaiming_uniform()}):
        stock = hk.transform(lambda x: hk.Linear(5, **kwargs)(x))
        ours = hk.transform(lambda x: network.Linear(5, **kwargs)(x))
        params = ours.init(jax.random.key(1), x)
        reference = stock.init(jax.random.key(1), x)
        assert jax.tree_util.tree_map(np.asarray, params).keys() == reference.keys()
        for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(reference)):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ours.apply(params, None, x), stock.apply(params, None, x))


def test_bf16_matmul_value_and_gradients_are_those_of_rounded_inputs():
    """Product and input gradient from bf16-rounded operands with float32 accumulation; the
    weight gradient from the float32 input: each within float32 round-off of that reference."""
    rng = np.random.default_rng(0)
    x, w, g = (jnp.asarray(rng.normal(size=s), jnp.float32) for s in ((40, 24), (24, 8), (40, 8)))
    rounded = lambda a: np.asarray(a.astype(jnp.bfloat16).astype(jnp.float32), np.float64)
    out, vjp = jax.vjp(network._bf16_matmul, x, w)
    grad_x, grad_w = vjp(g)
    assert out.dtype == grad_x.dtype == grad_w.dtype == jnp.float32
    np.testing.assert_allclose(out, rounded(x) @ rounded(w), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_x, rounded(g) @ rounded(w).T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_w, np.asarray(x).T @ np.asarray(g), rtol=1e-5, atol=1e-4)
    assert np.abs(np.asarray(out) - np.asarray(x) @ np.asarray(w)).max() > 1e-3  # it is bf16


def test_mixed_precision_keeps_float32_parameters_and_stays_near_float32_logits():
    x = _data(3, (2, 30, 5))
    full, mixed = make_network(TINY), make_network(TINY, mixed_precision=True)
    params = mixed.init(jax.random.key(0), x, False, False)
    assert {leaf.dtype for leaf in jax.tree_util.tree_leaves(params)} == {np.dtype(np.float32)}
    off = ~np.eye(5, dtype=bool)
    logits = mixed.apply(params, None, x, False, False)
    assert logits.dtype == jnp.float32
    reference = np.asarray(full.apply(params, None, x, False, False))[:, off]
    assert not np.array_equal(np.asarray(logits)[:, off], reference)
    np.testing.assert_allclose(np.asarray(logits)[:, off], reference, atol=0.05)
    flat = lambda tree: np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(tree)])
    grad = lambda net: flat(  # jitted: op by op, each small op would compile on its own
        jax.jit(jax.grad(lambda p: net.apply(p, None, x, False, False)[:, off].sum()))(params)
    )
    mixed_grad = grad(mixed)
    # The hand-written backward is the gradient of the bf16 forward, up to bf16 rounding of the
    # cotangents (JAX's own transpose of the same products as the reference) ...
    stock_transpose = lambda x, w: jnp.dot(
        x.astype(jnp.bfloat16), w.astype(jnp.bfloat16), preferred_element_type=jnp.float32
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(network, "_bf16_matmul", stock_transpose)
        autodiff_grad = grad(make_network(TINY, mixed_precision=True))
    assert np.linalg.norm(mixed_grad - autodiff_grad) <= 0.02 * np.linalg.norm(autodiff_grad)
    # ... and points where the float32 gradient does.
    full_grad = grad(full)
    cosine = mixed_grad @ full_grad / np.linalg.norm(mixed_grad) / np.linalg.norm(full_grad)
    assert mixed_grad.dtype == np.float32 and cosine > 0.99


@pytest.mark.parametrize("d", [2, 5, 30])
def test_shapes_and_masked_diagonal(d):
    x = _data(d, (2, 12, d))
    logits = _logits(TINY, _init(TINY, x), x)
    assert logits.shape == (2, d, d)
    assert np.all(np.isneginf(np.diagonal(logits, axis1=-2, axis2=-1)))
    off = logits[:, ~np.eye(d, dtype=bool)]
    assert np.all(np.isfinite(off))
    assert np.all(
        np.abs(off + 3.0) <= np.exp(2.0) + 1e-4
    )  # cosine head at init: |logit - b| <= e^tau


def test_unmasked_diagonal_is_finite():
    config = ModelConfig(**{**TINY.to_dict(), "mask_diag": False})
    x = _data(0, (1, 10, 4))
    assert np.all(np.isfinite(_logits(config, _init(config, x), x)))


def test_equivariant_in_variables_and_invariant_in_rows():
    x = _data(1, (1, 20, 6))
    params = _init(TINY, x)
    base = _logits(TINY, params, x)
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(20), rng.permutation(6)
    np.testing.assert_allclose(_logits(TINY, params, x[:, rows]), base, atol=1e-5)
    permuted = _logits(TINY, params, x[:, :, cols])
    np.testing.assert_allclose(permuted, base[:, cols][:, :, cols], atol=1e-5)


@pytest.mark.parametrize("n", [37, 64])
def test_blockwise_row_attention_equals_plain(n):
    x = _data(2, (2, n, 5))
    params = _init(TINY, x)
    blockwise = ModelConfig(**{**TINY.to_dict(), "row_block": 16})  # 3 or 4 blocks, with padding
    a, b = _logits(TINY, params, x), _logits(blockwise, params, x)
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(b[:, off], a[:, off], atol=1e-5)


def test_row_attention_per_variable_equals_all_at_once(monkeypatch):
    x = _data(4, (2, 40, 5))
    params = _init(TINY, x)
    loops = lambda: (
        "scan"
        in str(jax.make_jaxpr(lambda p: make_network(TINY).apply(p, None, x, False, False))(params))
    )
    assert not loops()  # a tiny batch: every variable at once
    at_once = _logits(TINY, params, x)
    for backend in network.ALL_VARIABLES_AT_ONCE:
        monkeypatch.setitem(network.ALL_VARIABLES_AT_ONCE, backend, 0)
    assert loops()  # one variable at a time
    per_variable = _logits(TINY, params, x)
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(per_variable[:, off], at_once[:, off], atol=1e-5)


@pytest.mark.parametrize(
    ("shape", "row_chunk"),
    [((2, 37, 5), 8), ((32, 5), 8), ((2, 30, 4), 29)],  # last slice shorter / exact / one row
)
@pytest.mark.parametrize("axes", ["both", "d"])
def test_row_chunked_inference_equals_all_rows(shape, row_chunk, axes):
    """Chunked inference (rows for variable attention, one variable for row attention) is exact."""
    x = _data(5, shape)
    d = shape[-1]
    plain = ModelConfig(**{**TINY.to_dict(), "layers": 2, "attention_axes": axes})
    params = _init(plain, x)
    chunked = ModelConfig(**{**plain.to_dict(), "row_chunk": row_chunk, "row_block": 16})
    a, b = _logits(plain, params, x), _logits(chunked, params, x)
    off = ~np.eye(d, dtype=bool)
    np.testing.assert_allclose(b[..., off], a[..., off], atol=1e-5)
    assert np.array_equal(np.isinf(a), np.isinf(b))
    # the chunked apply uses exactly the parameters the plain init made (no renamed modules)
    assert jax.tree_util.tree_structure(_init(chunked, x)) == jax.tree_util.tree_structure(params)


def test_row_chunk_is_inference_only_and_validated():
    config = ModelConfig(row_chunk=8)
    assert row_chunk_size(9, 20, config, is_training=False) == 8
    assert row_chunk_size(8, 20, config, is_training=False) is None
    assert row_chunk_size(9, 20, config, is_training=True) is None
    with pytest.raises(ValueError, match="row_chunk must be >= 1"):
        ModelConfig(row_chunk=0)


def test_row_chunk_keeps_the_ffn_hidden_within_its_budget():
    """The paper-size network chunks 1,000 rows at d = 20; the small default does not."""
    paper, small = ModelConfig(), ModelConfig(dim=64, widening=2)
    rows = row_chunk_size(1000, 20, paper, is_training=False)
    assert rows is not None and 1 <= rows < 1000
    assert rows * 20 * paper.widening * paper.dim * 4 <= CHUNK_BYTES
    assert row_chunk_size(1000, 20, small, is_training=False) is None
    assert row_chunk_size(1000, 50, small, is_training=False) is not None
    assert row_chunk_size(10, 10**6, paper, is_training=False) == 1  # never below one row


def test_blockwise_gradients_match_plain():
    x = _data(3, (1, 24, 4))
    params = _init(TINY, x)
    blockwise = ModelConfig(**{**TINY.to_dict(), "row_block": 8})

    def grad(config):
        net = make_network(config)
        f = lambda p: jnp.sum(
            jnp.where(jnp.eye(4, dtype=bool), 0.0, net.apply(p, None, x, False, False))
        )
        return jax.grad(f)(params)

    for a, b in zip(
        jax.tree_util.tree_leaves(grad(TINY)), jax.tree_util.tree_leaves(grad(blockwise))
    ):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("axes", ["n", "d"])
def test_ablation_axes_and_relational_head(axes):
    config = ModelConfig(**{**TINY.to_dict(), "attention_axes": axes, "relational_head": True})
    x = _data(4, (1, 9, 3))
    logits = _logits(config, _init(config, x), x)
    assert logits.shape == (1, 3, 3) and np.isfinite(logits[0, 0, 1])


def test_standardize_real_and_count_paths():
    rng = np.random.default_rng(5)
    x = np.stack([rng.normal(3.0, 2.0, size=(50, 4)), np.zeros((50, 4))], -1)
    x[:, 2, 0] = 7.0  # constant column: std 0 -> 1, values become 0
    z = np.asarray(standardize(jnp.asarray(x), False))
    np.testing.assert_allclose(z[..., 0].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z[:, [0, 1, 3], 0].std(0), 1.0, atol=1e-5)
    assert np.all(z[:, 2, 0] == 0.0)

    counts = rng.poisson(3.0, size=(40, 5)).astype(float)
    xc = np.stack([counts, np.zeros_like(counts)], -1)
    zc = np.asarray(standardize(jnp.asarray(xc), True))[..., 0]
    positive = counts > 0
    assert np.all(zc[~positive] == 0.0) and np.all(zc[positive] >= 0.0)
    cpm = np.log2(counts[positive] / (counts.sum(1, keepdims=True) * 1e-6).repeat(5, 1)[positive])
    np.testing.assert_allclose(zc[positive], (cpm - cpm.min()) / cpm.std(), rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.sampled_from([2, 3, 17, 60]),  # few shapes: each one compiles
    tied=st.integers(0, 60),
)
def test_normal_scores_equal_the_float64_nonparanormal_with_ties(seed, n, tied):
    """The training path (JAX, float32) and the inference path (numpy, float64) agree."""
    rng = np.random.default_rng(seed)
    x = rng.standard_cauchy((2, n, 3))
    x[0, : min(tied, n), 1] = 3.0  # a run of ties
    x[1, :, 2] = 5.0  # a constant column: all ranks tie, scores 0
    jax_scores = np.asarray(normal_scores(jnp.asarray(x, jnp.float32)))
    np.testing.assert_allclose(jax_scores, np.stack([nonparanormal(b) for b in x]), atol=2e-5)
    assert np.all(jax_scores[1, :, 2] == 0.0)


def test_pair_statistics_are_correlation_and_partial_correlation():
    """A chain 0 -> 1 -> 2: 0 and 2 correlate but are (almost) not partially correlated given 1,
    which is what the pair head adds to what the encoder sees."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 4))
    x[:, 1] += x[:, 0]
    x[:, 2] += x[:, 1]
    features = np.asarray(network.pair_statistics(jnp.asarray(3.0 * x + 1.0, jnp.float32)))
    corr = np.corrcoef(x, rowvar=False)
    precision = np.linalg.inv(corr + network.PAIR_RIDGE * np.eye(4))
    partial = -precision / np.sqrt(np.outer(np.diag(precision), np.diag(precision)))
    np.testing.assert_allclose(features[..., 0], corr, atol=1e-5)
    np.testing.assert_allclose(features[..., 1], partial, atol=1e-5)
    np.testing.assert_allclose(features[..., 2:], np.stack([corr, partial], -1) ** 2, atol=1e-5)
    assert features[0, 2, 0] > 0.5 and abs(features[0, 2, 1]) < 0.05


def test_pair_statistics_stay_finite_for_a_constant_column_or_fewer_rows_than_variables():
    x = np.random.default_rng(0).normal(size=(2, 3, 6))  # n = 3 < d = 6: singular correlation
    x[1, :, 4] = 5.0
    features = np.asarray(network.pair_statistics(jnp.asarray(x, jnp.float32)))
    assert np.all(np.isfinite(features))
    off = ~np.eye(6, dtype=bool)
    assert np.all(features[1, 4, off[4], :] == 0.0) and np.all(features[1, off[4], 4, :] == 0.0)


def test_the_pair_head_starts_at_zero_and_changes_logits_once_trained():
    config = ModelConfig(**{**TINY.to_dict(), "pair_statistics": True})
    x = _data(5, (2, 30, 4))
    params = _init(config, x)
    plain = {k: v for k, v in params.items() if network.PAIR_HEAD not in k}
    logits = _logits(config, params, x)
    np.testing.assert_array_equal(logits, _logits(TINY, plain, x))
    moved = {
        **params,
        f"BaseModel/{network.PAIR_HEAD}_out": {
            "w": jnp.ones((network.PAIR_HIDDEN, 1)),
            "b": jnp.zeros(1),
        },
    }
    assert not np.allclose(_logits(config, moved, x), logits, atol=1e-3)


@pytest.mark.parametrize("input_values", ["normal_scores", "zscore+normal_scores"])
def test_input_values_channels_and_the_rank_model_ignores_increasing_transforms(input_values):
    config = ModelConfig(**{**TINY.to_dict(), "input_values": input_values})
    assert config.input_channels == (3 if "+" in input_values else 2)
    x = _data(7, (1, 40, 4))
    z = np.asarray(standardize(jnp.asarray(x), False, input_values))
    assert z.shape == (1, 40, 4, config.input_channels)
    np.testing.assert_array_equal(z[..., 1], x[..., 1])  # the indicator stays channel 1
    model = AviciModel(_init(config, x), config)
    values = x[0, ..., 0]
    probs = model(values, x[0, ..., 1])
    np.testing.assert_allclose(  # the in-network path (training) equals the float64 path
        probs, jax.nn.sigmoid(_logits(config, model.params, x))[0], atol=1e-5
    )
    bent = values.copy()
    bent[:, 0] = np.exp(3 * values[:, 0])  # increasing: the same ranks
    bent[:, 2] = values[:, 2] ** 3
    moved = model(bent, x[0, ..., 1])
    if input_values == "normal_scores":
        np.testing.assert_allclose(moved, probs, atol=1e-6)
    else:
        assert not np.allclose(moved, probs, atol=1e-4)  # the z-score channel sees the change


def test_an_unknown_input_values_is_refused_by_name():
    with pytest.raises(ValueError, match="input_values must be one of"):
        ModelConfig(input_values="ranks")


def test_bce_ignores_masked_diagonal_and_has_finite_gradient():
    logits = jnp.array([[[-jnp.inf, 2.0], [-1.0, -jnp.inf]]])
    g = jnp.array([[[0, 1], [0, 0]]])
    expected = -(np.log(1 / (1 + np.exp(-2.0))) + np.log(1 - 1 / (1 + np.exp(1.0)))) / 2
    np.testing.assert_allclose(edge_bce(logits, g, mask_diag=True), expected, rtol=1e-6)
    grads = jax.grad(lambda lg: edge_bce(lg, g, mask_diag=True))(logits)
    assert np.all(np.isfinite(grads))


def test_spectral_radius_zero_on_dag_and_positive_with_cycle():
    key = jax.random.key(0)
    d = 5
    upper = np.triu(np.ones((d, d)), 1) > 0
    dag = np.where(upper, 4.0, -np.inf)  # probabilities ~0.98 on a DAG, exactly 0 elsewhere
    assert float(spectral_radius(key, jnp.asarray(dag[None]))[0]) == 0.0
    for cyclic in (np.where(upper, 4.0, -5.0), np.where(upper, 4.0, -np.inf)):
        cyclic[4, 0] = 4.0  # closes the cycle 0 -> ... -> 4 -> 0
        p = np.where(np.eye(d) > 0, 0.0, 1 / (1 + np.exp(-cyclic)))
        rho = float(spectral_radius(key, jnp.asarray(cyclic[None]))[0])
        assert rho > 0.5
        np.testing.assert_allclose(rho, np.max(np.abs(np.linalg.eigvals(p))), rtol=1e-3)


def test_penalty_gradient_and_dual_schedule():
    key = jax.random.key(1)
    logits = jnp.asarray(np.random.default_rng(0).normal(size=(3, 4, 4)), jnp.float32)
    g = jnp.zeros((3, 4, 4))
    (loss, aux) = total_loss(key, logits, g, jnp.asarray(2.0), mask_diag=True, acyclicity="dual")
    np.testing.assert_allclose(loss, aux["bce"] + 2.0 * aux["penalty"], rtol=1e-6)
    none, _ = total_loss(key, logits, g, jnp.asarray(2.0), mask_diag=True, acyclicity="none")
    np.testing.assert_allclose(none, aux["bce"], rtol=1e-6)

    dual = DualConfig(inner_step=2, burnin=4)
    state = init_dual()
    lams = []
    for step in range(7):
        state = update_dual(state, jnp.asarray(1.0), jnp.asarray(step), dual)
        lams.append(float(state.lam))
    # updates at steps 2, 4, 6 with step size min(1e-4, 1e-4 * t / 4) times the EMA (= 1.0)
    np.testing.assert_allclose(lams, [0, 0, 5e-5, 5e-5, 1.5e-4, 1.5e-4, 2.5e-4], atol=1e-9)


def test_api_shapes_threshold_and_caching():
    x = _data(6, (2, 30, 4))[..., 0]
    model = AviciModel(_init(TINY, _data(0, (1, 5, 4))), TINY)
    probs = model(x[0])
    assert probs.shape == (4, 4) and np.all(np.diag(probs) == 0) and model.last_compile_s > 0
    batch = model(x, interv=np.zeros_like(x))
    assert batch.shape == (2, 4, 4) and model.last_compile_s > 0
    np.testing.assert_allclose(batch[0], probs, atol=1e-6)
    assert model(x[0]).shape == (4, 4) and model.last_compile_s == 0.0
    graph = model(x[0], return_probs=False)
    assert graph.dtype == np.int8 and np.array_equal(graph, (probs > 0.5).astype(np.int8))


RANDOM = np.random.default_rng(0).normal(size=(10, 3))


@pytest.mark.parametrize(
    ("x", "interv", "message"),
    [
        (np.zeros(5), None, "must be"),
        (np.zeros((2, 2, 3, 4)), None, "must be"),
        (np.ones((10, 1)), None, "at least 2"),
        (np.full((10, 3), np.nan), None, r"row 1, column 1: 30 NaN"),
        (RANDOM, np.ones((10, 2)), r"intervention mask has shape \(10, 2\)"),
        (RANDOM, np.full((10, 3), 2), "only 0"),
        (RANDOM[:5], None, "at least 10 samples"),
        (np.c_[RANDOM, np.ones(10)], None, r"constant column\(s\) \[4\]"),
    ],
)
def test_bad_input_is_refused_before_compiling(x, interv, message):
    with pytest.raises(ValueError, match=message):
        check_model_input(x, interv)


def test_load_model_unknown_name():
    with pytest.raises(ValueError, match="no model at"):
        load_model("avici-small-v1-does-not-exist")


def _linear_gaussian(rng: np.random.Generator, d: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A linear-Gaussian SEM on a random DAG (edge prob 0.5 in a random order)."""
    order = rng.permutation(d)
    g = np.zeros((d, d), np.int8)
    for a in range(d):
        for b in range(a + 1, d):
            g[order[a], order[b]] = rng.random() < 0.5
    w = g * rng.uniform(1.0, 3.0, (d, d)) * rng.choice([-1.0, 1.0], (d, d))
    x = np.zeros((n, d))
    for j in order:
        x[:, j] = x @ w[:, j] + rng.normal(size=n)
    return g, x


@pytest.mark.slow
def test_small_model_overfits_fixed_datasets():
    import optax
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    gs, xs = zip(*(_linear_gaussian(rng, 5, 100) for _ in range(8)))
    g = jnp.asarray(np.stack(gs))
    x = jnp.asarray(np.stack([np.stack([xi, np.zeros_like(xi)], -1) for xi in xs]), jnp.float32)
    config = ModelConfig(dim=32, layers=2, num_heads=4, key_size=8, widening=2)
    net = make_network(config)
    params = net.init(jax.random.key(0), x, False, False)
    opt = optax.adam(3e-3)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(
            lambda p: edge_bce(net.apply(p, None, x, False, False), g, mask_diag=True)
        )(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, loss

    for _ in range(300):
        params, state, loss = step(params, state)
    probs = np.asarray(jax.nn.sigmoid(net.apply(params, None, x, False, False)))
    off = ~np.eye(5, dtype=bool)
    auroc = roc_auc_score(np.asarray(g)[:, off].ravel(), probs[:, off].ravel())
    assert auroc > 0.95, f"AUROC {auroc:.3f} after 300 steps (loss {float(loss):.3f})"


@pytest.mark.heavy  # 575 s on a Xeon's 2 cores, over 20 minutes on an AMD EPYC (Zen 3)'s
def test_ten_thousand_rows_at_d51_fit_in_8_gib():
    """Peak RSS of a fresh process running one n=10,000, d=51 forward of the paper-size model.

    At this size inference runs row-chunked and variable-by-variable (XLA temp ~0.56 GiB); on
    all rows at once it needed 7.65 GiB of XLA temp buffers and over 8 GiB RSS.
    """
    import os
    import subprocess
    import sys

    script = """
from avici_core.allocator import keep_freed_memory
keep_freed_memory()  # as the CLI runs it: freed memory stays in the heap
import numpy as np, jax
from avici_core.model import AviciModel, ModelConfig
from avici_core.model.network import make_network
config = ModelConfig()
params = make_network(config).init(jax.random.key(0), np.zeros((1, 4, 51, 2), np.float32), False, False)
probs = AviciModel(params, config)(np.random.default_rng(0).normal(size=(10_000, 51)))
assert probs.shape == (51, 51) and np.isfinite(probs).all()
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(int(hwm.split()[1]) / 2**20)  # own peak (ru_maxrss would carry the parent's)
"""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=3600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    peak_gib = float(out.stdout.strip().splitlines()[-1])
    assert peak_gib < 8.0, f"peak RSS {peak_gib:.2f} GiB"


@settings(max_examples=25, deadline=None)
@given(
    offsets=st.lists(st.floats(-1e6, 1e6), min_size=4, max_size=4),
    log_scales=st.lists(st.floats(-30.0, 30.0), min_size=4, max_size=4),
)
def test_output_is_invariant_to_the_units_of_each_column(offsets, log_scales):
    """Standardizing in float64 before the cast: shift and scale of any column change nothing."""
    model = _shift_scale_model()
    x = np.random.default_rng(3).normal(size=(40, 4))
    scales = 10.0 ** np.array(log_scales)
    moved = x * scales + np.array(offsets) * scales  # offsets relative to each column's scale
    np.testing.assert_allclose(model(moved), model(x), atol=1e-3)


def test_finite_input_never_gives_nan():
    model = _shift_scale_model()
    x = np.random.default_rng(4).normal(size=(40, 4))
    for huge in (1e38, 1e300, 1.7e308):
        extreme = x / np.abs(x).max() * huge
        assert np.isfinite(model(extreme)).all()
    tiny = x * 5e-324 * 1e10  # subnormal magnitudes
    assert np.isfinite(model(tiny)).all()


@functools.lru_cache(maxsize=1)
def _shift_scale_model():
    config = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)
    params = make_network(config).init(jax.random.key(1), np.zeros((1, 8, 4, 2)), False, False)
    return AviciModel(params, config)


def test_a_forward_too_large_for_memory_is_refused_with_the_largest_n(monkeypatch):
    import avici_core.model.api as api

    model = _shift_scale_model()
    x = np.random.default_rng(5).normal(size=(400, 4))
    needed = api.memory_needed(model._executable((1, 400, 4, 2)))
    monkeypatch.setattr(api, "memory_available", lambda: needed // 2)
    with pytest.raises(MemoryError, match=r"t\.csv: 400 rows x 4 variables.*--max-rows (\d+)") as e:
        model(x, source="t.csv")
    largest = int(re.search(r"--max-rows (\d+)", str(e.value)).group(1))
    assert 10 <= largest < 400
    assert model(x[:largest]).shape == (4, 4)  # what it names does fit


def test_a_table_outside_the_training_range_of_d_warns(caplog):
    config = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)
    params = make_network(config).init(jax.random.key(1), np.zeros((1, 8, 4, 2)), False, False)
    model = AviciModel(params, config, train_n_vars=(2, 3))
    model(np.random.default_rng(6).normal(size=(20, 4)))
    assert "outside the range this model was trained on (d = 2..3)" in caplog.text


def test_a_count_model_takes_a_gene_never_detected_a_real_valued_model_refuses_it():
    config = ModelConfig(dim=16, layers=1, num_heads=2, key_size=4, widening=2)
    params = make_network(config).init(jax.random.key(1), np.zeros((1, 8, 4, 2)), False, False)
    counts = np.random.default_rng(7).poisson(3.0, size=(50, 4)).astype(float)
    counts[:, 2] = 0.0  # all-zero gene: normal in single-cell counts
    probs = AviciModel(params, config, expects_counts=True)(counts)
    assert probs.shape == (4, 4) and np.isfinite(probs).all()
    with pytest.raises(ValueError, match=r"constant column\(s\) \[3\]"):
        AviciModel(params, config)(counts)
