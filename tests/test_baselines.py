"""Runner contract (isolation, timeout, failure, refusal), preprocessing, registry and CLIs."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from avici_core.baselines import load_prediction, run, save_prediction
from avici_core.baselines.implementations import Implementation
from avici_core.baselines.preprocess import regimes
from avici_core.baselines.registry import DEFAULT_PATH, grid_variants, load_methods
from avici_core.data.standardize import cpm_standardize, zscore
from avici_core.dataset import Dataset, save_dataset
from avici_core.prediction import MethodOutput

CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], np.int8)


def chain_data(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    x1 = 1.5 * x0 + rng.normal(size=n)
    return np.stack([x0, x1, -x1 + rng.normal(size=n)], axis=1)  # [n, 3]


# Module-level wrappers: the spawned child imports them by name.
def sleepy(rng, x, mask, *, seconds: float = 60.0):
    time.sleep(seconds)


def raising(rng, x, mask):
    raise RuntimeError("boom from the method")


def dying(rng, x, mask):
    os._exit(3)


def by_seed(rng, x, mask, *, seed_of: dict):
    """Behaves as ``seed_of`` says for the seed it sees (its rng's first draw identifies it)."""
    behaviour = seed_of[round(float(x[0, 0]))]
    if behaviour == "die":
        os._exit(3)
    if behaviour == "hang":
        time.sleep(60)
    d = x.shape[1]
    return MethodOutput(np.zeros((d, d)), np.zeros((d, d)), "dag", meta={"pid": os.getpid()})


def report_threads(rng, x, mask):
    d = x.shape[1]
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_FLAGS")}
    stats = {"mean": x.mean(0).tolist(), "std": x.std(0).tolist(), "draw": float(rng.random())}
    return MethodOutput(np.zeros((d, d)), np.zeros((d, d)), "dag", meta={**env, **stats})


# -- runner ------------------------------------------------------------------------------------
def test_timeout_then_failure_then_ok_in_one_session():
    x = chain_data()
    t0 = time.perf_counter()
    slow = run(sleepy, x, None, {}, 0, timeout_s=3)
    assert slow.status == "timeout" and "3 s" in slow.message
    assert time.perf_counter() - t0 < 30
    bad = run(raising, x, None, {}, 0, timeout_s=60)
    assert bad.status == "failed" and "RuntimeError: boom from the method" in bad.message
    dead = run(dying, x, None, {}, 0, timeout_s=60)
    assert dead.status == "failed" and "exit code 3" in dead.message
    ok = run("empty", x, None, {}, 0, timeout_s=60)
    assert ok.status == "ok" and ok.has_probs and ok.scores.shape == (3, 3)
    assert slow.scores.shape == bad.scores.shape == (3, 3) and not bad.graph.any()


def test_run_many_serves_a_batch_from_one_child_and_survives_a_death_and_a_hang():
    from avici_core.baselines.runner import Task, run_many

    behaviours = {0: "ok", 1: "ok", 2: "die", 3: "ok", 4: "hang", 5: "ok"}
    tasks = []
    for k in behaviours:
        x = chain_data(seed=k)
        x[0, 0] = k  # tells the wrapper which task it is (raw values: standardize=False below)
        tasks.append(Task(x, None, seed=k))
    impl = Implementation("by_seed", by_seed, standardize=False)
    preds = run_many(impl, tasks, {"seed_of": behaviours}, timeout_s=8)
    assert [p.status for p in preds] == ["ok", "ok", "failed", "ok", "timeout", "ok"]
    assert "exit code 3" in preds[2].message
    pids = [p.meta.get("pid") for p in preds]
    assert pids[0] == pids[1]  # one child served both
    assert len({pids[0], pids[3], pids[5]}) == 3  # a fresh child after the death and the hang
    assert [p.meta["seed"] for p in preds] == list(behaviours)


def test_child_gets_thread_limits_standardized_data_and_seed():
    x = chain_data() * 5 + 3
    before = dict(os.environ)
    a = run(report_threads, x, None, {}, 7, timeout_s=60, threads=2)
    b = run(report_threads, x, None, {}, 7, timeout_s=60, threads=1)
    assert a.meta["OMP_NUM_THREADS"] == "2" and a.meta["OPENBLAS_NUM_THREADS"] == "2"
    assert "intra_op_parallelism_threads=2" in a.meta["XLA_FLAGS"]
    assert b.meta["OMP_NUM_THREADS"] == "1"
    np.testing.assert_allclose(a.meta["mean"], 0, atol=1e-9)
    np.testing.assert_allclose(a.meta["std"], 1, atol=1e-9)
    assert a.meta["draw"] == b.meta["draw"]  # same seed, same draw
    assert dict(os.environ) == before  # the caller's environment is restored


@pytest.mark.parametrize(
    "x, mask, match",
    [
        (np.where(np.eye(12, 2, -3) == 1, np.nan, chain_data(12)[:, :2]), None, "row 4, column 1"),
        (np.c_[np.ones(12), chain_data(12)[:, 0]], None, r"constant column\(s\) \[1\]"),
        (np.arange(15.0)[:, None], None, "at least 2"),
        (chain_data(5), None, "at least 10 samples"),
        (chain_data(10), np.zeros((10, 2)), "mask has shape"),
    ],
)
def test_bad_input_refused_before_a_process_starts(x, mask, match):
    with pytest.raises(ValueError, match=match):
        run("empty", x, mask, {}, 0, timeout_s=10)


def test_a_method_that_needs_interventions_refuses_observational_data():
    with pytest.raises(ValueError, match="jci-pc needs interventional data"):
        run("jci-pc", chain_data(), np.zeros((300, 3)), {}, 0, timeout_s=10)


@pytest.fixture
def child_executable(tmp_path):
    """Make spawned children start as a given shell script (a child that cannot bootstrap)."""
    import multiprocessing.spawn

    original = multiprocessing.spawn.get_executable()

    def use(script: str) -> None:
        path = tmp_path / "child.sh"
        path.write_text(f"#!/bin/sh\n{script}\n")
        path.chmod(0o755)
        multiprocessing.spawn.set_executable(str(path))

    yield use
    multiprocessing.spawn.set_executable(original)


def test_a_child_that_never_reads_its_task_cannot_block_the_caller(child_executable):
    child_executable("sleep 60")
    big = np.random.default_rng(0).normal(size=(20_000, 50))  # 8 MB: more than a pipe holds
    start = time.perf_counter()
    pred = run("empty", big, None, {}, 0, timeout_s=3)
    assert pred.status == "timeout" and time.perf_counter() - start < 20


def test_a_child_that_dies_at_start_is_a_failed_prediction(child_executable):
    child_executable("exit 3")
    pred = run("empty", chain_data(), None, {}, 0, timeout_s=30)
    assert pred.status == "failed" and ("exit code" in pred.message or "start" in pred.message)


def test_unknown_method_and_missing_edge_count():
    with pytest.raises(ValueError, match="known:"):
        run("no-such-method", chain_data(), None, {}, 0, timeout_s=10)
    with pytest.raises(ValueError, match="true edge count"):
        run("random", chain_data(), None, {}, 0, timeout_s=10)


def test_random_reference_has_true_edge_count_and_is_acyclic():
    from avici_core.metrics import is_cyclic

    d = 6
    truth = np.zeros((d, d), np.int8)
    truth[0, 1:4] = 1
    x = np.random.default_rng(0).normal(size=(50, d))
    pred = run("random", x, None, {}, 3, timeout_s=60, truth=truth)
    assert pred.graph.sum() == 3 and not is_cyclic(pred.graph)


def test_bootstrap_gives_probabilities_with_semi_oracle_orientation():
    x = chain_data(500)
    pred = run("bootstrap-pc", x, None, {"n_resamples": 4}, 0, timeout_s=120, truth=CHAIN)
    assert pred.status == "ok", pred.message
    assert pred.kind == "probs" and pred.has_probs
    assert pred.meta["cpdag_orientation"] == "semi-oracle" and pred.meta["n_resamples"] == 4
    assert ((pred.scores >= 0) & (pred.scores <= 1)).all()
    # PC leaves the chain undirected; the oracle orients it like the truth in every resample
    np.testing.assert_allclose(pred.scores, CHAIN.astype(float))
    half = run("bootstrap-pc", x, None, {"n_resamples": 2}, 0, timeout_s=120)
    np.testing.assert_allclose(half.scores, 0.5 * (CHAIN + CHAIN.T))


def test_dibs_missing_package_is_a_clean_failure():
    pred = run("dibs", chain_data(), None, {}, 0, timeout_s=60)
    assert pred.status == "failed" and "package not installed: dibs" in pred.message


def test_prediction_round_trip(tmp_path):
    pred = run("partial-correlation", chain_data(), None, {}, 0, timeout_s=60)
    save_prediction(tmp_path / "p.npz", pred)
    back = load_prediction(tmp_path / "p.npz")
    np.testing.assert_array_equal(back.scores, pred.scores)
    np.testing.assert_array_equal(back.graph, pred.graph)
    assert (back.kind, back.status, back.has_probs) == ("weighted", "ok", False)
    assert back.meta["implementation"] == "partial-correlation"


# -- preprocessing -----------------------------------------------------------------------------
def test_zscore_and_cpm():
    z = zscore(chain_data() * 3 + 1)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-12)
    counts = np.array([[0, 10, 30], [5, 0, 5], [1, 1, 0]], float)
    c = cpm_standardize(counts)
    assert (c[counts == 0] == 0).all() and (c[counts > 0] >= 0).all()
    assert np.isclose(c[counts > 0].min(), 0)  # shifted by the global minimum
    with pytest.raises(ValueError, match="non-negative"):
        cpm_standardize(-counts)


def test_regimes_from_mask():
    mask = np.array([[0, 0], [1, 0], [0, 1], [1, 0], [1, 1]])
    labels, targets = regimes(mask)
    assert targets == [(), (0,), (0, 1), (1,)]
    assert labels.tolist() == [0, 1, 3, 1, 2]


# -- registry ----------------------------------------------------------------------------------
def write_registry(tmp_path: Path, methods: dict) -> Path:
    path = tmp_path / "methods.yaml"
    path.write_text(yaml.safe_dump({"methods": methods}))
    return path


def test_default_registry_loads_with_defaults_and_grids():
    specs = load_methods(DEFAULT_PATH)
    assert specs["pc"].implementation == "pc" and specs["pc"].settings == ("obs",)
    assert specs["gies"].settings == ("int",)
    assert specs["ges"].resources.threads == 1 and specs["ges"].timeout_s > 0
    assert "pc-tune" not in specs
    assert specs["pc-tune__alpha=0.001"].hparams == {"ci_test": "fisherz", "alpha": 0.001}


def test_grid_expansion_names_and_values(tmp_path):
    assert grid_variants("m", {}) == [("m", {})]
    variants = grid_variants("pc", {"ci_test": ["fisherz", "kci"], "alpha": [0.1, 0.01]})
    assert [v for v, _ in variants] == [
        "pc__alpha=0.1-ci_test=fisherz",
        "pc__alpha=0.1-ci_test=kci",
        "pc__alpha=0.01-ci_test=fisherz",
        "pc__alpha=0.01-ci_test=kci",
    ]
    specs = load_methods(
        write_registry(
            tmp_path,
            {
                "pc": {
                    "impl": "pc",
                    "hparams": {"alpha": 0.5, "ci_test": "fisherz"},
                    "grid": {"alpha": [0.1, 0.2]},
                }
            },
        )
    )
    assert sorted(specs) == ["pc__alpha=0.1", "pc__alpha=0.2"]
    assert specs["pc__alpha=0.2"].hparams == {"alpha": 0.2, "ci_test": "fisherz"}


@pytest.mark.parametrize(
    "entry, match",
    [
        ({"impl": "pc", "colour": "red"}, r"methods\.m: .*'colour'"),
        ({"impl": "pc", "resources": {"threads": "two"}}, r"methods\.m\.resources\.threads"),
        ({"impl": "pc", "settings": ["interventional"]}, r"methods\.m\.settings\.0"),
        ({"impl": "pc", "timeout_s": 0}, r"methods\.m\.timeout_s"),
        ({"hparams": {}}, r"methods\.m: 'impl' is a required"),
        ({"impl": "nope"}, r"methods\.m\.impl: unknown implementation 'nope'"),
        ({"impl": "pc", "hparams": {"alhpa": 0.1}}, r"methods\.m\.hparams: .*'alhpa'"),
        ({"impl": "pc", "grid": {"alpha": []}}, r"methods\.m\.grid\.alpha"),
    ],
)
def test_registry_errors_name_the_key(tmp_path, entry, match):
    with pytest.raises(ValueError, match=match):
        load_methods(write_registry(tmp_path, {"m": entry}))


def test_registry_top_level_must_be_methods(tmp_path):
    path = tmp_path / "methods.yaml"
    path.write_text(yaml.safe_dump({"pc": {"impl": "pc"}}))
    with pytest.raises(ValueError, match="top-level key 'methods'"):
        load_methods(path)


# -- CLIs --------------------------------------------------------------------------------------
def tiny_dataset(path: Path) -> None:
    x = chain_data(400)
    mask = np.zeros((100, 3), np.int8)
    mask[:, 1] = 1
    x_int = chain_data(100, seed=1)
    x_int[:, 1] = 2.0 + np.random.default_rng(2).normal(size=100)
    x_int[:, 2] = -x_int[:, 1] + np.random.default_rng(3).normal(size=100)
    save_dataset(
        path,
        Dataset(
            g=CHAIN,
            x_obs=x,
            x_int=x_int,
            mask_int=mask,
            x_obs_heldout=x,
            x_int_heldout=x_int,
            mask_int_heldout=mask,
            meta={"domain": "t"},
        ),
    )


def test_run_method_and_score_clis(tmp_path):
    import pandas as pd

    from avici_core.__main__ import main

    tiny_dataset(tmp_path / "d.npz")
    reg = write_registry(
        tmp_path,
        {
            "ges": {"impl": "ges"},
            "slow": {"impl": "pc", "timeout_s": 0.01, "settings": ["obs", "int"]},
            "gies": {"impl": "gies", "settings": ["int"]},
        },
    )
    common = ["--data", str(tmp_path / "d.npz"), "--registry", str(reg), "--seed", "0"]
    assert (
        main(
            [
                "run-method",
                "--method",
                "ges",
                "--setting",
                "obs",
                *common,
                "--out",
                str(tmp_path / "ges.npz"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "run-method",
                "--method",
                "slow",
                "--setting",
                "int",
                *common,
                "--out",
                str(tmp_path / "slow.npz"),
            ]
        )
        == 0
    )
    assert load_prediction(tmp_path / "ges.npz").status == "ok"
    assert load_prediction(tmp_path / "slow.npz").status == "timeout"
    with pytest.raises(ValueError, match="does not run in setting 'obs'"):
        main(
            [
                "run-method",
                "--method",
                "gies",
                "--setting",
                "obs",
                *common,
                "--out",
                str(tmp_path / "x.npz"),
            ]
        )
    for m in ("ges", "slow"):
        assert (
            main(
                [
                    "score",
                    "--prediction",
                    str(tmp_path / f"{m}.npz"),
                    "--data",
                    str(tmp_path / "d.npz"),
                    "--domain",
                    "t",
                    "--setting",
                    "obs",
                    "--method",
                    m,
                    "--seed",
                    "0",
                    "--out",
                    str(tmp_path / f"{m}.csv"),
                ]
            )
            == 0
        )
    rows = pd.concat([pd.read_csv(tmp_path / f"{m}.csv") for m in ("ges", "slow")])
    assert list(rows.columns) == [
        "domain",
        "setting",
        "method",
        "seed",
        "metric",
        "value",
        "status",
    ]
    ges_shd = rows.query("method == 'ges' and metric == 'shd'")
    assert ges_shd["status"].item() == "ok" and ges_shd["value"].item() == 0
    slow = rows.query("method == 'slow'")
    assert (slow["status"] == "timeout").all() and slow["value"].isna().all()


def interventional_chain(n_obs: int = 300, n_int: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    x_int = chain_data(n_int, seed=1)
    x_int[:, 1] = 2.0 + rng.normal(size=n_int)  # perfect intervention on node 1
    x_int[:, 2] = -x_int[:, 1] + rng.normal(size=n_int)  # its child follows
    mask = np.zeros((n_obs + n_int, 3), np.int8)
    mask[n_obs:, 1] = 1
    return np.concatenate([chain_data(n_obs), x_int]), mask


@pytest.mark.parametrize(
    "impl, hparams",
    [
        ("pc", {"ci_test": "kci", "max_rows": 80}),
        ("grasp", {}),
        ("boss", {}),
        ("gsp", {}),
        ("igsp", {}),
        ("jci-pc", {}),
        ("var-sort", {}),
    ],
)
def test_optional_methods_run_and_find_the_chain_skeleton(impl, hparams):
    if impl in ("igsp", "jci-pc"):
        x, mask = interventional_chain()
    else:
        x, mask = chain_data(600), None
    pred = run(impl, x, mask, hparams, 0, timeout_s=120, truth=CHAIN)
    assert pred.status == "ok", pred.message
    skeleton = (pred.graph | pred.graph.T) != 0
    np.testing.assert_array_equal(skeleton, (CHAIN | CHAIN.T) != 0, err_msg=impl)
    if impl == "pc":
        assert pred.meta["n_rows_used"] == 80


def test_r2_sort_reference_runs():
    pred = run("r2-sort", chain_data(600), None, {}, 0, timeout_s=60)
    assert pred.status == "ok" and pred.kind == "weighted" and len(pred.meta["order"]) == 3


def test_run_method_cli_records_refused_data_as_a_failed_prediction(tmp_path):
    from avici_core.__main__ import main
    from avici_core.data import load_dataset

    tiny_dataset(tmp_path / "d.npz")
    ds = load_dataset(tmp_path / "d.npz")
    x_obs = ds.x_obs.copy()
    x_obs[:, 2] = 0.0  # e.g. a gene that was never detected
    save_dataset(tmp_path / "const.npz", dataclasses.replace(ds, x_obs=x_obs))
    reg = write_registry(tmp_path, {"ges": {"impl": "ges"}})
    out = tmp_path / "p.npz"
    args = ["run-method", "--method", "ges", "--setting", "obs", "--seed", "0"]
    assert (
        main(
            [
                *args,
                "--data",
                str(tmp_path / "const.npz"),
                "--registry",
                str(reg),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    pred = load_prediction(out)
    assert (
        pred.status == "failed" and "input refused" in pred.message and "constant" in pred.message
    )
    assert pred.graph.shape == (3, 3)

    # in a batch, the refused dataset is marked and its neighbours still run
    outs = [tmp_path / f"b{k}.npz" for k in range(3)]
    data = [tmp_path / "d.npz", tmp_path / "const.npz", tmp_path / "d.npz"]
    batch = ["run-method", "--method", "ges", "--setting", "obs", "--registry", str(reg)]
    assert (
        main([*batch, "--seed", "0", "1", "2", "--data", *map(str, data), "--out", *map(str, outs)])
        == 0
    )
    statuses = [load_prediction(o).status for o in outs]
    assert statuses == ["ok", "failed", "ok"]
    assert [load_prediction(o).meta["data"] for o in outs] == list(map(str, data))
    with pytest.raises(SystemExit):  # one seed and one output per dataset
        main([*batch, "--seed", "0", "--data", *map(str, data), "--out", *map(str, outs)])


@pytest.mark.parametrize("method", ["flop", "boss-npn", "rand"])  # seeded, rank data, random
def test_a_grouped_call_predicts_what_one_call_per_dataset_predicts(tmp_path, method):
    """run_method_group's one process for every seed gives each dataset the prediction its own
    run_method job would give (seeds travel per dataset; nothing leaks between datasets)."""
    from avici_core.__main__ import main
    from avici_core.data import generate_dataset

    data = []
    for k in range(3):
        data.append(tmp_path / f"d{k}.npz")
        save_dataset(data[-1], generate_dataset("lin-gauss", k, stream="test"))
    assert load_methods()[method].grouped  # registered `jobs: per_group`
    base = ["run-method", "--method", method, "--setting", "obs"]
    grouped = [tmp_path / f"g{k}.npz" for k in range(3)]
    seeds = ["3", "4", "5"]
    assert (
        main([*base, "--seed", *seeds, "--data", *map(str, data), "--out", *map(str, grouped)]) == 0
    )
    for k, path in enumerate(data):
        single = tmp_path / f"s{k}.npz"
        assert main([*base, "--seed", seeds[k], "--data", str(path), "--out", str(single)]) == 0
        a, b = load_prediction(grouped[k]), load_prediction(single)
        assert a.status == b.status == "ok"
        np.testing.assert_array_equal(a.scores, b.scores)
        np.testing.assert_array_equal(a.graph, b.graph)


def test_run_method_cli_writes_a_failed_prediction_for_a_mask_that_does_not_fit(tmp_path):
    from avici_core.__main__ import main
    from avici_core.data import load_dataset

    tiny_dataset(tmp_path / "d.npz")
    ds = load_dataset(tmp_path / "d.npz")
    save_dataset(tmp_path / "bad.npz", dataclasses.replace(ds, mask_int=ds.mask_int[:, :2]))
    reg = write_registry(tmp_path, {"gies": {"impl": "gies", "settings": ["int"]}})
    out = tmp_path / "p.npz"
    args = ["run-method", "--method", "gies", "--setting", "int", "--seed", "0"]
    assert (
        main(
            [*args, "--data", str(tmp_path / "bad.npz"), "--registry", str(reg), "--out", str(out)]
        )
        == 0
    )
    pred = load_prediction(out)
    assert pred.status == "failed" and "do not fit 3 variables" in pred.message
    assert pred.scores.shape == (3, 3)


def test_nonparanormal_scores_ignore_monotone_distortions_and_reach_the_method():
    from avici_core.baselines.runner import Task, run_many
    from avici_core.data.standardize import nonparanormal

    x = chain_data()
    distorted = np.c_[np.exp(x[:, 0]), x[:, 1] ** 3, 5 * x[:, 2] - 2]  # increasing maps
    np.testing.assert_allclose(nonparanormal(distorted), nonparanormal(x), atol=1e-12)
    z = nonparanormal(x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-12)
    pred = run_many(report_threads, [Task(distorted, None, 0, transform="nonparanormal")], {}, 60)[
        0
    ]
    np.testing.assert_allclose(pred.meta["mean"], 0, atol=1e-9)
    assert load_methods(DEFAULT_PATH)["pc-npn"].transform == "nonparanormal"
