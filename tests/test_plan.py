"""``python -m avici_core plan``: dry-run parsing, pricing, and the command on the quick config."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_workflow import copy_workflow

from avici_core.report import cli_plan
from avici_core.report.cli_plan import Job, job_seconds, load_costs, parse_dry_run, summarize

LISTING = """\
Building DAG of jobs...
[Wed Nov 25 12:34:30 2026]
rule train_model:
    output: results/models/linear/final.json
    wildcards: model=linear
    threads: 128
    resources: tmpdir=/tmp, gpu=8, cpus_per_gpu=16, runtime=4320, mem_mb=256000
[Wed Nov 25 12:34:30 2026]
rule run_method:
    output: results/predictions/linear-d100-ood/int/pc-tune__alpha=0.01/tune-3.npz
    wildcards: domain=linear-d100-ood, setting=int, method=pc-tune__alpha=0.01, seed=tune-3
    threads: 2
    resources: tmpdir=/tmp, mem_mb=4000, runtime=60, gpu=0
[Wed Nov 25 12:34:30 2026]
rule run_method_group:
    input: results/data/rff-d30-ood/0.npz, results/data/rff-d30-ood/1.npz, results/data/rff-d30-ood/2.npz, results/models/rff/final.json
    output: results/predictions/rff-d30-ood/obs/avici-rff
    wildcards: domain=rff-d30-ood, setting=obs, method=avici-rff
    threads: 2
    resources: tmpdir=/tmp, mem_mb=8000, runtime=63, gpu=1
[Wed Nov 25 12:34:30 2026]
localrule all:
    input: results/tables/benchmark.md
    jobid: 0
"""

COSTS = {
    "default_s": 7,
    "rules": {"simulate_dataset": 10},
    "train_model": {"runtime_fraction": 0.5, "quick": 60},
    "run_method_group": {"warm_fraction": {"avici": 0.5, "default": 0.25}},
    "run_method": {
        "default": 50,
        "methods": {"pc-tune": 20, "avici": 30},
        "domain_factors": {"d100": 10},
    },
}


def test_parse_dry_run_reads_rule_wildcards_threads_and_gpus():
    jobs = parse_dry_run(LISTING)
    assert [j.rule for j in jobs] == ["train_model", "run_method", "run_method_group", "all"]
    assert (jobs[0].threads, jobs[0].gpu, jobs[0].runtime_min) == (128, 8, 4320)
    assert jobs[1].wildcards["method"] == "pc-tune__alpha=0.01"
    assert jobs[1].wildcards["seed"] == "tune-3"
    assert (jobs[1].threads, jobs[1].gpu) == (2, 0)
    assert (jobs[2].n_datasets, jobs[2].gpu, jobs[2].runtime_min) == (3, 1, 63)
    assert (jobs[3].threads, jobs[3].gpu) == (1, 0)


@pytest.mark.parametrize(
    "job, seconds",
    [
        (Job("run_method", {"method": "pc-tune__alpha=0.01", "domain": "lin-gauss"}), 20),
        (Job("run_method", {"method": "pc-tune__alpha=0.01", "domain": "rff-size-d100"}), 200),
        (Job("run_method", {"method": "avici-rff-layers1", "domain": "rff-d30-ood"}), 30),
        (Job("run_method", {"method": "ges", "domain": "rff-d30-ood"}), 50),
        # a group: the first dataset as a run, each further one at the method's warm fraction
        (
            Job("run_method_group", {"method": "avici-rff", "domain": "rff-d30-ood"}, n_datasets=3),
            60,
        ),
        # any other group: the share its id (or a prefix) has, else the default share
        (
            Job("run_method_group", {"method": "pc-tune__alpha=0.01", "domain": "x"}, n_datasets=5),
            40,
        ),
        (Job("train_model", {"model": "quick"}), 60),
        (Job("train_model", {"model": "gene"}, runtime_min=120), 3600),
        (Job("simulate_dataset", {"domain": "x", "seed": "0"}), 10),
        (Job("make_table"), 7),
    ],
)
def test_job_seconds_lookup_order(job: Job, seconds: float):
    assert job_seconds(COSTS, job) == seconds


def test_summarize_prices_cpu_and_gpu_hours():
    summary = summarize(parse_dry_run(LISTING), COSTS)
    # train: half of 4320 min = 36 h x 128 CPUs, x 8 GPUs; run: 20 s x 10 (d100) x 2 threads;
    # all: 7 s x 1
    assert summary["train_model"] == {"jobs": 1, "cpu_h": 36.0 * 128, "gpu_h": 36.0 * 8}
    assert summary["run_method"]["cpu_h"] == pytest.approx(400 / 3600)
    assert summary["run_method"]["gpu_h"] == 0.0
    assert summary["run_method_group"] == {"jobs": 1, "cpu_h": 60 * 2 / 3600, "gpu_h": 60 / 3600}
    assert summary["all"]["cpu_h"] == pytest.approx(7 / 3600)


def test_load_costs_names_what_is_missing(tmp_path: Path):
    with pytest.raises(ValueError, match="not found"):
        load_costs(tmp_path / "none.yaml")
    (tmp_path / "c.yaml").write_text("rules: {}\n")
    with pytest.raises(ValueError, match="run_method"):
        load_costs(tmp_path / "c.yaml")


def test_shipped_costs_price_every_paper_method():
    """Every method of the paper overlay has its own entry or a prefix entry, not the default."""
    import yaml

    repo = Path(__file__).resolve().parents[1]
    costs = load_costs(repo / "config" / "costs.yaml")
    paper = yaml.safe_load((repo / "config" / "paper" / "neurips2022.yaml").read_text())
    methods = {m for e in paper["experiments"].values() for m in e["methods"]}
    known = costs["run_method"]["methods"]
    unpriced = sorted(m for m in methods if not set(cli_plan._candidates(m)) & set(known))
    assert unpriced == []


def test_plan_command_on_the_quick_config(tmp_path: Path, capsys: pytest.CaptureFixture):
    wf = copy_workflow(tmp_path)
    rc = cli_plan.main(["--directory", str(wf), "--configfile", "config/quick.yaml"])
    assert rc == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["run_method"][0] == "6" and rows["simulate_dataset"][0] == "6"  # GES: 2 x 3 seeds
    assert rows["run_method_group"][0] == "8"  # 2 domains x (PC, LiNGAM, AVICI obs and int)
    assert rows["score_predictions"][0] == "10"  # 2 domains x 5 (setting, method) pairs
    assert rows["total"][0] == "36"  # + aggregate, 3 tables, figures, all
    assert "train_model" not in rows  # the shipped model: nothing to train
    assert float(rows["total"][2]) == 0.0  # no GPU job in the quick config


def test_plan_command_reports_a_failed_dry_run(tmp_path: Path):
    wf = copy_workflow(tmp_path)
    with pytest.raises(ValueError, match="dry run failed"):
        cli_plan.main(["--directory", str(wf), "--configfile", "fixtures/typo_config.yaml"])
