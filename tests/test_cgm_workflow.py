"""The image track's Snakemake rules: dry run, config validation, and a tiny end-to-end run."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_workflow import copy_workflow

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "workflow" / "rules" / "cgm.smk"


def tiny_config() -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "cgm.yaml").read_text())
    cfg["data"] = {"size": 32, "n_train": 300, "n_test": 48, "n_simint": 200}
    cfg["oracles"] = {"A": {"width": 4, "steps": 20}, "B": {"width": 6, "steps": 20}}
    cfg["models"] = {
        "cvae_b4_cf": {"beta": 4.0, "steps": 20, "batch": 32, "width": 4, "z_dim": 4, "cf_steps": 5}
    }
    cfg["rows"] = {
        k: v
        for k, v in cfg["rows"].items()
        if k in ("cvae_b4_cf", "renderer", "renderer_fitted", "identity")
    }
    cfg["main"].update(
        datasets=["sprites_scm"], rows=["cvae_b4_cf", "renderer", "identity"], seeds=[0]
    )
    cfg["bridge"].update(
        datasets=["sprites_randdag"],
        rows=["renderer_fitted"],
        graphs=["true", "empty", "reversed"],
        seeds=[0],
        n_rows=200,
    )
    cfg["eval"] = {"n_eval": 48, "mech_steps": 40}
    return cfg


def snakemake(tmp_path: Path, cfg: dict, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "cgm.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "Snakefile").write_text(f'include: "{RULES}"\n')
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(tmp_path / "Snakefile"),
        "-d",
        str(tmp_path),
        "--config",
        f"cgm_config={tmp_path / 'cgm.yaml'}",
        "--cores",
        "2",
        *args,
        "cgm_all",
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)


def test_dry_run_plans_every_step(tmp_path):
    res = snakemake(tmp_path, tiny_config(), "-n")
    assert res.returncode == 0, res.stderr + res.stdout
    for rule in (
        "cgm_data",
        "cgm_oracle",
        "cgm_image_model",
        "cgm_graph",
        "cgm_eval",
        "cgm_table",
        "cgm_figure",
        "cgm_bridge_figure",
    ):
        assert rule in res.stdout


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["main"].update(rows=["cvae_b9"]), "unknown row"),
        (lambda c: c.update(colour="blue"), "Additional properties"),
        (lambda c: c["data"].update(size=48), "48"),
    ],
)
def test_bad_config_is_rejected(tmp_path, edit, message):
    cfg = tiny_config()
    edit(cfg)
    res = snakemake(tmp_path, cfg, "-n")
    assert res.returncode != 0 and message in res.stderr + res.stdout


@pytest.mark.slow
def test_tiny_end_to_end(tmp_path):
    res = snakemake(tmp_path, tiny_config())
    assert res.returncode == 0, res.stderr[-3000:]
    md = (tmp_path / "results/tables/cgm_main.md").read_text()
    assert "renderer" in md and "identity" in md and "cvae_b4_cf" in md
    assert (tmp_path / "results/figures/cgm_grid_sprites_scm.png").stat().st_size > 0
    bridge = (tmp_path / "results/tables/cgm_bridge.csv").read_text()
    assert "reversed" in bridge and "empty" in bridge


def test_the_main_snakefile_takes_another_image_track_config(tmp_path):
    """``--config cgm_config=FILE`` passes the main config's schema and reaches the track."""
    wf = copy_workflow(tmp_path)
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(tiny_config()))
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--cores",
            "1",
            "cgm_all",
            "--config",
            f"cgm_config={tmp_path / 'mine.yaml'}",
        ],
        capture_output=True,
        text=True,
        cwd=wf,
    )
    assert res.returncode == 0, res.stderr + res.stdout
    planned = set(re.findall(r"results/cgm/data/(\w+)/", res.stdout))
    tiny = tiny_config()
    assert planned == {*tiny["main"]["datasets"], *tiny["bridge"]["datasets"]}, planned
    assert "digits_scm" not in planned  # config/cgm.yaml's second dataset: not this config
