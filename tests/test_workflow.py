"""The Snakemake workflow without running jobs: dry runs, lint, profiles, config validation.

Also holds the helpers the slower workflow tests import (scratch copy of the workflow, runner).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_PATHS = ("Snakefile", "workflow", "config", "local", "slurm", "environment.yaml")
FIXTURES = REPO / "tests" / "fixtures" / "workflow"


def copy_workflow(dest: Path) -> Path:
    """Copy what the workflow needs into ``dest`` so runs never touch the repo's results/."""
    for name in WORKFLOW_PATHS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    shutil.copytree(FIXTURES, dest / "fixtures")
    return dest


def snakemake(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def jobs_by_rule(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run: rule -> job count; empty when nothing is to be done."""
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Job stats")]
    counts: dict[str, int] = {}
    if not starts:
        return counts
    for line in lines[starts[0] + 3 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture()
def wf(tmp_path: Path) -> Path:
    return copy_workflow(tmp_path)


def methods_in(wf: Path, ids: list[str]) -> dict:
    from avici_core.baselines.registry import load_methods

    registry = load_methods(wf / "config" / "methods.yaml")
    return {m: registry[m] for m in ids}


def test_dry_run_default_config_is_complete(wf: Path):
    r = snakemake(wf, "-n", "--cores", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = jobs_by_rule(r.stdout)
    for rule in (
        "simulate_dataset",
        "run_method",
        "score_predictions",
        "aggregate_metrics",
        "make_table",
        "make_figures",
        "all",
    ):
        assert jobs.get(rule, 0) >= 1, jobs
    assert jobs["simulate_dataset"] % 30 == 0  # 30 test datasets per domain


def test_dry_run_quick_config_job_counts(wf: Path):
    r = snakemake(wf, "-n", "--cores", "2", "--configfile", "config/quick.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = jobs_by_rule(r.stdout)
    methods = methods_in(wf, ["pc", "ges", "lingam", "avici-small-v10"])
    settings = {m: [s for s in ("obs", "int") if s in spec.settings] for m, spec in methods.items()}
    n_runs = sum(len(s) for s in settings.values())
    assert jobs["simulate_dataset"] == 2 * 3
    assert "train_model" not in jobs  # the quick config runs the shipped model
    n_grouped = sum(len(settings[m]) for m, spec in methods.items() if spec.grouped)
    assert n_grouped == 4  # pc, lingam (per_group), avici-small-v10 (obs, int)
    assert jobs["run_method"] == 2 * 3 * (n_runs - n_grouped)  # per dataset: GES
    assert jobs["run_method_group"] == 2 * n_grouped  # one job per (domain, setting), 3 seeds
    assert jobs["score_predictions"] == 2 * n_runs  # one per (domain, setting, method): 3 seeds
    assert jobs["aggregate_metrics"] == jobs["make_figures"] == 1
    assert jobs["make_table"] == 3  # one per table of config/tables.yaml


def test_one_scoring_job_scores_every_seed_of_its_method(wf: Path):
    r = snakemake(wf, "-n", "-p", "--cores", "1", "--configfile", "fixtures/tiny.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = jobs_by_rule(r.stdout)
    assert jobs.get("score_predictions") == 2, r.stdout + r.stderr  # pc and ges, 2 seeds each
    ges = re.search(r"python -m avici_core score .*--method ges .*", r.stdout).group(0)
    pred = "results/predictions/lin-gauss/obs/ges"
    assert f"--prediction {pred}/0.npz {pred}/1.npz" in ges
    assert "--data results/data/lin-gauss/0.npz results/data/lin-gauss/1.npz" in ges
    assert "--seed 0 1 --out results/metrics/lin-gauss/obs/ges.csv" in ges


def test_one_avici_job_infers_every_seed_of_its_group(wf: Path):
    r = snakemake(wf, "-n", "-p", "--cores", "1", "--configfile", "config/quick.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    cmd = next(  # the lin-gauss group's job (jobs are printed in no fixed order)
        line
        for line in re.findall(
            r"python -m avici_core run-method --method avici-small-v10 .* --setting obs .*",
            r.stdout,
        )
        if "results/data/lin-gauss/" in line
    )
    data = " ".join(f"results/data/lin-gauss/{k}.npz" for k in range(3))
    pred = "results/predictions/lin-gauss/obs/avici-small-v10"
    assert f"--data {data} " in cmd and "--seed 0 1 2 " in cmd
    assert f"--out {pred}/0.npz {pred}/1.npz {pred}/2.npz" in cmd
    assert "method=avici-small-v10, seed=" not in r.stdout  # no per-dataset AVICI job


def test_domain_scale_reaches_the_simulator_and_defaults_per_key(wf: Path):
    (wf / "fixtures" / "half.yaml").write_text("domain_scale: {vars: 0.5}\n")
    (wf / "fixtures" / "double.yaml").write_text("domain_scale: {vars: 2}\n")
    base = ("-n", "-p", "--cores", "1", "--configfile", "fixtures/tiny.yaml")
    r = snakemake(wf, *base, "fixtures/half.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("--vars-factor 0.5 --rows-factor 1.0") == 2  # both datasets
    bad = snakemake(wf, *base, "fixtures/double.yaml")
    assert bad.returncode != 0 and "domain_scale" in bad.stdout + bad.stderr


def test_lists_replace_under_configfile_overlay(wf: Path):
    r = snakemake(wf, "-n", "--cores", "1", "--configfile", "fixtures/tiny.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = jobs_by_rule(r.stdout)
    assert jobs["simulate_dataset"] == 2  # one domain x two seeds: the list replaced "all"
    assert "train_model" not in jobs and "make_figures" not in jobs


def test_lint_is_clean(wf: Path):
    r = snakemake(wf, "--lint", "--configfile", "config/quick.yaml")
    assert r.returncode == 0, r.stdout + r.stderr


def test_snakefmt_is_clean():
    r = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_slurm_profile_resources_in_dry_run(wf: Path):
    with_training = ("--config", "methods=[pc,avici-quick]")  # avici-quick: a model to train
    r = snakemake(
        wf, "-n", "--profile", "slurm", "--configfile", "config/quick.yaml", *with_training
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "slurm_partition=CHANGE_ME" in out and "slurm_account=CHANGE_ME" in out
    train = out[out.index("rule train_model") :]
    resources = re.search(r"resources: (.*)", train).group(1)
    assert "gpu=0" in resources and "mem_mb=4000" in resources and "runtime=30" in resources


def test_paper_model_requests_several_gpus_as_one_process(wf: Path):
    r = snakemake(
        wf,
        "-n",
        "--profile",
        "slurm",
        "--configfile",
        "fixtures/tiny.yaml",
        "--config",
        "models=[linear]",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    train = r.stdout[r.stdout.index("rule train_model") :]
    resources = re.search(r"resources: (.*)", train).group(1)
    assert "gpu=8" in resources and "cpus_per_gpu=16" in resources and "tasks" not in resources


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--configfile", "fixtures/typo_config.yaml"), "n_seed"),
        (("--configfile", "fixtures/unknown_domain.yaml"), "lin-gaus"),
        (("--config", "settings=[obs,interventional]"), "interventional"),
    ],
)
def test_config_errors_name_the_key_before_any_job(wf: Path, args, needle):
    r = snakemake(wf, "--cores", "1", *args)
    assert r.returncode != 0
    assert needle in r.stdout + r.stderr
    assert not (wf / "results").exists()


@pytest.mark.parametrize(
    ("registry", "old", "new", "needle"),
    [
        ("models.yaml", "    seed: 0\n", "    sed: 0\n", "sed"),
        ("tables.yaml", "dispersion: sem", "dispersoin: sem", "dispersoin"),
        (
            "models.yaml",
            "train_domains: [neurips-linear, neurips-rff]",
            "train_domains: [neurips-linear, neurips-rf]",
            "neurips-rf",
        ),
        (  # a shipped model that is not in models/
            "methods.yaml",
            "hparams: {model: avici-small-v10, shipped: true}",
            "hparams: {model: avici-small-missing, shipped: true}",
            "avici-small-missing",
        ),
    ],
)
def test_registry_typos_name_the_key(wf: Path, registry, old, new, needle):
    path = wf / "config" / registry
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    r = snakemake(wf, "-n", "--cores", "1", "--configfile", "config/quick.yaml")
    assert r.returncode != 0
    assert needle in r.stdout + r.stderr
