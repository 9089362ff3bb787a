"""Report figures: reliability bins by hand, and the figures command on small synthetic files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from avici_core.dataset import Dataset, save_dataset
from avici_core.prediction import Prediction, save_prediction
from avici_core.report import cli_figures, figures
from avici_core.report.figures import expected_calibration_error, reliability
from avici_core.report.spec import load_tables_spec

REPO = Path(__file__).resolve().parents[1]


def test_reliability_bins_match_hand_count():
    probs = np.array([[0.0, 0.05, 0.95], [0.15, 0.0, 0.92], [0.5, 0.55, 0.0]])  # [3, 3]
    truth = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 0]])
    bins = reliability(probs, truth, n_bins=10).set_index("bin")
    # off-diagonal: bin0 {0.05:0}, bin1 {0.15:1}, bin5 {0.5:0, 0.55:1}, bin9 {0.95:1, 0.92:1}
    assert bins["count"].to_dict() == {0: 1, 1: 1, 5: 2, 9: 2}
    assert bins.loc[5, "confidence"] == pytest.approx(0.525)
    assert bins.loc[5, "accuracy"] == pytest.approx(0.5)
    ece = expected_calibration_error(bins.reset_index())
    want = (abs(0 - 0.05) + abs(1 - 0.15) + 2 * abs(0.5 - 0.525) + 2 * abs(1 - 0.935)) / 6
    assert ece == pytest.approx(want)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reliability(probs * 3, truth, n_bins=10)


def linear_sem(rng: np.random.Generator, g: np.ndarray, n: int) -> np.ndarray:
    """Rows of a linear-Gaussian SEM on the DAG ``g`` (variables in topological index order)."""
    d = g.shape[0]
    w = g * rng.uniform(0.5, 2.0, (d, d))  # [d, d]
    x = np.zeros((n, d))
    for j in range(d):
        x[:, j] = x @ w[:, j] + rng.standard_normal(n)
    return x


def write_run(
    root: Path, rng: np.random.Generator, domain: str, d: int, seed: int, stream: str = "test"
) -> list[dict]:
    name = f"{seed}.npz" if stream == "test" else f"{stream}-{seed}.npz"  # as the workflow names
    g = np.triu(rng.random((d, d)) < 0.4, 1).astype(np.int8)  # [d, d]
    x = linear_sem(rng, g, 60)
    ds = Dataset(
        g, x[:40], x[40:50], np.zeros((10, d), np.int8), x[50:], x[50:55], np.zeros((5, d), np.int8)
    )
    save_dataset(root / "data" / domain / name, ds)
    rows = []
    for method, setting, has_probs, status in (
        ("avici", "int", True, "ok"),
        ("avici", "obs", True, "ok"),
        ("pc", "obs", False, "ok"),
        ("ges", "obs", False, "failed"),
    ):
        probs = np.clip(g * 0.7 + rng.uniform(0, 0.3, (d, d)), 0, 1) * (1 - np.eye(d))
        scores = probs if has_probs else g.astype(float)
        pred = Prediction(
            scores,
            (scores > 0.5).astype(np.int8),
            "probs" if has_probs else "dag",
            has_probs,
            status,
            walltime_s=0.1 * d,
        )
        save_prediction(root / "pred" / domain / setting / method / name, pred)
        for metric, value in (
            ("f1", rng.uniform()),
            ("auroc", rng.uniform()),
            ("shd", 3.0),
            ("sid", rng.uniform(0, 20)),
            ("walltime_s", 0.1 * d),
        ):
            rows.append(
                dict(
                    domain=domain,
                    setting=setting,
                    method=method,
                    seed=seed,
                    metric=metric,
                    value=value if status == "ok" else np.nan,
                    status=status,
                )
            )
    return rows


def test_figures_command_writes_every_figure(tmp_path: Path):
    rng = np.random.default_rng(0)
    rows = [
        r
        for dom, d in (("small", 5), ("large", 8))
        for s in range(3)
        for r in write_run(tmp_path, rng, dom, d, s)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "all.csv", index=False)
    out = tmp_path / "figures"
    rc = cli_figures.main(
        [
            "--metrics",
            str(tmp_path / "all.csv"),
            "--spec",
            str(REPO / "config" / "tables.yaml"),
            "--predictions",
            str(tmp_path / "pred"),
            "--data",
            str(tmp_path / "data"),
            "--out-dir",
            str(out),
        ]
    )
    assert rc == 0
    # d = 5 and 8 are one family only if named as size variants; here they are two families
    made = {"box_sid", "box_f1", "calibration", "heatmaps"}
    assert {p.stem for p in out.glob("*.png")} == made
    for name in made:
        for ext in ("pdf", "png"):
            assert (out / f"{name}.{ext}").stat().st_size > 1000, name
    curves = pd.read_csv(out / "calibration.csv")
    assert set(curves["method"]) == {"avici"} and set(curves["setting"]) == {"obs", "int"}
    assert curves["confidence"].between(0, 1).all() and curves["accuracy"].between(0, 1).all()
    # pooled counts: every off-diagonal pair of 3 datasets of each size, per setting
    per_setting = curves.groupby("setting")["count"].sum()
    assert (per_setting == 3 * (5 * 4 + 8 * 7)).all()


def test_runs_on_the_tuning_stream_are_read_from_their_own_files(tmp_path: Path):
    rng = np.random.default_rng(1)
    rows = write_run(tmp_path, rng, "small", 5, 0) + write_run(tmp_path, rng, "small", 5, 1, "tune")
    runs = pd.DataFrame(rows)[["domain", "setting", "method", "seed"]].drop_duplicates()
    curves = cli_figures.calibration_table(runs, tmp_path / "pred", tmp_path / "data", 10)
    assert (curves.groupby("setting")["count"].sum() == 2 * 5 * 4).all()  # both datasets pooled
    sizes = cli_figures.dataset_sizes(runs, tmp_path / "data")
    assert sorted(sizes["seed"]) == [0, 1] and (sizes["n_vars"] == 5).all()
    with pytest.raises(FileNotFoundError, match="seed 7 .* delete that whole folder"):
        cli_figures.run_file(tmp_path / "data" / "small", 7)


def test_sweep_figures_need_two_sizes_in_one_family_and_never_pool_families():
    sizes = pd.DataFrame(
        {
            "domain": ["lin-gauss", "lin-gauss-d50", "rff-gauss", "sachs"],
            "n_vars": [20, 50, 20, 0],
            "n_rows": [1000, 1000, 1000, 0],
        }
    )
    assert figures.domain_family("lin-gauss-d50") == "lin-gauss"
    assert figures.domain_family("linear-d30-ood") == "linear-d30-ood"
    assert figures.sweep_families(sizes, "n_vars") == {"lin-gauss": ["lin-gauss", "lin-gauss-d50"]}
    assert figures.sweep_families(sizes, "n_rows") == {}
    spec = load_tables_spec(REPO / "config" / "tables.yaml")
    assert figures.figure_names(spec, sizes) == [
        "box_sid",
        "box_f1",
        "auc_vs_d",
        "walltime_vs_d",
        "calibration",
        "heatmaps",
    ]
    assert figures.figure_names(spec, sizes.iloc[[0, 2]]) == [
        "box_sid",
        "box_f1",
        "calibration",
        "heatmaps",
    ]


def test_a_tall_figure_is_saved_small_enough_for_the_report_viewer(tmp_path: Path):
    fig, _ = figures.panel_grid(24)  # 6 rows of panels
    assert figures.png_dpi(fig) < 200
    figures.save(fig, tmp_path, "tall")
    width, height = Image.open(tmp_path / "tall.png").size
    assert width <= figures.VIEWER_PX[0] and height <= figures.VIEWER_PX[1]


def test_heatmaps_have_one_row_per_domain_and_setting_and_label_each_once(tmp_path: Path):
    """Rows are (domain, setting) pairs, columns the truth then the spec's method order, and each
    label is drawn once (column titles on the top row, row labels on the first column)."""
    rng = np.random.default_rng(2)
    rows = [
        r for dom, d in (("small", 5), ("large", 8)) for r in write_run(tmp_path, rng, dom, d, 0)
    ]
    runs = pd.DataFrame(rows)[["domain", "setting", "method", "seed"]].drop_duplicates()
    spec = {"methods": [{"id": "pc", "label": "PC"}, {"id": "avici", "label": "AVICI"}]}
    panels = cli_figures.heatmap_panels(runs, tmp_path / "pred", tmp_path / "data", spec)
    keys = [(r, c) for r, c, _ in panels]
    assert sorted({r for r, _ in keys}) == [
        "large (int)",
        "large (obs)",
        "small (int)",
        "small (obs)",
    ]
    assert list(dict.fromkeys(c for _, c in keys)) == ["truth", "PC", "AVICI", "ges"]
    assert ("small (int)", "PC") not in keys  # PC ran observationally only
    failed = [mat for r, c, mat in panels if c == "ges"]
    assert failed and all(mat is None for mat in failed)
    fig = figures.heatmaps(panels)
    axes = np.array(fig.axes[:-1]).reshape(4, 4)  # the last axes is the colour bar
    assert [ax.get_title() for ax in axes[0]] == ["truth", "PC", "AVICI", "ges"]
    assert all(ax.get_title() == "" for ax in axes[1:].flat)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == sorted({r for r, _ in keys})
    assert all(ax.get_ylabel() == "" for ax in axes[:, 1:].flat)
