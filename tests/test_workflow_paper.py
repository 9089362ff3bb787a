"""The paper overlay (config/paper/neurips2022.yaml) plans exactly the paper's experiments.

Expected counts are derived by hand from avici.md §5 (comments below), not from the workflow code.
Per d=30-style benchmark dataset the baselines give 12 runs: PC, GES, LiNGAM, DAGMA (obs), GIES,
IGSP (int), Empty and Random (obs + int), the domain's AVICI model (obs + int). GES, GIES, the
bootstraps, DiBS and PC-KCI run one job per dataset (run_method); AVICI and the methods that take
seconds (registry `jobs: per_group`) one job per (domain, setting, method) (run_method_group).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_workflow import copy_workflow, jobs_by_rule, snakemake

PAPER = "config/paper/neurips2022.yaml"
SMALL = "config/paper/neurips2022-small.yaml"

RUNS_PER_BENCHMARK_DATASET = 12
PER_DATASET_RUNS_PER_BENCHMARK_DATASET = 2  # GES (obs), GIES (int)
GROUPS_PER_BENCHMARK_DOMAIN = 8  # PC, LiNGAM, DAGMA (obs), IGSP (int), Empty and Random (obs + int)


def expected_baseline_runs(n: int | None) -> int:
    """run_method jobs (one per dataset of a per_dataset method) when every experiment has at most
    ``n`` (n <= 5) datasets per domain, or the full paper when ``n`` is None."""
    full = n is None
    return (
        3 * 3 * (30 if full else n) * PER_DATASET_RUNS_PER_BENCHMARK_DATASET  # bench, d100, in-dist
        + 3 * (10 if full else n) * 7  # calibration: 5 bootstraps (3 obs, 2 int) + DiBS obs + int
        + 3 * (5 if full else n) * 3  # tuning: 3 PC-KCI alphas (obs)
        + 1  # Sachs: GES (observational rows only)
    )


def expected_groups() -> int:
    """run_method_group jobs: one per (domain, setting, grouped method), whatever the seed counts."""
    avici = (
        3 * 3 * 2  # benchmark + d100 + in-dist, 3 families, obs + int
        + 3 * 3  # ladder: 3 new rungs x AVICI int (the 4th is the benchmark)
        + 3 * 4 * 4  # size study: 4 d x 4 row limits, int
        + 2 * 2  # transfer: one model per benchmark, obs + int
        + 2 * 8 * 2
        - 2 * 2  # ablations, less avici-rff on the benchmark and in-dist domains
        + 2  # Sachs: 2 AVICI models, obs
    )  # calibration's AVICI runs are seeds of the benchmark groups
    baselines = (
        3 * 3 * GROUPS_PER_BENCHMARK_DOMAIN  # benchmark + d100 + in-dist
        + 3 * (3 + 9)  # tuning: 3 PC alphas (obs), 9 IGSP pairs (int)
        + 5  # Sachs: PC, LiNGAM, DAGMA, Empty, Random (obs)
    )
    return avici + baselines


def expected_score_groups() -> int:
    """score_predictions jobs: one per (domain, setting, method), whatever the seed counts."""
    return (
        3 * 3 * RUNS_PER_BENCHMARK_DATASET  # benchmark + d100 + in-dist, 3 families each
        + 3 * 3  # ladder: 3 new rungs x AVICI int
        + 3 * 4 * 4  # size study: 4 d x 4 row limits, int
        + 2 * 2  # transfer: one model per benchmark, obs + int
        + 3 * 7  # calibration: 5 bootstraps (3 obs, 2 int) + DiBS obs + int
        + 2 * 8 * 2
        - 2 * 2  # ablations, less avici-rff on the benchmark and in-dist domains
        + 3 * 15  # tuning: 6 PC variants (obs), 9 IGSP pairs (int)
        + 8  # Sachs
    )


def expected_datasets(n: int | None) -> int:
    full = n is None
    return (
        9 * (30 if full else n)  # d30-ood, d100-ood, d30-in-dist x 3 families
        + 2 * (70 if full else 0)  # rff-d30-ood and rff-d30-in-dist go to 100 (ablations)
        + 9 * (15 if full else n)  # ladder rungs
        + 12 * (15 if full else n)  # size study domains
        + 3 * (5 if full else n)  # tuning stream (own files)
        + 1  # Sachs
    )


@pytest.fixture(scope="module")
def wf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("paper"))


def test_full_overlay_job_counts(wf: Path):
    r = snakemake(wf, "-n", "--quiet", "rules", "--configfile", PAPER)
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = jobs_by_rule(r.stdout)
    assert jobs["run_method"] == expected_baseline_runs(None) == 796
    assert jobs["run_method_group"] == expected_groups() == 222
    assert jobs["score_predictions"] == expected_score_groups() == 271
    assert jobs["simulate_dataset"] == expected_datasets(None) == 741
    assert jobs["train_model"] == 10  # linear, rff, gene + 7 RFF ablations
    assert jobs["aggregate_metrics"] == jobs["make_figures"] == 1
    assert jobs["make_table"] == 24  # one per table of config/paper/tables.yaml


def test_small_overlay_job_counts(wf: Path):
    r = snakemake(wf, "-n", "--quiet", "rules", "--configfile", PAPER, SMALL)
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = jobs_by_rule(r.stdout)
    assert jobs["run_method"] == expected_baseline_runs(2) == 97
    assert jobs["run_method_group"] == expected_groups()
    assert jobs["score_predictions"] == expected_score_groups()
    assert jobs["simulate_dataset"] == expected_datasets(2) == 67
    assert jobs["train_model"] == 10


def test_every_paper_table_filters_to_planned_runs(wf: Path):
    """Each table's domains and methods are run by some experiment (no empty table)."""
    config = yaml.safe_load((wf / PAPER).read_text())
    tables = yaml.safe_load((wf / config["registries"]["tables"]).read_text())["tables"]
    planned = {
        (d, m) for e in config["experiments"].values() for d in e["domains"] for m in e["methods"]
    }
    for name, table in tables.items():
        pairs = {(d, m) for d in table["domains"] for m in table["methods"]}
        assert pairs & planned, name
        assert {d for d, _ in pairs} <= {d for d, _ in planned}, name
        assert {m for _, m in pairs} <= {m for _, m in planned}, name


def write_config(wf: Path, name: str, doc: dict) -> str:
    (wf / "fixtures" / name).write_text(yaml.safe_dump(doc))
    return f"fixtures/{name}"


def test_tune_stream_has_its_own_dataset_files(wf: Path):
    cfg = write_config(
        wf,
        "two_streams.yaml",
        {
            "figures": False,
            "experiments": {
                "test": {"domains": ["lin-gauss"], "methods": ["pc"], "n_seeds": 1},
                "tune": {
                    "domains": ["lin-gauss"],
                    "methods": ["pc-tune__alpha=0.01"],
                    "n_seeds": 1,
                    "stream": "tune",
                },
            },
        },
    )
    r = snakemake(wf, "-n", "-p", "--cores", "1", "--configfile", cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "results/data/lin-gauss/0.npz" in r.stdout
    assert "results/data/lin-gauss/tune-0.npz" in r.stdout
    assert "--seed 0 --stream tune" in r.stdout and "--seed 0 --stream test" in r.stdout
    assert jobs_by_rule(r.stdout)["simulate_dataset"] == 2


def test_scoring_job_takes_the_union_of_the_experiments_seeds(wf: Path):
    cfg = write_config(
        wf,
        "seed_union.yaml",
        {
            "figures": False,
            "experiments": {
                "few": {"domains": ["lin-gauss"], "methods": ["ges"], "n_seeds": 2},
                "more": {"domains": ["lin-gauss"], "methods": ["ges"], "n_seeds": 3},
                "later": {
                    "domains": ["lin-gauss"],
                    "methods": ["ges"],
                    "n_seeds": 1,
                    "first_seed": 10,
                },
            },
        },
    )
    r = snakemake(wf, "-n", "-p", "--cores", "1", "--configfile", cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = jobs_by_rule(r.stdout)
    assert jobs["run_method"] == 4 and jobs["score_predictions"] == 1
    assert "--seed 0 1 2 10 --out results/metrics/lin-gauss/obs/ges.csv" in r.stdout


def test_one_run_in_two_streams_is_rejected(wf: Path):
    exp = {"domains": ["lin-gauss"], "methods": ["pc"], "n_seeds": 1}
    cfg = write_config(
        wf, "clash.yaml", {"experiments": {"a": exp, "b": {**exp, "stream": "tune"}}}
    )
    r = snakemake(wf, "-n", "--cores", "1", "--configfile", cfg)
    assert r.returncode != 0
    assert "two seed streams" in r.stdout + r.stderr


def test_unknown_experiment_key_is_rejected(wf: Path):
    cfg = write_config(
        wf,
        "typo.yaml",
        {"experiments": {"a": {"domains": ["lin-gauss"], "methods": ["pc"], "n_seed": 1}}},
    )
    r = snakemake(wf, "-n", "--cores", "1", "--configfile", cfg)
    assert r.returncode != 0
    assert "n_seed" in r.stdout + r.stderr


@pytest.mark.heavy  # 35 min on 2 cores: outside CI's one-hour budget; run with -m heavy
def test_small_scale_runs_end_to_end_and_yields_every_table_and_figure(tmp_path: Path):
    """The paper at one-machine size (issue #7, item 5): every job succeeds and every table of
    config/paper/tables.yaml and every figure is written; a second run has nothing to do."""
    wf = copy_workflow(tmp_path)
    args = ("--profile", "local", "--configfile", PAPER, SMALL)
    r = snakemake(wf, *args, timeout=3000)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    config = yaml.safe_load((wf / PAPER).read_text())
    tables = yaml.safe_load((wf / config["registries"]["tables"]).read_text())["tables"]
    for name in tables:
        for ext in ("md", "tex", "csv"):
            assert (wf / "results" / "tables" / f"{name}.{ext}").stat().st_size > 0, (name, ext)
    figures = sorted((wf / "results" / "figures").glob("*.png"))
    assert len(figures) == 6, figures
    import pandas as pd

    metrics = pd.read_csv(wf / "results" / "metrics" / "all.csv")
    assert metrics["seed"].max() == 1  # max_seeds: 2
    ok = metrics[metrics["status"] == "ok"]
    assert set(ok["method"]) >= {"pc", "ges", "avici-linear", "avici-rff", "avici-gene"}
    assert jobs_by_rule(snakemake(wf, "-n", *args).stdout) == {}
