"""Procedural image SCMs: determinism, exact re-rendering, data files, exact enumeration (numpy only)."""

import numpy as np
import pytest

from avici_core.cgm import data as cgm_data
from avici_core.cgm import queries, render, scm

NAMES = sorted(scm.DOMAINS)


@pytest.fixture(params=NAMES)
def domain(request):
    return scm.make_domain(request.param, seed=3)


def test_render_is_deterministic_and_in_range(domain):
    s1 = domain.sample(np.random.default_rng(0), 16)
    s2 = domain.sample(np.random.default_rng(0), 16)
    np.testing.assert_array_equal(s1.x, s2.x)
    assert s1.x.dtype == np.uint8 and s1.x.shape == (16, 32, 32)
    assert s1.x.max() > 0, "every domain draws something"
    np.testing.assert_array_equal(domain.render(s1.a, s1.v), s1.x)


def test_do_observed_values_rerenders_exactly(domain):
    s = domain.sample(np.random.default_rng(1), 32)
    for j in range(domain.d):
        cf = domain.counterfactual(s, {j: s.a[:, j].copy()})
        np.testing.assert_array_equal(cf.a, s.a)
        np.testing.assert_array_equal(cf.x, s.x)


def test_intervention_moves_descendants_only():
    dom = scm.make_domain("sprites_scm")
    s = dom.sample(np.random.default_rng(2), 64)
    cf = dom.counterfactual(s, {1: np.full(64, 0.95)})  # do(scale)
    np.testing.assert_array_equal(cf.a[:, [0, 2]], s.a[:, [0, 2]])
    assert np.all(cf.a[:, 1] == 0.95)
    assert np.abs(cf.a[:, 3] - s.a[:, 3]).max() > 0.01  # posY is a child of scale


def test_nan_do_entries_leave_rows_alone():
    dom = scm.make_domain("digits_scm")
    s = dom.sample(np.random.default_rng(3), 10)
    vals = np.where(np.arange(10) < 5, 4.0, np.nan)
    a = dom.propagate(s.u, {1: vals})
    np.testing.assert_array_equal(a[5:], s.a[5:])
    assert np.all(a[:5, 1] == 4.0)


def test_size_64_and_bad_size():
    dom = scm.make_domain("sprites_scm", size=64)
    assert dom.sample(np.random.default_rng(0), 4).x.shape == (4, 64, 64)
    with pytest.raises(ValueError, match="32 or 64"):
        scm.make_domain("sprites_scm", size=48)
    with pytest.raises(ValueError, match="unknown cgm dataset"):
        scm.make_domain("mnist")


def test_digit_stroke_width_matches_thickness():
    seg = np.array([[[[0.1, 0.5], [0.9, 0.5]]]])  # one horizontal segment through the middle
    img = render.stroke_image(seg, np.array([4.0]), 32)[0]
    assert img[:, 16].sum() == pytest.approx(4.0, abs=0.51)


def test_randdag_is_seeded_and_acyclic():
    g1 = scm.make_domain("sprites_randdag", seed=5).graph
    g2 = scm.make_domain("sprites_randdag", seed=5).graph
    np.testing.assert_array_equal(g1, g2)
    assert 5 <= g1.shape[0] <= 7
    scm.topological_order(g1)


def test_dataset_file_roundtrip(tmp_path):
    d = cgm_data.generate("scene_scm", 1, n_train=20, n_test=10, n_simint=10)
    cgm_data.save(tmp_path / "d.npz", d)
    e = cgm_data.load(tmp_path / "d.npz")
    for split in cgm_data.SPLITS:
        for f in ("x", "a", "u", "v"):
            np.testing.assert_array_equal(getattr(d[split], f), getattr(e[split], f))
    with pytest.raises(ValueError, match="unknown split"):
        e["valid"]


def test_simulated_interventions_break_dependence():
    d = cgm_data.generate("sprites_scm", 0, n_train=10, n_test=10, n_simint=4000)
    obs, sim = (
        cgm_data.generate("sprites_scm", 0, n_train=4000, n_test=10, n_simint=10)["train"],
        d["simint"],
    )
    assert abs(np.corrcoef(obs.a[:, 1], obs.a[:, 3])[0, 1]) > 0.3  # scale -> posY
    assert abs(np.corrcoef(sim.a[:, 1], sim.a[:, 3])[0, 1]) < 0.06


def test_scene_enumeration_matches_conditioning_and_intervening():
    dom = scm.make_domain("scene_scm")
    cards = [at.card for at in dom.attributes]
    hidden, action = dom.names.index("strength"), dom.names.index("action")
    cond, inter = queries.hidden_vs_action(dom.CPTS, dom.graph, cards, hidden, action)
    assert np.abs(cond - inter).max() > 0.1, "seeing and doing must differ here"
    rng = np.random.default_rng(7)
    obs = dom.propagate(dom.sample_noise(rng, 60000)[0])  # attributes only: no rendering needed
    for a in range(cards[action]):
        rows = obs[:, action] == a
        freq = np.bincount(obs[rows, hidden].astype(int), minlength=2) / rows.sum()
        np.testing.assert_allclose(freq, cond[a], atol=0.02)
        sd = dom.propagate(dom.sample_noise(rng, 30000)[0], {action: np.full(30000, float(a))})
        freq_do = np.bincount(sd[:, hidden].astype(int), minlength=2) / 30000
        np.testing.assert_allclose(freq_do, inter[a], atol=0.02)


def test_enumeration_rejects_impossible_evidence():
    cpts = {0: np.array([1.0, 0.0]), 1: np.array([[0.5, 0.5], [0.5, 0.5]])}
    g = np.array([[0, 1], [0, 0]])
    joint = queries.joint_table(cpts, g, [2, 2])
    with pytest.raises(ValueError, match="probability zero"):
        queries.conditional(joint, 1, {0: 1})
