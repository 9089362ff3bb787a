"""Parent mechanisms, image models, metrics, graphs and tables of the image track (small shapes)."""

import json

import jax
import numpy as np
import pytest

from avici_core.cgm import bridge, evaluate, mechanisms, metrics, oracle, report, scm, vae
from avici_core.cgm import data as cgm_data


@pytest.fixture(scope="module")
def sprites():
    return cgm_data.generate("sprites_scm", 0, n_train=600, n_test=64, n_simint=300)


@pytest.fixture(scope="module")
def fitted(sprites):
    dom = sprites.domain
    return mechanisms.fit(
        jax.random.PRNGKey(0), dom.attributes, dom.graph, sprites["train"].a, steps=150
    )


@pytest.fixture(scope="module")
def oracle_b(sprites):
    spec = oracle.OracleSpec(sprites.domain.attributes, width=4)
    sim = sprites["simint"]
    return oracle.train(
        jax.random.PRNGKey(1), np.random.default_rng(1), spec, sim.x, sim.a, steps=3, batch=16
    )


@pytest.mark.parametrize("name", ["sprites_scm", "digits_scm", "scene_scm", "sprites_randdag"])
def test_abduction_round_trips(name):
    dom = scm.make_domain(name, seed=2)
    a = dom.sample(np.random.default_rng(0), 200).a
    f = mechanisms.fit(jax.random.PRNGKey(0), dom.attributes, dom.graph, a, steps=30)
    u = f.abduct(np.random.default_rng(1), a)
    np.testing.assert_allclose(f.propagate(u), a, rtol=1e-6, atol=1e-6)
    if all(at.observed for at in dom.attributes):  # hidden nodes are re-imputed, not kept
        np.testing.assert_allclose(f.counterfactual(np.random.default_rng(1), a, {}), a, atol=1e-6)


def test_fitted_counterfactual_parents_follow_the_graph(sprites, fitted):
    test = sprites["test"]
    do = {1: np.full(len(test.a), 0.9)}  # do(scale): posY must move, posX must not
    a_true = sprites.domain.propagate(test.u, do)
    a_fit = fitted.counterfactual(np.random.default_rng(0), test.a, do)
    np.testing.assert_allclose(a_fit[:, [0, 2]], test.a[:, [0, 2]], atol=1e-9)
    assert np.abs(a_fit[:, 3] - a_true[:, 3]).mean() < 0.05
    empty = mechanisms.fit(
        jax.random.PRNGKey(0),
        sprites.domain.attributes,
        np.zeros((4, 4)),
        sprites["train"].a,
        steps=30,
    )
    a_edit = empty.counterfactual(np.random.default_rng(0), test.a, do)
    np.testing.assert_allclose(a_edit[:, 3], test.a[:, 3], atol=1e-6)  # no propagation


def test_fitted_cpts_match_scene_truth():
    dom = scm.make_domain("scene_scm")
    a = dom.sample(np.random.default_rng(0), 4000).a
    f = mechanisms.fit(jax.random.PRNGKey(0), dom.attributes, dom.graph, a, steps=300)
    for j in range(dom.d):
        np.testing.assert_allclose(f.cpt(j), dom.CPTS[j], atol=0.06)
    post = evaluate.scene_posteriors(dom, f)
    assert post["rung1/tv_hidden_given_action"] < 0.06 and post["rung2/tv_hidden_do_action"] < 0.06


def test_fit_rejects_bad_graph(sprites):
    attrs = sprites.domain.attributes
    with pytest.raises(ValueError, match="does not match"):
        mechanisms.fit(jax.random.PRNGKey(0), attrs, np.zeros((3, 3)), sprites["train"].a)
    with pytest.raises(ValueError, match="cycle"):
        mechanisms.fit(
            jax.random.PRNGKey(0),
            attrs,
            np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0] * 4, [0] * 4]),
            sprites["train"].a,
        )


def test_reference_maps_satisfy_their_axioms(sprites, fitted, oracle_b):
    dom, test = sprites.domain, sprites["test"]
    m_id, _ = evaluate.evaluate(
        np.random.default_rng(0), sprites, fitted, evaluate.identity_map(), oracle_b, n_eval=32
    )
    assert (
        m_id["composition_1"] == 0.0
        and m_id["composition_10"] == 0.0
        and m_id["reversibility"] == 0.0
    )
    assert m_id["do(shape)/gt_l1"] > 1.0  # ... but it is not a counterfactual
    m_r, ex = evaluate.evaluate(
        np.random.default_rng(0),
        sprites,
        fitted,
        evaluate.renderer_map(dom, test),
        oracle_b,
        n_eval=32,
        true_parents=True,
    )
    for q in ("do(shape)", "do(scale)", "do(posX)", "do(posY)", "random"):
        assert (
            m_r[f"{q}/gt_l1"] == 0.0 and m_r[f"{q}/gt_iou"] == 1.0 and m_r[f"{q}/cfpa_err"] == 0.0
        )
    assert ex["x"].shape == ex["x_star"].shape == ex["x_true"].shape


def test_constant_map_fails_composition():
    x = np.random.default_rng(0).random((4, 8, 8))
    const = lambda x, a, b, rows: np.full_like(x, 0.5)
    assert metrics.composition(const, x, None, np.arange(4))["composition_1"] > 10.0


def test_metric_values():
    x = np.zeros((1, 4, 4))
    y = np.zeros((1, 4, 4))
    y[0, :2] = 1.0
    assert metrics.l1(x, y)[0] == pytest.approx(127.5)
    assert metrics.iou(y, y, 127.5)[0] == 1.0 and metrics.iou(x, y, 127.5)[0] == 0.0
    assert metrics.iou(x, x, 127.5)[0] == 1.0


def test_support_mask_flags_unseen_cells(sprites):
    dom = sprites.domain
    attrs, a = dom.attributes, dom.propagate(dom.sample_noise(np.random.default_rng(0), 5000)[0])
    assert metrics.support_mask(attrs, a, a).mean() > 0.8
    odd = a[:5].copy()
    odd[:, 1], odd[:, 3] = 0.51, 0.99  # smallest scale with the highest posY: off the joint support
    assert not metrics.support_mask(attrs, a, odd).any()


@pytest.mark.parametrize("levels", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_image_model_trains_and_counterfactual_shapes(sprites, oracle_b, levels):
    tr, attrs = sprites["train"], sprites.domain.attributes
    pa = evaluate.features(attrs, tr.a)
    cfg = vae.VAEConfig(
        width=4,
        z_dim=2,
        levels=levels,
        steps=2,
        batch=8,
        cf_steps=2,
        cf_mode="lagrangian" if levels == 2 else "fixed",
    )
    model, bound = vae.train(jax.random.PRNGKey(0), np.random.default_rng(0), cfg, tr.x, pa)
    assert np.isfinite(bound)
    names = set(model.params)
    assert {"cvae/~posterior/enc_conv0", "cvae/~decode/dec_out", "cvae/~_gauss/q0_out"} <= names
    assert ("cvae/~_gauss/p1_out" in names) == (levels == 2)
    model = vae.train_counterfactual(
        jax.random.PRNGKey(1),
        np.random.default_rng(1),
        model,
        oracle_b,
        tr.x,
        pa,
        pa[::-1],
        tr.a[::-1],
        bound=bound,
    )
    xs = model.counterfactual(tr.x[:5] / 255.0, pa[:5], pa[::-1][:5])
    assert xs.shape == (5, 32, 32) and np.all((xs >= 0) & (xs <= 1))
    assert model.sample(jax.random.PRNGKey(2), pa[:3]).shape == (3, 32, 32)


def test_vae_config_rejects_bad_options():
    with pytest.raises(ValueError, match="unknown image-model option"):
        vae.VAEConfig.from_dict({"bta": 4})
    with pytest.raises(ValueError, match="cf_mode"):
        vae.VAEConfig(cf_mode="adversarial")


def test_to_dag_and_shd():
    scores = np.array([[0, 0.9, 0.2], [0.6, 0, 0.8], [0.7, 0.1, 0]])
    g = bridge.to_dag(scores, np.zeros((3, 3)), has_probs=True)
    scm.topological_order(g)  # acyclic
    assert g[0, 1] == 1 and g[1, 0] == 0  # two-way pair oriented by the higher score
    assert g.sum() == 2  # cycle 0->1->2->0 loses its weakest edge (2->0 at 0.7)
    assert (
        bridge.shd(g, g) == 0 and bridge.shd(g, g.T) == 2 and bridge.shd(g, np.zeros((3, 3))) == 2
    )


def test_table_bolds_best_and_formats(tmp_path):
    paths = []
    for model, l1v, seed in [("a", 1.0, 0), ("a", 3.0, 1), ("b", 5.0, 0), ("b", 5.0, 1)]:
        p = tmp_path / f"{model}{seed}.json"
        p.write_text(
            json.dumps(
                {
                    "dataset": "d",
                    "model": model,
                    "graph": "true",
                    "seed": seed,
                    "metrics": {"random/gt_l1": l1v, "random/gt_iou": l1v / 10},
                }
            )
        )
        paths.append(p)
    report.write_tables(report.long_frame(paths), ["random/gt_l1", "random/gt_iou"], tmp_path / "t")
    md = (tmp_path / "t.md").read_text()
    assert "**2 ± 1.4**" in md and "**0.5 ± 0**" in md
    assert "$\\pm$" in (tmp_path / "t.tex").read_text()
    with pytest.raises(ValueError, match="not in the inputs"):
        report.write_tables(report.long_frame(paths), ["composition_1"], tmp_path / "u")
    # a metric only another dataset has is an empty cell, not "nan"
    other = tmp_path / "e0.json"
    record = {"dataset": "e", "model": "a", "graph": "true", "seed": 0}
    other.write_text(json.dumps({**record, "metrics": {"random/acc_digit": 0.9}}))
    frame = report.long_frame([*paths, other])
    report.write_tables(frame, ["random/gt_l1", "random/acc_*"], tmp_path / "v")
    rows = [line for line in (tmp_path / "v.md").read_text().splitlines() if line.startswith("|")]
    assert "nan" not in "".join(rows) and any("**0.9 ± 0**" in line for line in rows)
    assert "acc_digit" in rows[0]  # the pattern expanded
    with pytest.raises(ValueError, match="mae_"):  # a pattern that matches nothing is named
        report.write_tables(frame, ["random/mae_*"], tmp_path / "w")
