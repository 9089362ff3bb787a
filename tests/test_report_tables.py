"""Report tables on synthetic long-form metric frames: statistics, bold rule, failures, formats."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from avici_core.report.aggregate import aggregate_metric_files, check_metrics_frame
from avici_core.report.spec import load_tables_spec
from avici_core.report.tables import (
    bold_flags,
    caption,
    format_number,
    summarize,
    to_csv_frame,
    to_html,
    to_latex,
    to_markdown,
)

REPO = Path(__file__).resolve().parents[1]


def make_spec(**table) -> dict:
    spec = {
        "dispersion": "sem",
        "alpha": 0.05,
        "metrics": {
            "f1": {"label": "F1", "higher_is_better": True, "decimals": 3, "test_scale": "linear"},
            "shd": {
                "label": "SHD",
                "higher_is_better": False,
                "decimals": 1,
                "test_scale": "linear",
            },
            "walltime_s": {"higher_is_better": False, "significant": 2, "test_scale": "log"},
        },
        "methods": [{"id": "pc", "label": "PC"}, {"id": "avici", "label": "AVICI"}],
        "tables": {
            "t": {
                "caption": "",
                "metrics": ["f1", "shd"],
                "domains": None,
                "methods": None,
                "settings": ["obs", "int"],
                **table,
            }
        },
    }
    return spec


def rows(domain, setting, method, metric, values, status="ok"):
    return [
        dict(
            domain=domain,
            setting=setting,
            method=method,
            seed=s,
            metric=metric,
            value=v,
            status=status,
        )
        for s, v in enumerate(values)
    ]


def frame(*groups) -> pd.DataFrame:
    return check_metrics_frame(pd.DataFrame([r for g in groups for r in g]))


def cell(summary, setting, method, domain, metric) -> pd.Series:
    c = summary.cells
    sel = c[
        (c.setting == setting) & (c.method == method) & (c.domain == domain) & (c.metric == metric)
    ]
    assert len(sel) == 1
    return sel.iloc[0]


def test_mean_and_sem_match_scipy():
    vals = [0.2, 0.4, 0.9, 0.5]
    df = frame(rows("lin", "obs", "pc", "f1", vals), rows("lin", "obs", "pc", "shd", [3, 4, 5, 6]))
    s = summarize(df, "t", make_spec())
    c = cell(s, "obs", "pc", "lin", "f1")
    assert c["mean"] == pytest.approx(np.mean(vals))
    assert c["spread"] == pytest.approx(stats.sem(vals))
    assert c["n"] == 4 and not c["bold"]  # a group of one method has nothing to beat


def test_std_dispersion():
    spec = make_spec()
    spec["dispersion"] = "std"
    s = summarize(frame(rows("lin", "obs", "pc", "f1", [1.0, 2.0, 4.0])), "t", spec)
    assert cell(s, "obs", "pc", "lin", "f1")["spread"] == pytest.approx(np.std([1, 2, 4], ddof=1))


def test_welch_bolds_methods_not_significantly_different():
    best = np.array([0.80, 0.81, 0.79, 0.80, 0.80])
    close = np.array([0.65, 0.90, 0.72, 0.85, 0.78])  # lower mean, wide spread: p >= 0.05
    far = np.array([0.30, 0.31, 0.29, 0.30, 0.30])
    assert stats.ttest_ind(best, close, equal_var=False).pvalue >= 0.05
    flags = bold_flags([best, close, far], higher_is_better=True, alpha=0.05)
    assert flags == [True, True, False]
    # lower is better flips the winner
    assert bold_flags([best, far], higher_is_better=False, alpha=0.05) == [False, True]


def test_seconds_are_compared_on_their_logarithms():
    """A method 100x slower with one very slow run is no tie of the fastest on a log scale,
    although its wide spread makes it one in a Welch test on the seconds themselves."""
    fast = np.array([0.05, 0.07, 0.06, 0.08, 0.07, 0.06])
    slow = np.array([1.5, 2.0, 1.8, 2.2, 1.6, 40.0])
    assert stats.ttest_ind(fast, slow, equal_var=False).pvalue >= 0.05
    assert bold_flags([fast, slow], higher_is_better=False, alpha=0.05) == [True, True]
    logged = bold_flags([fast, slow], higher_is_better=False, alpha=0.05, log_scale=True)
    assert logged == [True, False]
    # overlapping timings stay tied on either scale
    close = fast * np.array([1.2, 0.9, 1.1, 1.0, 1.3, 0.8])
    assert bold_flags([fast, close], higher_is_better=False, alpha=0.05, log_scale=True) == [
        True,
        True,
    ]
    frame = pd.DataFrame(
        rows("lin", "obs", "pc", "walltime_s", fast)
        + rows("lin", "obs", "avici", "walltime_s", slow)
    )
    summary = summarize(frame, "t", make_spec(metrics=["walltime_s"], settings=["obs"]))
    bold = summary.cells.set_index("method")["bold"]
    assert bool(bold["pc"]) and not bool(bold["avici"])
    assert "on the logarithms for walltime_s" in caption(summary, make_spec(metrics=["walltime_s"]))


def test_fewer_than_five_values_bold_only_the_best_and_one_method_is_never_bold():
    best, close = np.array([0.80, 0.81, 0.79, 0.80]), np.array([0.65, 0.90, 0.72, 0.85])
    assert bold_flags([best, close], higher_is_better=True, alpha=0.05) == [True, False]
    assert bold_flags([np.zeros(30)], higher_is_better=True, alpha=0.05) == [False]


def test_exact_ties_are_all_bold_and_single_values_are_not_tested():
    assert bold_flags(
        [np.array([0.5, 0.5]), np.array([0.5, 0.5])], higher_is_better=True, alpha=0.05
    ) == [True, True]
    assert bold_flags([np.array([0.9]), np.array([0.5])], higher_is_better=True, alpha=0.05) == [
        True,
        False,
    ]
    assert bold_flags([np.empty(0), np.array([0.1, 0.2])], higher_is_better=True, alpha=0.05) == [
        False,
        True,
    ]  # the other method failed everywhere: this one is the best there is


def test_groups_are_highlighted_separately():
    df = frame(
        rows("lin", "obs", "pc", "f1", [0.1, 0.11, 0.12]),
        rows("lin", "int", "avici", "f1", [0.9, 0.91, 0.92]),
        rows("lin", "obs", "avici", "f1", [0.05, 0.06, 0.04]),
    )
    s = summarize(df, "t", make_spec(metrics=["f1"]))
    assert cell(s, "obs", "pc", "lin", "f1")["bold"]  # best of obs, despite avici-int being higher
    assert not cell(s, "obs", "avici", "lin", "f1")["bold"]
    assert not cell(s, "int", "avici", "lin", "f1")["bold"]  # alone in its group
    assert s.rows == [("obs", "pc"), ("obs", "avici"), ("int", "avici")]  # spec's fixed order


def test_failures_are_marked_cells_and_counted():
    df = frame(
        rows("lin", "obs", "pc", "f1", [0.5, 0.6]),
        rows("lin", "obs", "avici", "f1", [np.nan, np.nan], status="timeout"),
        [
            dict(
                domain="lin",
                setting="obs",
                method="pc",
                seed=7,
                metric="f1",
                value=np.nan,
                status="failed",
            )
        ],
    )
    spec = make_spec(metrics=["f1"], settings=["obs"])
    s = summarize(df, "t", spec)
    pc = cell(s, "obs", "pc", "lin", "f1")
    av = cell(s, "obs", "avici", "lin", "f1")
    assert (pc["n"], pc["n_failed"], pc["n_timeout"]) == (2, 1, 0)
    assert (av["n"], av["n_failed"], av["n_timeout"], av["bold"]) == (0, 0, 2, False)
    md = to_markdown(s, spec)
    assert "timeout\u00a7" in md and "0.550 \u00b1 0.050**\u2020" in md
    assert "\u2020 Runs that failed, excluded from the mean: PC on lin (obs): 1." in md
    assert "\u00a7 Runs that timed out, excluded from the mean: AVICI on lin (obs): 2." in md
    assert "fewer than 5 datasets per cell no significance test" in md
    tex = to_latex(s, spec)
    assert r"timeout$^\S$" in tex and r"\footnotesize" in tex


def test_metric_without_values_is_not_applicable():
    df = frame(
        rows("lin", "obs", "pc", "f1", [0.5, 0.6]), rows("lin", "obs", "avici", "shd", [1, 2])
    )
    spec = make_spec(settings=["obs"])
    md = to_markdown(summarize(df, "t", spec), spec)
    assert "n/a" in md and "failed" not in md


def parse_markdown(md: str) -> pd.DataFrame:
    lines = [line for line in md.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return pd.DataFrame(cells[2:], columns=cells[0])


def test_markdown_latex_csv_parse_and_agree():
    rng = np.random.default_rng(1)
    df = frame(
        *[
            rows(d, st, m, met, rng.uniform(0, 1, 5) * (10 if met == "shd" else 1))
            for d in ("lin", "rff")
            for st in ("obs", "int")
            for m in ("pc", "avici")
            for met in ("f1", "shd")
            if not (m == "pc" and st == "int")
        ]
    )
    spec = make_spec()
    s = summarize(df, "t", spec)
    md = parse_markdown(to_markdown(s, spec))
    assert list(md.columns) == ["setting", "method", "lin F1", "lin SHD", "rff F1", "rff SHD"]
    assert md["method"].tolist() == ["PC", "AVICI", "AVICI"]
    csv = pd.read_csv(io.StringIO(to_csv_frame(s, spec).to_csv(index=False)))
    assert {"mean", "sem", "n", "n_failed", "n_timeout", "bold"} <= set(csv.columns)
    assert csv["mean"].between(0, 10).all()
    want = df[
        (df.domain == "rff") & (df.method == "avici") & (df.setting == "int") & (df.metric == "f1")
    ]["value"]
    got = csv[
        (csv.domain == "rff")
        & (csv.method == "avici")
        & (csv.setting == "int")
        & (csv.metric == "f1")
    ]
    assert got["mean"].item() == pytest.approx(want.mean())
    text = md.loc[2, "rff F1"].strip("*")
    assert text == f"{want.mean():.3f} \u00b1 {stats.sem(want):.3f}"
    # every bold cell in the CSV is bold in the Markdown
    assert (md.iloc[:, 2:].apply(lambda c: c.str.startswith("**")).to_numpy().sum()) == csv[
        "bold"
    ].sum()
    tex = to_latex(s, spec)
    body = tex[tex.index(r"\toprule") : tex.index(r"\bottomrule")]
    assert tex.count(r"\begin{tabular}") == 1 and r"\midrule" in body
    data_lines = [ln for ln in body.splitlines() if ln.endswith(r"\\") and "$\\pm$" in ln]
    assert len(data_lines) == 3 and all(ln.count("&") == 4 for ln in data_lines)
    assert r"\multicolumn{2}{c}{lin}" in tex and r"\emph{interventional}" in tex
    assert "N = 5 test datasets" in tex


def test_format_number_significant_and_decimals():
    assert format_number(1234.5, {"significant": 2}) == "1200"
    assert format_number(0.012345, {"significant": 2}) == "0.012"
    assert format_number(12.345, {"decimals": 1}) == "12.3"


def test_aggregate_concatenates_and_rejects_bad_files(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame(rows("lin", "obs", "pc", "f1", [0.1, 0.2])).to_csv(a, index=False)
    pd.DataFrame(rows("rff", "obs", "pc", "f1", [0.3])).to_csv(b, index=False)
    df = aggregate_metric_files([b, a])
    assert len(df) == 3 and df["domain"].tolist() == ["lin", "lin", "rff"]
    bad = tmp_path / "bad.csv"
    pd.DataFrame(rows("lin", "obs", "pc", "f1", [0.1])).drop(columns="status").to_csv(
        bad, index=False
    )
    with pytest.raises(ValueError, match=r"missing column\(s\) \['status'\]"):
        aggregate_metric_files([bad])
    with pytest.raises(ValueError, match="duplicate"):
        aggregate_metric_files([a, a])
    with pytest.raises(ValueError, match="unknown status"):
        check_metrics_frame(pd.DataFrame(rows("lin", "obs", "pc", "f1", [0.1], status="crashed")))


def test_shipped_tables_spec_loads_with_defaults(tmp_path):
    spec = load_tables_spec(REPO / "config" / "tables.yaml")
    assert spec["tables"]["probabilities"]["settings"] == ["obs", "int"]
    assert spec["figures"]["calibration_bins"] == 10
    bad = tmp_path / "tables.yaml"
    bad.write_text(
        (REPO / "config" / "tables.yaml").read_text().replace("dispersion: sem", "dispersoin: sem")
    )
    with pytest.raises(ValueError, match="dispersoin"):
        load_tables_spec(bad)
    bad.write_text("metrics: {f1: {higher_is_better: true}}\ntables: {t: {metrics: [f2]}}\n")
    with pytest.raises(ValueError, match=r"table 't' uses metric\(s\) \['f2'\]"):
        load_tables_spec(bad)


def test_undefined_values_of_successful_runs_are_counted_not_dropped():
    df = frame(rows("lin", "obs", "pc", "f1", [0.5, np.nan, 0.7]))
    spec = make_spec(metrics=["f1"], settings=["obs"])
    s = summarize(df, "t", spec)
    c = cell(s, "obs", "pc", "lin", "f1")
    assert (c["n"], c["n_undefined"], c["n_failed"]) == (2, 1, 0)
    assert c["mean"] == pytest.approx(0.6)
    md = to_markdown(s, spec)
    assert "0.600 \u00b1 0.100\u2021" in md
    assert "\u2021 Runs whose metric is undefined: PC F1 on lin (obs): 1." in md
    assert r"$^\ddagger$" in to_latex(s, spec)


def test_a_column_only_one_method_has_is_not_bold_and_a_failed_runs_neighbours_stay_n_a():
    df = frame(
        rows("lin", "obs", "avici", "f1", [0.5, 0.6, 0.7, 0.6, 0.5]),
        rows("lin", "obs", "pc", "f1", [np.nan] * 4, status="n/a"),  # e.g. rowcol of a hard graph
        [{**rows("lin", "obs", "pc", "f1", [np.nan], status="failed")[0], "seed": 4}],
    )
    spec = make_spec(metrics=["f1"], settings=["obs"])
    s = summarize(df, "t", spec)
    assert not cell(s, "obs", "avici", "lin", "f1")["bold"]  # nothing to compare with
    pc = cell(s, "obs", "pc", "lin", "f1")
    assert (pc["n"], pc["n_failed"], pc["n_not_applicable"]) == (0, 1, 4)
    assert "| n/a†" in to_markdown(s, spec).replace("  ", " ").replace("  ", " ")


class CellParser(HTMLParser):
    """(tag, class, text) of every th/td, in document order."""

    def __init__(self):
        super().__init__()
        self.cells: list[list[str]] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self.cells.append([tag, dict(attrs).get("class") or "", ""])
            self.inside = True

    def handle_endtag(self, tag):
        self.inside = self.inside and tag not in ("th", "td")

    def handle_data(self, data):
        if self.inside:
            self.cells[-1][2] += data.strip()


def test_html_table_matches_the_markdown_and_marks_direction_bold_and_failures():
    rng = np.random.default_rng(2)
    df = frame(
        *[
            rows("lin", st, m, met, rng.uniform(0, 1, 6) * (10 if met == "shd" else 1))
            for st in ("obs", "int")
            for m in ("pc", "avici")
            for met in ("f1", "shd")
            if not (m == "pc" and st == "int")
        ],
        [{**r, "seed": 99} for r in rows("lin", "obs", "pc", "f1", [np.nan], status="failed")],
    )
    spec = make_spec()
    s = summarize(df, "t", spec)
    page = to_html(s, spec)
    parser = CellParser()
    parser.feed(page)
    heads = [t for tag, _, t in parser.cells if tag == "th"]
    assert heads[:4] == ["method", "lin", "F1 \u2191", "SHD \u2193"]
    assert heads[4:] == ["observational", "interventional"]
    data = [(cls, t) for tag, cls, t in parser.cells if tag == "td"]
    md = parse_markdown(to_markdown(s, spec))
    want = [
        (bold, text)
        for row in md.iloc[:, 1:].itertuples(index=False)
        for bold, text in [(False, row[0])]
        + [(c.startswith("**"), c.replace("**", "")) for c in row[1:]]
    ]
    assert [(cls == "best", t) for cls, t in data] == want
    assert "Welch two-sided t-test" in page and "<sup>\u2020</sup>" in page
    assert "Runs that failed" in page and page.startswith("<!DOCTYPE html>")
