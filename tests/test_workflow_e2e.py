"""Real workflow runs in a scratch directory: the quick config end to end, a second run that does
nothing, a killed run that resumes without redoing finished jobs, and the Snakemake report.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from test_workflow import copy_workflow, jobs_by_rule, snakemake

from avici_core.report.aggregate import read_metrics_csv

pytestmark = pytest.mark.slow
# two domains at one d and n: no sweep figure (auc_vs_d and the like need two sizes)
FIGURES = ("box_sid", "box_f1", "calibration", "heatmaps")
REPO = Path(__file__).resolve().parents[1]


def test_quick_config_end_to_end(tmp_path: Path):
    wf = copy_workflow(tmp_path)
    r = snakemake(wf, "--profile", "local", "--configfile", "config/quick.yaml", timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    metrics = read_metrics_csv(wf / "results" / "metrics" / "all.csv")
    assert set(metrics["domain"]) == {"lin-gauss", "rff-gauss"}
    assert set(metrics["method"]) == {"pc", "ges", "lingam", "avici-small-v10"}
    ok = metrics[metrics["status"] == "ok"]
    for metric in ("f1", "precision", "recall", "auroc", "auprc"):
        assert ok.loc[ok["metric"] == metric, "value"].between(0, 1).all(), metric
    table = pd.read_csv(wf / "results" / "tables" / "benchmark.csv")
    runs = table["n"] + table["n_failed"] + table["n_timeout"] + table["n_undefined"]
    assert (runs == 3).all()
    groups = table.groupby(["setting", "domain", "metric"])
    contested = groups["method"].transform("nunique") > 1  # a group of one method has no bold
    assert table[contested].groupby(["setting", "domain", "metric"])["bold"].any().all()
    assert not table[~contested]["bold"].any()
    md = (wf / "results" / "tables" / "benchmark.md").read_text()
    assert "AVICI (small-v10)" in md and "| interventional |" in md.replace("  ", " ").replace(
        "  ", " "
    )
    assert {p.stem for p in (wf / "results" / "figures").glob("*.png")} == set(FIGURES)
    for name in FIGURES:
        for ext in ("pdf", "png"):
            assert (wf / "results" / "figures" / f"{name}.{ext}").stat().st_size > 1000
    assert not (wf / "results" / "models").exists()  # the shipped model, nothing trained
    # a second run finds nothing to do
    again = snakemake(wf, "-n", "--profile", "local", "--configfile", "config/quick.yaml")
    assert again.returncode == 0 and jobs_by_rule(again.stdout) == {}, again.stdout
    # the report holds every table and figure
    rep = snakemake(wf, "--configfile", "config/quick.yaml", "--report", "report.html")
    assert rep.returncode == 0, rep.stderr[-3000:]
    html = (wf / "report.html").read_text(errors="replace")
    assert "[&#39;" not in html and "['lin-gauss'" not in html  # no Python lists on the home page
    for name in (*FIGURES, "benchmark.html", "benchmark.md", "benchmark.csv"):
        assert name in html, name
    assert "d = 20, n = 1000 rows" in html  # the home page states the sizes
    # every page of the report, screenshotted in headless Chromium (look at them: OUT below)
    out = tmp_path / "screenshots"
    shots = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "screenshot_report.py"),
            str(wf / "report.html"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert shots.returncode == 0, shots.stdout + shots.stderr
    pages = sorted(p.name for p in out.glob("*.png"))
    tables = ("benchmark", "probabilities", "walltime")
    assert len(pages) == 3 + len(tables) + len(FIGURES), pages  # home, 2 categories, views
    for page in out.glob("*.png"):
        pixels = np.asarray(Image.open(page).convert("L"), dtype=float)
        assert pixels.std() > 5, f"{page.name} is blank"


def test_killed_run_resumes_without_redoing_finished_jobs(tmp_path: Path):
    wf = copy_workflow(tmp_path)
    args = ["--profile", "local", "--cores", "1", "--configfile", "fixtures/tiny.yaml"]
    log = wf / "first_run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "snakemake", *args],
            cwd=wf,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "JAX_PLATFORMS": "cpu"},
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and "(Rule: score_predictions)" not in log.read_text():
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, jobs included, without any clean-up
        proc.wait()
    assert "(Rule: score_predictions)" in log.read_text(), "no score job finished before the kill"
    assert snakemake(wf, "--unlock", *args).returncode == 0
    plan = snakemake(wf, "-n", *args).stdout
    assert jobs_by_rule(plan).get("score_predictions", 0) == 1  # of 2: pc and ges, 2 seeds each
    planned = set(re.findall(r"output: (\S+?),?$", plan, flags=re.M))
    kept = {
        p: p.stat().st_mtime_ns
        for p in (wf / "results").rglob("*")
        if p.suffix in (".csv", ".npz") and str(p.relative_to(wf)) not in planned
    }
    assert any(p.suffix == ".csv" for p in kept)
    r = snakemake(wf, *args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items()), "a finished job was redone"
    assert jobs_by_rule(snakemake(wf, "-n", *args).stdout) == {}


def test_adding_a_domain_computes_that_domain_only(tmp_path: Path):
    wf = copy_workflow(tmp_path)
    args = ["--profile", "local", "--configfile", "fixtures/tiny.yaml"]
    assert snakemake(wf, *args).returncode == 0
    plan = snakemake(wf, "-n", *args, "--config", "domains=[lin-gauss,rff-gauss]")
    jobs = jobs_by_rule(plan.stdout)
    assert jobs["simulate_dataset"] == 2 and jobs["run_method"] == 2, jobs  # GES, 2 seeds
    assert jobs["run_method_group"] == 1, jobs  # PC: both seeds in one job
    assert "results/data/lin-gauss" not in plan.stdout


USER_DOMAIN = """
  my-rff:
    description: written the way a user would, with plain numbers for distributions
    n_vars: 5
    n_obs: 200
    n_int: 50
    graph: {class: ErdosRenyi, edges_per_var: 1.0}
    mechanism:
      class: RFFAdditive
      length_scale: 8.0
      output_scale: 12
      bias: 0.0
      noise_scale: 1.0
    interventions: {values: 3.0}
"""


def test_a_user_written_domain_with_plain_numbers_runs_end_to_end(tmp_path: Path):
    wf = copy_workflow(tmp_path)
    registry = wf / "config" / "domains.yaml"
    registry.write_text(registry.read_text().rstrip("\n") + "\n" + USER_DOMAIN)
    args = ["--profile", "local", "--configfile", "fixtures/tiny.yaml", "--config"]
    r = snakemake(wf, *args, "domains=[my-rff]")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    metrics = read_metrics_csv(wf / "results" / "metrics" / "all.csv")
    assert set(metrics["domain"]) == {"my-rff"}
    assert set(metrics["status"]) <= {"ok", "n/a"}, set(metrics["status"])  # nothing failed


def test_an_identical_copy_of_the_registries_reruns_nothing(tmp_path: Path):
    wf = copy_workflow(tmp_path)
    args = ["--profile", "local", "--configfile", "fixtures/tiny.yaml"]
    assert snakemake(wf, *args).returncode == 0
    shutil.copytree(wf / "config", wf / "config-copy")
    overlay = {
        "registries": {
            kind: f"config-copy/{kind}.yaml" for kind in ("domains", "methods", "models", "tables")
        }
    }
    (wf / "copy.yaml").write_text(yaml.safe_dump(overlay))
    plan = snakemake(wf, "-n", *args, "copy.yaml")
    assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]
    assert jobs_by_rule(plan.stdout) == {}, plan.stdout[-3000:]
