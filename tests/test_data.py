"""Simulators, registry and dataset files (avici.md §3)."""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avici_core.data import (
    generate_dataset,
    get_domain,
    load_dataset,
    load_registry,
    save_dataset,
    select_setting,
    simulate_data,
)
from avici_core.data.distributions import Constant, Gaussian, SignedUniform, Uniform
from avici_core.data.graphs import (
    GRG,
    SBM,
    ErdosRenyi,
    ScaleFree,
    ScaleFreeTranspose,
    WattsStrogatz,
)
from avici_core.data.mechanisms import LinearAdditive, RFFAdditive, topological_order

GRAPH_MODELS = [
    ErdosRenyi(2.0),
    ScaleFree(2, 1.0),
    ScaleFreeTranspose(2, 1.0),
    WattsStrogatz(2, 1, 0.3),
    WattsStrogatz(3, 1, 0.3),
    SBM(2.0, 5, 0.1),
    GRG(0.1),
]


def is_dag(g: np.ndarray) -> bool:
    try:
        topological_order(g)
    except ValueError:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(GRAPH_MODELS), d=st.integers(2, 40), seed=st.integers(0, 2**32 - 1))
def test_every_graph_model_gives_a_dag(model, d, seed):
    g = model(np.random.default_rng(seed), d)
    assert g.shape == (d, d) and g.dtype == np.int8
    assert set(np.unique(g)) <= {0, 1}
    assert np.all(np.diag(g) == 0)
    assert is_dag(g)


@pytest.mark.parametrize(
    "model, expected",
    [
        (ErdosRenyi(1.0), 30.0),
        (ErdosRenyi(2.0), 60.0),
        (SBM(2.0, 5, 0.1), 60.0),
        (ScaleFree(2, 1.0), 2 * 30 - 3),  # node 1 can have one parent only: 2(d-1) - 1
        (ScaleFreeTranspose(1, 1.0), 29.0),
    ],
)
def test_expected_edge_counts(model, expected):
    rng = np.random.default_rng(0)
    counts = np.array([model(rng, 30).sum() for _ in range(300)])
    se = counts.std() / np.sqrt(len(counts)) + 1e-9
    assert abs(counts.mean() - expected) < max(4 * se, 0.02 * expected), counts.mean()


def test_scale_free_skew_is_in_degree_and_transpose_is_out_degree():
    rng = np.random.default_rng(1)
    sf = [ScaleFree(2, 1.0)(rng, 50) for _ in range(50)]
    sft = [ScaleFreeTranspose(2, 1.0)(rng, 50) for _ in range(50)]
    max_in = lambda gs: np.mean([g.sum(0).max() for g in gs])
    max_out = lambda gs: np.mean([g.sum(1).max() for g in gs])
    assert max_in(sf) > 2.5 * max_out(sf)  # hubs with many parents
    assert max_out(sft) > 2.5 * max_in(sft)  # hub regulators
    assert max_out(sf) <= 2  # each new node sends exactly m = 2 edges


def chain_and_collider() -> np.ndarray:
    g = np.zeros((4, 4), np.int8)
    g[0, 1] = g[1, 2] = g[3, 2] = 1  # 0 -> 1 -> 2 <- 3
    return g


def test_intervened_column_equals_drawn_values_and_ignores_parents():
    mech = LinearAdditive(weight=Constant(2.0), noise_scale=Constant(0.5))
    rng = np.random.default_rng(0)
    _, x_int, mask, _ = mech.sample(
        rng,
        chain_and_collider(),
        n_obs=10,
        n_int=400,
        targets=np.array([1, 2]),
        interv_dist=Constant(7.0),
    )
    on1, on2 = mask[:, 1] == 1, mask[:, 2] == 1
    assert np.all(x_int[on1, 1] == 7.0) and np.all(x_int[on2, 2] == 7.0)
    # interleaved: rows alternate targets 1, 2, 1, 2, ... and split evenly
    assert np.array_equal(np.flatnonzero(on1), np.arange(0, 400, 2))
    assert mask.sum(axis=1).tolist() == [1] * 400
    # the child of an intervened node still follows its mechanism: x2 = 2 x1 + 2 x3 + b + noise
    resid = x_int[on1, 2] - 2 * 7.0 - 2 * x_int[on1, 3]
    assert resid.std() == pytest.approx(0.5, rel=0.2)


def test_random_interventions_are_i_i_d_draws_from_the_value_distribution():
    mech = RFFAdditive(noise_scale=Constant(0.5))
    _, x_int, mask, _ = mech.sample(
        np.random.default_rng(2),
        chain_and_collider(),
        n_obs=5,
        n_int=2000,
        targets=np.array([0, 1, 2, 3]),
        interv_dist=SignedUniform(1.0, 5.0),
    )
    values = x_int[mask == 1]
    assert np.all((np.abs(values) >= 1.0) & (np.abs(values) <= 5.0))
    assert abs(np.mean(values > 0) - 0.5) < 0.05


def test_linear_data_regress_back_to_the_true_weights():
    mech = LinearAdditive(weight=Constant(1.5), noise_scale=Constant(1.0))
    g = chain_and_collider()
    x, *_ = mech.sample(
        np.random.default_rng(3), g, n_obs=20000, n_int=0, targets=np.array([]), interv_dist=None
    )
    for j in range(4):
        parents = np.flatnonzero(g[:, j])
        design = np.column_stack([x[:, parents], np.ones(len(x))])
        coef, *_ = np.linalg.lstsq(design, x[:, j], rcond=None)
        np.testing.assert_allclose(coef[:-1], 1.5, atol=0.03)


def _noise_spread_by_parent_bin(heteroscedastic) -> float:
    mech = LinearAdditive(
        weight=Constant(1.0), noise_scale=Constant(1.0), heteroscedastic=heteroscedastic
    )
    g = np.array([[0, 1], [0, 0]], np.int8)
    ratios = []
    for seed in range(5):
        x, *_ = mech.sample(
            np.random.default_rng(seed),
            g,
            n_obs=20000,
            n_int=0,
            targets=np.array([]),
            interv_dist=None,
        )
        coef = np.polyfit(x[:, 0], x[:, 1], 1)
        resid = x[:, 1] - np.polyval(coef, x[:, 0])
        bins = np.array_split(np.argsort(x[:, 0]), 5)
        stds = [resid[b].std() for b in bins]
        ratios.append(max(stds) / min(stds))
    return float(np.median(ratios))


def test_heteroscedastic_noise_depends_on_the_parents():
    assert _noise_spread_by_parent_bin(None) < 1.15
    assert _noise_spread_by_parent_bin({"length_scale": 1.0, "output_scale": 2.0}) > 1.5


def test_registry_contains_the_required_domains():
    registry = load_registry()
    for name in [
        "lin-gauss",
        "lin-gauss-heterosked",
        "lin-laplace-cauchy",
        "rff-gauss",
        "rff-gauss-heterosked",
        "rff-laplace-cauchy",
        "neurips-linear",
        "neurips-rff",
        "scm-v0",
    ]:
        assert name in registry
    assert registry["scm-v0"].families == (
        "ErdosRenyi",
        "GRG",
        "SBM",
        "ScaleFree",
        "ScaleFreeTranspose",
        "WattsStrogatz",
    )


def test_expansion_weights_families_by_their_combinations():
    spec = get_domain("scm-v0")
    rng = np.random.default_rng(0)
    fams = [spec.sample_spec(rng)["graph"]["class"] for _ in range(4000)]
    # ER 3, SF 12, SF-T 12, WS 8, SBM 9, GRG 3 combinations of 47
    assert abs(fams.count("ScaleFree") / 4000 - 12 / 47) < 0.03
    assert abs(fams.count("GRG") / 4000 - 3 / 47) < 0.02
    noises = [spec.sample_spec(rng)["mechanism"]["noise"]["class"] for _ in range(3000)]
    assert abs(noises.count("Gaussian") / 3000 - 3 / 6) < 0.03  # weighted 3:2:1 by duplicates
    assert abs(noises.count("Cauchy") / 3000 - 1 / 6) < 0.03


def test_test_sets_balance_graph_families_over_seeds():
    families = [generate_dataset("lin-gauss", j).meta["family"] for j in range(10)]
    expected = list(get_domain("lin-gauss").families) * 2
    assert families == expected


def test_streams_are_disjoint_and_seeds_reproducible():
    a = generate_dataset("lin-gauss", 3, stream="test")
    b = generate_dataset("lin-gauss", 3, stream="tune")
    c = generate_dataset("lin-gauss", 3, stream="test")
    assert not np.array_equal(a.x_obs, b.x_obs)
    assert np.array_equal(a.x_obs, c.x_obs) and np.array_equal(a.g, c.g)


def test_dataset_file_round_trip_and_settings(tmp_path):
    ds = generate_dataset("rff-gauss", 0)
    assert ds.x_obs.shape == (1000, 20) and ds.x_int.shape == (500, 20)
    assert ds.x_obs_heldout.shape == (1000, 20) and ds.x_int_heldout.shape == (500, 20)
    save_dataset(tmp_path / "d.npz", ds)
    back = load_dataset(tmp_path / "d.npz")
    for key in ["g", "x_obs", "x_int", "mask_int", "x_obs_heldout"]:
        assert np.array_equal(getattr(ds, key), getattr(back, key))
    assert back.meta["domain"] == "rff-gauss"
    x, m = select_setting(back, "obs")
    assert x.shape == (1000, 20) and m.sum() == 0
    x, m = select_setting(back, "int")
    assert x.shape == (1000, 20) and m[:500].sum() == 0 and m[500:].sum() == 500
    with pytest.raises(ValueError, match="unknown setting"):
        select_setting(back, "both")


def _generate_in_subprocess(out, hashseed: str) -> str:
    env = {"PYTHONHASHSEED": hashseed, "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "avici_core",
            "generate",
            "--domain",
            "rff-gauss-heterosked",
            "--seed",
            "4",
            "--out",
            str(out),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return hashlib.sha256(out.read_bytes()).hexdigest()


def test_files_are_byte_identical_across_processes(tmp_path):
    assert _generate_in_subprocess(tmp_path / "a.npz", "1") == _generate_in_subprocess(
        tmp_path / "b.npz", "2"
    )


def test_simulate_data_matches_the_original_api():
    g, x, interv = simulate_data(10, 100, n_interv=20, domain="lin-gauss", seed=1)
    assert g.shape == (10, 10) and x.shape == (120, 10) and interv.shape == (120, 10)
    assert interv.sum() == 20 and is_dag(g)
    _, x2, none = simulate_data(10, 100, domain="lin-gauss", seed=1)
    assert none is None and x2.shape == (100, 10)
    with pytest.raises(ValueError, match="d must be >= 2"):
        simulate_data(1, 100)
    with pytest.raises(ValueError, match="n >= 1"):
        simulate_data(5, 0)
    with pytest.raises(ValueError, match="unknown domain 'nope'.*lin-gauss"):
        simulate_data(5, 10, domain="nope")


def write_registry(tmp_path, body: str):
    path = tmp_path / "domains.yaml"
    path.write_text(textwrap.dedent(body))
    return path


GOOD = """
domains:
  ok:
    n_vars: 5
    graph: {class: ErdosRenyi, edges_per_var: 1.0}
    mechanism: {class: LinearAdditive, weight: {class: SignedUniform, low: 1, high: 2}}
"""


@pytest.mark.parametrize(
    "replace, pattern",
    [
        (("n_vars: 5", "n_var: 5"), r"domain 'ok'.*n_var"),  # typo in a key
        (("n_vars: 5", "n_vars: one"), r"domain 'ok', key 'n_vars'"),  # wrong type
        (("n_vars: 5", "n_vars: 1"), r"domain 'ok', key 'n_vars'"),  # d < 2
        (("ErdosRenyi", "ErdosRenyl"), r"domain 'ok', key 'graph'.*unknown class 'ErdosRenyl'"),
        (
            ("edges_per_var: 1.0", "edges_per_vars: 1.0"),
            r"key 'graph'.*no argument.*edges_per_vars",
        ),
        (("edges_per_var: 1.0", "edges_per_var: -1.0"), r"key 'graph'.*edges_per_var must be > 0"),
        (("edges_per_var: 1.0", "edges_per_var: 4.0"), r"key 'graph'.*at most 10"),  # density
        (("low: 1, high: 2", "low: 3, high: 2"), r"key 'mechanism.weight'.*low <= high"),
        (("    mechanism:", "    mechanisms:"), r"domain 'ok'"),  # missing required key
    ],
)
def test_broken_registry_entries_name_the_domain_and_key(tmp_path, replace, pattern):
    path = write_registry(tmp_path, GOOD.replace(*replace))
    with pytest.raises(ValueError, match=pattern):
        load_registry(path)


def test_impossible_intervention_count_is_refused(tmp_path):
    path = write_registry(tmp_path, GOOD + "    interventions: {targets: 9}\n")
    with pytest.raises(ValueError, match=r"key 'interventions.targets'.*9 intervened nodes"):
        load_registry(path)


def test_user_module_contributes_a_graph_class(tmp_path):
    module = tmp_path / "my_graphs.py"
    module.write_text(
        textwrap.dedent("""
        import numpy as np

        class Chain:
            def __call__(self, rng, n_vars):
                return np.eye(n_vars, k=1, dtype=np.int8)
    """)
    )
    path = write_registry(
        tmp_path,
        GOOD.replace("{class: ErdosRenyi, edges_per_var: 1.0}", f"{{class: '{module}:Chain'}}"),
    )
    ds = generate_dataset("ok", 0, registry_path=path)
    assert ds.g.sum() == 4 and ds.x_obs.shape == (1000, 5)


def test_distributions_reject_bad_parameters():
    with pytest.raises(ValueError):
        Uniform(2.0, 1.0)
    with pytest.raises(ValueError):
        Gaussian(-1.0)


def test_real_data_domain_loads_through_the_registry():
    ds = generate_dataset("sachs", 0)
    assert ds.g.shape == (11, 11) and ds.g.sum() == 17
    assert ds.meta["domain"] == "sachs" and ds.meta["family"] == "real"
    x, mask = select_setting(ds, "obs")
    assert x.shape[1] == 11 and mask.sum() == 0
    with pytest.raises(ValueError, match="cannot be sampled"):
        get_domain("sachs").sample_spec(np.random.default_rng(0))


def test_gene_domain_gives_counts_with_knockouts():
    ds = generate_dataset("gene-ecoli", 2)
    assert ds.is_count_data and ds.x_obs.shape == (1000, 20)
    assert np.all(ds.x_obs >= 0) and np.all(ds.x_obs == np.round(ds.x_obs))
    assert np.array_equal(ds.mask_int.sum(axis=1), np.ones(500))


def test_a_domain_cannot_be_both_synthetic_and_real(tmp_path):
    path = write_registry(tmp_path, GOOD + "    loader: avici_core.data.sachs:load_sachs\n")
    with pytest.raises(ValueError, match="domain 'ok'"):
        load_registry(path)


@settings(max_examples=25, deadline=None)
@given(
    vars_factor=st.floats(min_value=0.05, max_value=1.0),
    rows_factor=st.floats(min_value=0.05, max_value=1.0),
)
def test_scaled_domain_shrinks_sizes_and_keeps_intervention_counts_possible(
    vars_factor, rows_factor
):
    spec = get_domain("linear-d100-ood")  # 100 variables, 50 intervened nodes
    small = spec.scaled(vars_factor, rows_factor)
    assert 3 <= small.n_vars <= spec.n_vars and small.n_vars >= spec.n_vars * vars_factor
    assert 40 <= small.n_obs <= spec.n_obs and small.n_obs >= spec.n_obs * rows_factor
    assert 1 <= small.tree["interventions"]["targets"] <= small.n_vars
    assert spec.n_vars == 100 and spec.tree["interventions"]["targets"] == 50  # not mutated


def test_scaled_dataset_has_the_scaled_sizes_and_records_the_scale():
    ds = generate_dataset("rff-d30-ood", 3, vars_factor=0.33, rows_factor=0.2)
    full = get_domain("rff-d30-ood")
    assert ds.n_vars == 10 and ds.g.shape == (10, 10)
    assert len(ds.x_obs) == math.ceil(full.n_obs * 0.2 / 2)  # the first half is used
    assert ds.meta["scale"] == {"vars": 0.33, "rows": 0.2}
    assert "scale" not in generate_dataset("rff-d30-ood", 3).meta  # default files unchanged
    assert get_domain("sachs").scaled(0.33, 0.2) == get_domain("sachs")  # real data as it is
    with pytest.raises(ValueError, match="positive"):
        full.scaled(0.0, 1.0)
