"""Pearl's ladder on a test set: the counterfactual maps of every table row and the metric dict.

Rows of the table are counterfactual maps (``metrics.CFMap``): an image model (abduct z,
decode with a*), the prior-z reference (no abduction), the renderer (the true counterfactual,
GT error 0) and the identity (composition 0). Attribute counterfactuals a* always come from
the fitted parent mechanisms on the chosen graph; the truth comes from the stored noise.

Metric names: ``<query>/<metric>`` with query in do(<attr>) and random; metrics gt_l1, gt_iou
(and _in/_off for in- and off-support rows), off_frac, cfpa_err, int_dist (rung 2) and the
oracle-B effectiveness acc_<attr> / mae_<attr>; global composition_1, composition_10,
reversibility, assoc/<eff> (rung 1 samples), and for scene_scm the rung-1/2 posterior errors.

Shape letters: n test images, s side, d attributes.
"""

from __future__ import annotations

import numpy as np

from avici_core.cgm import metrics as M
from avici_core.cgm import queries
from avici_core.cgm.data import CGMData
from avici_core.cgm.mechanisms import FittedSCM, encode
from avici_core.cgm.metrics import CFMap
from avici_core.cgm.oracle import Oracle
from avici_core.cgm.scm import Attribute, Domain, DoMap, Sample, SceneSCM
from avici_core.cgm.vae import ImageModel
from avici_core.types import PRNGKey


def features(attrs: tuple[Attribute, ...], a: np.ndarray) -> np.ndarray:
    """Parent features of the image model: observed attributes only, [n, F]."""
    return np.asarray(encode(attrs, a, observed_only=True))


def model_map(model: ImageModel, attrs: tuple[Attribute, ...]) -> CFMap:
    return lambda x, a, a_star, rows: model.counterfactual(
        x, features(attrs, a), features(attrs, a_star)
    )


def prior_map(model: ImageModel, attrs: tuple[Attribute, ...], key: PRNGKey) -> CFMap:
    return lambda x, a, a_star, rows: model.sample(key, features(attrs, a_star))


def renderer_map(domain: Domain, test: Sample) -> CFMap:
    return lambda x, a, a_star, rows: domain.render(a_star, test.v[rows]) / 255.0


def identity_map() -> CFMap:
    return lambda x, a, a_star, rows: x


def query_set(rng: np.random.Generator, domain: Domain, a: np.ndarray) -> dict[str, DoMap]:
    """do(k) for each observed attribute (values from the shuffled test column) and 'random'
    (a fair coin per attribute and row, redrawn until at least one attribute is chosen)."""
    obs = [j for j, at in enumerate(domain.attributes) if at.observed]
    out = {f"do({domain.attributes[j].name})": {j: rng.permutation(a[:, j])} for j in obs}
    n = a.shape[0]
    pick = rng.random((n, len(obs))) < 0.5
    while not pick.any(1).all():
        empty = ~pick.any(1)
        pick[empty] = rng.random((empty.sum(), len(obs))) < 0.5
    out["random"] = {
        j: np.where(pick[:, c], rng.permutation(a[:, j]), np.nan) for c, j in enumerate(obs)
    }
    return out


def distribution_gap(attrs, a_true: np.ndarray, a_model: np.ndarray, scale: np.ndarray) -> float:
    """Rung 2: mean over attributes of the TV distance (categorical) or |mean diff| / scale."""
    gaps = []
    for j, at in enumerate(attrs):
        if at.categorical:
            p = np.bincount(a_true[:, j].astype(int), minlength=at.card) / len(a_true)
            q = np.bincount(a_model[:, j].astype(int), minlength=at.card) / len(a_model)
            gaps.append(0.5 * np.abs(p - q).sum())
        else:
            gaps.append(abs(a_true[:, j].mean() - a_model[:, j].mean()) / scale[j])
    return float(np.mean(gaps))


def scene_posteriors(domain: SceneSCM, fitted: FittedSCM) -> dict[str, float]:
    """Total-variation error of the fitted P(strength | action) and P(strength | do(action))."""
    cards = [at.card for at in domain.attributes]
    hidden, action = domain.names.index("strength"), domain.names.index("action")
    true_c, true_i = queries.hidden_vs_action(domain.CPTS, domain.graph, cards, hidden, action)
    cpts = {j: fitted.cpt(j) for j in range(domain.d)}
    fit_c, fit_i = queries.hidden_vs_action(cpts, fitted.g, cards, hidden, action)
    return {
        "rung1/tv_hidden_given_action": float(0.5 * np.abs(true_c - fit_c).sum(1).mean()),
        "rung2/tv_hidden_do_action": float(0.5 * np.abs(true_i - fit_i).sum(1).mean()),
    }


def evaluate(
    rng: np.random.Generator,
    data: CGMData,
    fitted: FittedSCM,
    f: CFMap,
    oracle_b: Oracle,
    *,
    n_eval: int,
    sampler: ImageModel | None = None,
    sample_key: PRNGKey | None = None,
    true_parents: bool = False,
    horizons: tuple[int, ...] = (1, 10),
    cycles: int = 2,
    n_examples: int = 8,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """All metrics of one counterfactual map and a few (factual, x*, true x*) examples.

    ``true_parents`` hands the map the true a* instead of the fitted SCM's (the renderer
    oracle row: its GT error is then exactly 0).
    """
    dom, attrs = data.domain, data.domain.attributes
    full = data["test"]
    n = min(n_eval, full.x.shape[0])
    test = Sample(full.x[:n], full.a[:n], full.u[:n], full.v[:n])
    rows, x01 = np.arange(n), test.x / 255.0
    a_train = data["train"].a
    scale = M.attribute_scale(attrs, a_train)
    out: dict[str, float] = {}
    examples: dict[str, np.ndarray] = {}
    a_prime = None
    for q, do in query_set(rng, dom, test.a).items():
        a_true = dom.propagate(test.u, do)
        x_true = dom.render(a_true, test.v) / 255.0
        a_model = a_true if true_parents else fitted.counterfactual(rng, test.a, do)
        x_star = f(x01, test.a, a_model, rows)
        gt_l1, gt_iou = M.l1(x_star, x_true), M.iou(x_star, x_true, dom.fg_threshold)
        inside = M.support_mask(attrs, a_train, a_true)
        out[f"{q}/gt_l1"], out[f"{q}/gt_iou"] = float(gt_l1.mean()), float(gt_iou.mean())
        for tag, sel in (("in", inside), ("off", ~inside)):
            out[f"{q}/gt_l1_{tag}"] = float(gt_l1[sel].mean()) if sel.any() else float("nan")
        out[f"{q}/off_frac"] = float((~inside).mean())
        out[f"{q}/cfpa_err"] = float(M.parent_error(attrs, a_model, a_true, scale).mean())
        eff = M.effectiveness(attrs, oracle_b.predict(x_star), a_true)
        out.update({f"{q}/{k}": v for k, v in eff.items()})
        # rung 2: the interventional distribution on fresh noise, truth against fitted SCM
        u_fresh, _ = dom.sample_noise(rng, n)
        a_do_true = dom.propagate(u_fresh, do)
        a_do_model = fitted.propagate(fitted.sample_noise(rng, n), do)
        out[f"{q}/int_dist"] = distribution_gap(attrs, a_do_true, a_do_model, scale)
        if not examples:
            k = min(n_examples, n)
            examples = {
                "x": x01[:k],
                "x_star": x_star[:k],
                "x_true": x_true[:k],
                "query": np.asarray(q),
            }
        if q == "random":
            a_prime = a_model
    out.update(M.composition(f, x01, test.a, rows, horizons))
    out["reversibility"] = M.reversibility(f, x01, test.a, a_prime, rows, cycles)
    if sampler is not None:  # rung 1: images sampled given the observed attributes
        imgs = sampler.sample(sample_key, features(attrs, test.a))
        eff = M.effectiveness(attrs, oracle_b.predict(imgs), test.a)
        out.update({f"assoc/{k}": v for k, v in eff.items()})
    if isinstance(dom, SceneSCM):
        out.update(scene_posteriors(dom, fitted))
    return out, examples
