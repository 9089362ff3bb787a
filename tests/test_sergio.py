"""SERGIO-style gene expression with knockouts (avici_core.data.sergio)."""

from __future__ import annotations

import numpy as np
import pytest

from avici_core.data.distributions import Beta, Uniform
from avici_core.data.registry import DomainSpec
from avici_core.data.sergio import (
    TECH_NOISE_PRESETS,
    GRNSergio,
    Kinetics,
    draw_tech_noise,
    expected_steady_state,
    gene_levels,
    hill,
    simulate_cells,
    simulate_wild_type,
    technical_noise,
)
from avici_core.data.simulate import draw_dataset

CHAIN = np.array([[0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]], np.int8)  # 0->1->{2,3}
NO_TECH_NOISE = dict(
    add_outlier_effect=False,
    add_lib_size_effect=False,
    add_dropout_effect=False,
    return_count_data=False,
)


def _mechanism(**overrides) -> GRNSergio:
    kwargs = dict(
        b=Uniform(1.0, 3.0),
        k_param=Uniform(1.0, 5.0),
        k_sign_p=Beta(0.5, 0.5),
        hill=[1.9, 2.0, 2.1],
        decays=0.8,
        noise_params=1.0,
        cell_types=3,
        tech_noise_config=["illumina", "drop-seq", "smart-seq"],
    )
    return GRNSergio(**{**kwargs, **overrides})


def _sample(mech, g, seed=0, n_obs=60, n_int=40, targets=None):
    targets = np.arange(g.shape[0]) if targets is None else np.asarray(targets)
    return mech.sample(
        np.random.default_rng(seed), g, n_obs=n_obs, n_int=n_int, targets=targets, interv_dist=None
    )


def test_hill_is_monotone_bounded_and_half_at_h():
    x = np.linspace(0.0, 20.0, 401)
    for n in (1.5, 2.0, 2.5):
        up = hill(x, np.full_like(x, 3.0), n)
        assert np.all(np.diff(up) > 0) and up[0] == 0.0 and np.all(up < 1.0)
        assert np.all(np.diff(1.0 - up) < 0)  # repression falls
        assert hill(np.array([3.0]), np.array([3.0]), n)[0] == pytest.approx(0.5)
    assert hill(np.zeros(2), np.zeros(2), 2.0).tolist() == [0.0, 0.0]  # no 0/0


def test_gene_levels_and_cycle_error():
    assert gene_levels(CHAIN).tolist() == [0, 1, 2, 2]
    cyc = CHAIN.copy()
    cyc[2, 0] = 1
    with pytest.raises(ValueError, match="cycle"):
        gene_levels(cyc)


def test_counts_are_nonnegative_integers_with_interleaved_knockouts():
    g = np.triu(np.random.default_rng(0).random((6, 6)) < 0.5, 1).astype(np.int8)
    x_obs, x_int, mask, is_count = _sample(_mechanism(), g, n_obs=50, n_int=32, targets=[1, 2, 4])
    assert is_count is True
    assert x_obs.shape == (50, 6) and x_int.shape == (32, 6) and mask.shape == (32, 6)
    for x in (x_obs, x_int):
        assert np.all(x >= 0) and np.array_equal(x, np.round(x)) and np.isfinite(x).all()
    assert mask.dtype == np.int8 and np.all(mask.sum(axis=1) == 1)
    assert np.argmax(mask, axis=1).tolist() == ([1, 2, 4] * 11)[:32]  # t1, t2, t3, t1, ...
    assert np.all(x_int[mask == 1] == 0)  # knocked out genes stay zero through technical noise


def test_knocked_out_genes_are_zero_before_technical_noise():
    mech = _mechanism(**NO_TECH_NOISE)
    x_obs, x_int, mask, is_count = _sample(mech, CHAIN, n_obs=40, n_int=40)
    assert is_count is False
    assert np.all(x_int[mask == 1] == 0.0)
    assert np.all(x_obs.mean(axis=0) > 0)  # wild type expresses every gene
    assert not np.array_equal(x_obs, np.round(x_obs))  # clean concentrations, not counts


def test_knockout_of_an_activator_lowers_its_target():
    mech = _mechanism(k_sign_p=1.0, cell_types=2, **NO_TECH_NOISE)  # all activations
    x_obs, x_int, _, _ = _sample(mech, CHAIN, n_obs=400, n_int=400, targets=[0])
    assert x_int[:, 1].mean() < 0.5 * x_obs[:, 1].mean()


def test_noise_free_dynamics_stay_at_the_expected_steady_state():
    mech = _mechanism(noise_params=0.0, **NO_TECH_NOISE)
    kin = mech.draw_kinetics(np.random.default_rng(0), CHAIN)
    run = {"sampling_state": 3, "dt": 0.01, "noise_type": "dpd"}
    wild, half = simulate_wild_type(np.random.default_rng(1), kin, n_cells=5, **run)  # [T, 5, 4]
    knockout = np.zeros((2, 4), bool)
    knockout[1, 1] = True
    x_ss = expected_steady_state(kin, knockout, half)  # [2, T, 4]
    np.testing.assert_allclose(half, x_ss[0].mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(wild, np.repeat(x_ss[0][:, None], 5, axis=1), rtol=1e-9)
    n_types = kin.basal.shape[0]
    cells = simulate_cells(
        np.random.default_rng(2),
        x_ss.reshape(-1, 4),
        np.tile(kin.basal, (2, 1)),
        np.repeat(knockout, n_types, axis=0),
        kin,
        half,
        n_cells=5,
        **run,
    )  # [2T, 5, 4]
    np.testing.assert_allclose(cells, np.repeat(x_ss.reshape(-1, 1, 4), 5, axis=1), rtol=1e-9)
    assert np.all(x_ss[1][:, 1] == 0)


def test_half_response_is_the_simulated_wild_type_mean():
    kin = _mechanism(noise_params=1.5).draw_kinetics(np.random.default_rng(0), CHAIN)
    run = {"sampling_state": 15, "dt": 0.01, "noise_type": "dpd"}
    wild, half = simulate_wild_type(np.random.default_rng(1), kin, n_cells=300, **run)
    # the cells are a subset of the recorded steps the half-responses average over
    np.testing.assert_allclose(wild.mean(axis=(0, 1)), half, rtol=0.1)


@pytest.mark.parametrize("noise_type", ["dpd", "spd", "sp"])
def test_root_mean_matches_basal_over_decay(noise_type):
    kin = Kinetics(
        k=np.zeros((2, 2)),
        basal=np.array([[4.0, 2.0]]),
        hill=2.0,
        decay=0.8,
        noise=0.3,
        levels=np.zeros(2, np.int64),
    )
    x0 = np.array([[5.0, 2.5]])
    cells = simulate_cells(
        np.random.default_rng(0),
        x0,
        kin.basal,
        np.zeros((1, 2), bool),
        kin,
        x0[0],
        n_cells=2000,
        sampling_state=15,
        dt=0.01,
        noise_type=noise_type,
    )
    np.testing.assert_allclose(cells[0].mean(axis=0), [5.0, 2.5], rtol=0.05)
    assert cells[0].std(axis=0).min() > 0.05


def test_same_seed_same_data_and_seeds_differ():
    mech = _mechanism()
    a = _sample(mech, CHAIN, seed=3)
    b = _sample(mech, CHAIN, seed=3)
    c = _sample(mech, CHAIN, seed=4)
    for u, v in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_library_size_rescales_cells_and_dropout_zeroes_low_values():
    rng = np.random.default_rng(0)
    x = rng.uniform(1.0, 10.0, (200, 5))
    params = draw_tech_noise(np.random.default_rng(1), "10x-chromium")
    scaled = technical_noise(
        rng, x, params, outliers=False, lib_size=True, dropout=False, counts=False
    )
    ratio = scaled / x
    np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones((1, 5)), rtol=1e-12)
    dropped = technical_noise(
        rng, x, params, outliers=False, lib_size=False, dropout=True, counts=False
    )
    zero = dropped == 0
    assert 0.3 < zero.mean() < 0.99
    assert x[zero].mean() < x[~zero].mean()  # dropout hits low expression first


def test_every_preset_draws_listed_values():
    for name, options in TECH_NOISE_PRESETS.items():
        drawn = draw_tech_noise(np.random.default_rng(0), name)
        assert all(drawn[k] in options[k] for k in options)


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="noise_type"):
        _mechanism(noise_type="xyz")
    with pytest.raises(ValueError, match="tech_noise_config"):
        _mechanism(tech_noise_config="nanopore")
    with pytest.raises(ValueError, match="knockout target"):
        _sample(_mechanism(), CHAIN, targets=[])
    with pytest.raises(ValueError, match="distinct"):
        _sample(_mechanism(), CHAIN, targets=[1, 1])
    with pytest.raises(ValueError, match="gene indices"):
        _sample(_mechanism(), CHAIN, targets=[4])
    with pytest.raises(ValueError, match="cell_types"):
        _sample(_mechanism(cell_types=2.5), CHAIN)


def test_registry_builds_and_draws_a_gene_domain():
    spec = DomainSpec(
        id="gene-test",
        n_vars=8,
        n_obs=40,
        n_int=16,
        tree={
            "graph": {"class": "Ecoli", "topk": 0.2},
            "mechanism": {
                "class": "GRNSergio",
                "b": {"class": "Uniform", "low": 1.0, "high": 3.0},
                "k_param": {"class": "Uniform", "low": 1.0, "high": 5.0},
                "k_sign_p": {"class": "Beta", "a": 0.5, "b": 0.5},
                "hill": 2.0,
                "decays": 0.8,
                "noise_params": 1.0,
                "cell_types": 5,
                "tech_noise_config": "10x-chromium",
            },
            "interventions": {"targets": 1.0, "values": {"class": "Uniform", "low": 0, "high": 1}},
        },
    )
    draw = draw_dataset(np.random.default_rng(0), spec, n_vars=8, n_obs=40, n_int=16)
    assert draw.is_count_data and draw.x_obs.shape == (40, 8) and draw.x_int.shape == (16, 8)
    assert np.all(draw.x_int[draw.mask_int == 1] == 0)
    assert np.array_equal(draw.x_obs, np.round(draw.x_obs))
