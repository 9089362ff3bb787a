"""Metrics against hand-computed cases, scikit-learn and gadjid, and the semi-oracle orientation."""

from __future__ import annotations

import gadjid
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score

from avici_core.__main__ import main
from avici_core.dataset import Dataset, save_dataset
from avici_core.metrics import (
    ancestor_aid,
    brier,
    ece,
    is_cyclic,
    orient_cpdag_oracle,
    precision_recall_f1,
    ranking_metrics,
    score_prediction,
    shd,
    sid,
)
from avici_core.metrics.cli import score_file
from avici_core.prediction import Prediction, failed_prediction, save_prediction
from avici_core.report.aggregate import read_metrics_csv

CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], np.int8)  # 0 -> 1 -> 2


def random_dag(seed: int, d: int, p: float = 0.4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.triu(rng.random((d, d)) < p, k=1).astype(np.int8)
    perm = rng.permutation(d)
    return a[np.ix_(perm, perm)]


# -- SHD ---------------------------------------------------------------------------------------
def test_shd_hand_cases():
    assert shd(CHAIN, CHAIN) == 0
    assert shd(CHAIN, CHAIN.T) == 2  # two reversals, one each
    reversed_one = CHAIN.copy()
    reversed_one[0, 1], reversed_one[1, 0] = 0, 1
    assert shd(CHAIN, reversed_one) == 1
    assert shd(CHAIN, np.zeros_like(CHAIN)) == 2  # two missing
    extra = CHAIN.copy()
    extra[0, 2] = 1
    assert shd(CHAIN, extra) == 1
    both = CHAIN.copy()
    both[1, 0] = 1  # 0 - 1 in both directions against the true 0 -> 1
    assert shd(CHAIN, both) == 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 9))
def test_shd_matches_gadjid_on_dags(seed, d):
    t, g = random_dag(seed, d), random_dag(seed + 1, d)
    assert shd(t, g) == gadjid.shd(t, g)[1]


# -- precision / recall / F1 -------------------------------------------------------------------
def test_f1_edge_cases():
    z = np.zeros((3, 3), np.int8)
    assert precision_recall_f1(z, z) == (1.0, 1.0, 1.0)
    assert precision_recall_f1(z, CHAIN) == (0.0, 0.0, 0.0)
    assert precision_recall_f1(CHAIN, z) == (0.0, 0.0, 0.0)
    p, r, f = precision_recall_f1(CHAIN, np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]]))
    assert (p, r) == (0.5, 0.5) and f == pytest.approx(0.5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 9))
def test_f1_matches_counts(seed, d):
    t, g = random_dag(seed, d), random_dag(seed + 7, d)
    tp = int((t & g).sum())
    p, r, f = precision_recall_f1(t, g)
    if t.any() and g.any():
        assert p == pytest.approx(tp / g.sum()) and r == pytest.approx(tp / t.sum())
        assert f == pytest.approx(0.0 if tp == 0 else 2 * p * r / (p + r))


# -- ranking metrics, ECE, Brier ---------------------------------------------------------------
def test_ranking_edge_cases():
    z = np.zeros((3, 3))
    assert ranking_metrics(z, z) == {"auroc": 1.0, "auprc": 1.0, "ap": 1.0}
    assert ranking_metrics(CHAIN, z) == {"auroc": 0.5, "auprc": 0.0, "ap": 0.0}
    assert ranking_metrics(z, np.full((3, 3), 0.3)) == {"auroc": 0.5, "auprc": 0.0, "ap": 0.0}
    perfect = ranking_metrics(CHAIN, CHAIN * 0.9)
    assert perfect["auroc"] == pytest.approx(1.0) and perfect["ap"] == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 8))
def test_ranking_matches_sklearn(seed, d):
    t = random_dag(seed, d)
    if not t.any():
        return
    p = np.random.default_rng(seed).random((d, d))
    got = ranking_metrics(t, p)
    y, s = t.ravel(), p.ravel()  # full d x d including the diagonal, as in the paper
    precision, recall, _ = precision_recall_curve(y, s)
    assert got["auroc"] == pytest.approx(roc_auc_score(y, s))
    assert got["auprc"] == pytest.approx(auc(recall, precision))
    assert got["ap"] == pytest.approx(average_precision_score(y, s))


def test_ece_and_brier_hand_cases():
    t = CHAIN  # 2 edges among 9 entries
    p = np.where(t == 1, 1.0, 0.0)
    assert ece(t, p) == 0.0 and brier(t, p) == 0.0  # p = 1 falls in the last bin of [0, 1+1e-8]
    q = np.full((3, 3), 0.25)  # one bin: accuracy 2/9, confidence 0.25
    assert ece(t, q) == pytest.approx(abs(2 / 9 - 0.25))
    assert brier(t, q) == pytest.approx((2 * 0.75**2 + 7 * 0.25**2) / 9)
    r = np.where(t == 1, 0.95, 0.05)  # two bins: |1 - .95| * 2/9 + |0 - .05| * 7/9
    assert ece(t, r) == pytest.approx(0.05)


# -- cyclicity, SID, AID -----------------------------------------------------------------------
def test_cyclic():
    assert not is_cyclic(CHAIN)
    cyc = CHAIN.copy()
    cyc[2, 0] = 1
    assert is_cyclic(cyc)
    two = np.array([[0, 1], [1, 0]])
    assert is_cyclic(two)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8))
def test_sid_and_aid_match_gadjid(seed, d):
    t, g = random_dag(seed, d), random_dag(seed + 3, d)
    assert sid(t, g) == gadjid.sid(t, g, edge_direction="from row to column")[1]
    assert ancestor_aid(t, g) == gadjid.ancestor_aid(t, g, edge_direction="from row to column")[1]
    assert sid(t, t) == 0


def test_sid_hand_case_and_cyclic_nan():
    assert sid(CHAIN, np.zeros_like(CHAIN)) == 3  # pairs (0,1), (0,2), (1,2) wrongly "no effect"
    cyc = CHAIN.copy()
    cyc[2, 0] = 1
    assert np.isnan(sid(CHAIN, cyc)) and np.isnan(ancestor_aid(CHAIN, cyc))


def test_a_long_cycle_the_papers_formula_misses_still_gives_nan_not_an_error():
    d = 20
    ring = np.roll(np.eye(d, dtype=np.int8), 1, axis=1)  # 0 -> 1 -> ... -> 19 -> 0
    assert not is_cyclic(ring)  # the cycle adds about d^(1-d) to a trace of d: lost to round-off
    truth = np.triu(ring)  # the path without the closing edge
    assert np.isnan(sid(truth, ring)) and np.isnan(ancestor_aid(truth, ring))


# -- semi-oracle orientation -------------------------------------------------------------------
def test_semi_oracle_orients_true_adjacencies_like_the_truth():
    truth = CHAIN
    cpdag = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.int8)  # 0 - 1 - 2
    out = orient_cpdag_oracle(np.random.default_rng(0), cpdag, truth)
    np.testing.assert_array_equal(out, truth)


def test_semi_oracle_coin_for_false_adjacencies_and_directed_kept():
    truth = np.zeros((3, 3), np.int8)
    cpdag = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]], np.int8)  # 0 - 1 undirected, 0 -> 2
    outs = [orient_cpdag_oracle(np.random.default_rng(s), cpdag, truth) for s in range(40)]
    for o in outs:
        assert o[0, 2] == 1 and o[2, 0] == 0  # directed edge kept
        assert o[0, 1] + o[1, 0] == 1  # exactly one direction: a false adjacency counts once
    forward = sum(int(o[0, 1]) for o in outs)
    assert 0 < forward < 40  # both directions occur
    again = orient_cpdag_oracle(np.random.default_rng(3), cpdag, truth)
    np.testing.assert_array_equal(again, outs[3])  # seeded


# -- scoring one prediction --------------------------------------------------------------------
def prediction(graph, kind, scores=None, has_probs=False):
    g = np.asarray(graph, np.int8)
    s = g.astype(float) if scores is None else scores
    return Prediction(
        scores=s, graph=g, kind=kind, has_probs=has_probs, status="ok", walltime_s=1.5
    )


def test_score_cpdag_through_semi_oracle():
    cpdag = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.int8)
    out = score_prediction(np.random.default_rng(0), prediction(cpdag, "cpdag"), CHAIN)
    assert out["shd"] == (0.0, "ok") and out["sid"] == (0.0, "ok") and out["f1"] == (1.0, "ok")
    assert out["ece"] == (pytest.approx(np.nan, nan_ok=True), "n/a")
    assert out["walltime_s"] == (1.5, "ok")


def test_score_probabilities_has_calibration():
    p = np.where(CHAIN == 1, 0.9, 0.1)
    out = score_prediction(np.random.default_rng(0), prediction(p > 0.5, "probs", p, True), CHAIN)
    assert out["ece"][0] == pytest.approx(0.1) and out["brier"][0] == pytest.approx(0.01)
    assert out["auroc"][0] == pytest.approx(1.0)


def test_score_probabilities_has_the_row_column_share_of_their_logits():
    r, c = np.array([2.0, -1.0, 0.5, 0.0]), np.array([-2.0, 1.0, 0.0, 1.5])
    additive = 1 / (1 + np.exp(-(r[:, None] + c[None, :])))  # a cause/effect ranking only
    truth = np.triu(np.ones((4, 4), np.int8), 1)
    rng = np.random.default_rng(0)
    out = score_prediction(rng, prediction(additive > 0.5, "probs", additive, True), truth)
    assert out["rowcol"] == (pytest.approx(1.0), "ok")
    edgewise = np.where(truth == 1, 0.9, 0.1) * (1 - np.eye(4))  # one logit per true edge
    out = score_prediction(rng, prediction(edgewise > 0.5, "probs", edgewise, True), truth)
    assert 0.0 < out["rowcol"][0] < 0.9
    flat = np.full((4, 4), 0.3)  # no variance to explain
    out = score_prediction(rng, prediction(flat > 0.5, "probs", flat, True), truth)
    assert np.isnan(out["rowcol"][0]) and out["rowcol"][1] == "n/a"
    out = score_prediction(rng, prediction(truth, "dag"), truth)  # not probabilities
    assert np.isnan(out["rowcol"][0]) and out["rowcol"][1] == "n/a"


def test_failed_prediction_gives_nan_rows_with_status():
    pred = failed_prediction(3, "timeout", "timeout: no result after 1 s", 1.0, {})
    out = score_prediction(np.random.default_rng(0), pred, CHAIN)
    assert all(np.isnan(v) and s == "timeout" for v, s in out.values())


def test_score_shape_mismatch_is_value_error():
    with pytest.raises(ValueError, match="true graph"):
        score_prediction(np.random.default_rng(0), prediction(np.zeros((2, 2)), "dag"), CHAIN)


# -- the `score` command: several predictions of one (domain, setting, method) in one call ------
def write_group(tmp_path, n_seeds):
    """A dataset per seed (true graph CHAIN) and a CPDAG prediction of its skeleton per seed."""
    rows = np.zeros((4, 3))
    mask = np.zeros((4, 3), np.int8)
    preds, data = [], []
    skeleton = ((CHAIN + CHAIN.T) > 0).astype(np.int8)
    for seed in range(n_seeds):
        data.append(tmp_path / f"data-{seed}.npz")
        save_dataset(data[-1], Dataset(CHAIN, rows, rows, mask, rows, rows, mask))
        preds.append(tmp_path / f"pred-{seed}.npz")
        save_prediction(preds[-1], prediction(skeleton, "cpdag"))
    return preds, data


def run_score(preds, data, seeds, out):
    argv = ["score", "--domain", "t", "--setting", "obs", "--method", "pc", "--out", str(out)]
    argv += ["--prediction", *map(str, preds), "--data", *map(str, data)]
    return main([*argv, "--seed", *map(str, seeds)])


def test_score_command_writes_the_per_seed_rows_of_a_group(tmp_path):
    preds, data = write_group(tmp_path, 3)
    assert run_score(preds, data, [0, 1, 2], tmp_path / "group.csv") == 0
    group = read_metrics_csv(tmp_path / "group.csv")
    # the same rows as scoring each seed alone (the semi-oracle coins are seeded per seed)
    alone = pd.DataFrame(
        [
            row
            for seed in range(3)
            for row in score_file(
                preds[seed], data[seed], domain="t", setting="obs", method="pc", seed=seed
            )
        ]
    )
    pd.testing.assert_frame_equal(
        group[["seed", "metric", "value", "status"]].reset_index(drop=True),
        alone[["seed", "metric", "value", "status"]],
        check_dtype=False,
    )
    assert list(group["seed"].unique()) == [0, 1, 2]


def test_score_command_records_failures_as_rows(tmp_path):
    preds, data = write_group(tmp_path, 3)
    save_prediction(preds[1], failed_prediction(3, "timeout", "no result after 1 s", 1.0, {}))
    preds[2].write_bytes(b"not an npz file")  # unreadable: recorded as failed, not a crash
    assert run_score(preds, data, [0, 1, 2], tmp_path / "group.csv") == 0
    rows = read_metrics_csv(tmp_path / "group.csv")
    status = rows.groupby("seed")["status"].agg(set)
    assert "ok" in status[0] and status[1] == {"timeout"} and status[2] == {"failed"}
    assert rows.loc[rows["seed"] > 0, "value"].isna().all()


def test_score_command_needs_one_data_file_and_seed_per_prediction(tmp_path):
    preds, data = write_group(tmp_path, 2)
    with pytest.raises(SystemExit):
        run_score(preds, data[:1], [0, 1], tmp_path / "group.csv")
    assert not (tmp_path / "group.csv").exists()
