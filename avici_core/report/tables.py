"""Paper-style tables from the long metrics frame (pipeline.md §5, avici.md §4).

A table has one row per (setting, method) and one column per (domain, metric). A cell is the mean
and spread (SEM or std) over test datasets of the runs that succeeded. The best mean per column is
bold within each setting group, together with every method not significantly different from it
(Welch two-sided t-test, p >= alpha), when every cell has at least 5 values (else only the best
mean); a group of one method is never bold. Failed or timed-out runs never vanish: a cell whose
runs all failed or timed out says which, and footnotes count failures and timeouts apart.
Outputs: an HTML page (what the Snakemake report shows), Markdown, LaTeX (booktabs) and a CSV
with the numbers.
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

SETTING_NAMES = {"obs": "observational", "int": "interventional"}
FAILED_MARK = "\u2020"  # dagger: some runs failed
TIMEOUT_MARK = "\u00a7"  # section sign: some runs timed out
UNDEFINED_MARK = "\u2021"  # double dagger: metric undefined (NaN) for some successful runs
NOT_APPLICABLE = "n/a"  # the method has no value for this metric (e.g. AUROC of a hard graph)
ALL_FAILED = "failed"
ALL_TIMED_OUT = "timeout"
MIN_TEST_N = 5  # values per cell below which no significance test is run (only the best is bold)


@dataclasses.dataclass(frozen=True)
class Summary:
    """Numbers behind one table: one row per (setting, method, domain, metric) cell."""

    table_id: str
    cells: pd.DataFrame  # columns SUMMARY_COLUMNS
    domains: list[str]
    metrics: list[str]
    rows: list[tuple[str, str]]  # (setting, method) in display order
    n_datasets: list[int]  # distinct seeds per domain


SUMMARY_COLUMNS = (
    "setting",
    "method",
    "domain",
    "metric",
    "mean",
    "spread",
    "n",
    "n_failed",
    "n_timeout",
    "n_undefined",
    "n_not_applicable",
    "bold",
)


def method_order(methods: list[str], spec: dict[str, Any]) -> list[str]:
    """Methods in the spec's fixed order first, then any others alphabetically."""
    fixed = [m["id"] for m in spec.get("methods", [])]
    present = set(methods)
    return [m for m in fixed if m in present] + sorted(present - set(fixed))


def method_label(method: str, spec: dict[str, Any]) -> str:
    for m in spec.get("methods", []):
        if m["id"] == method:
            return m.get("label", method)
    return method


def spread(values: np.ndarray, dispersion: str) -> float:
    """Standard error or standard deviation (ddof=1); NaN with fewer than two values."""
    if values.size < 2:
        return math.nan
    return float(stats.sem(values) if dispersion == "sem" else np.std(values, ddof=1))


def not_worse(
    best: np.ndarray, other: np.ndarray, alpha: float, *, log_scale: bool = False
) -> bool:
    """True if ``other`` ties the best mean or a Welch t-test cannot tell them apart (on the
    logarithms with ``log_scale``, where every value is positive)."""
    if np.isclose(best.mean(), other.mean(), rtol=1e-12, atol=1e-12):
        return True
    if best.size < 2 or other.size < 2:
        return False
    if log_scale and (best > 0).all() and (other > 0).all():
        best, other = np.log(best), np.log(other)
    p = stats.ttest_ind(best, other, equal_var=False).pvalue
    return bool(np.isfinite(p) and p >= alpha)


def bold_flags(
    groups: list[np.ndarray],
    *,
    higher_is_better: bool,
    alpha: float,
    min_n: int = MIN_TEST_N,
    log_scale: bool = False,
) -> list[bool]:
    """Bold the best mean and every group not significantly different from it.

    A comparison needs two methods: a group of one is never bold (a method that failed on every
    dataset counts: the other one is then the best there is). With fewer than ``min_n``
    values in a cell a t-test says nothing useful, so then only the best mean (and exact ties)
    is bold.
    """
    means = [g.mean() if g.size else math.nan for g in groups]
    finite = [i for i, m in enumerate(means) if np.isfinite(m)]
    if not finite or len(groups) < 2:
        return [False] * len(groups)
    pick = max if higher_is_better else min
    best = pick(finite, key=lambda i: means[i])
    tested = min(groups[i].size for i in finite) >= min_n
    return [
        i in finite
        and (
            not_worse(groups[best], groups[i], alpha, log_scale=log_scale)
            if tested
            else bool(np.isclose(means[best], means[i], rtol=1e-12, atol=1e-12))
        )
        for i in range(len(groups))
    ]


def run_status_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Runs per (setting, method, domain) by outcome; a run failed if any of its rows did."""
    keys = ["setting", "method", "domain", "seed"]
    flags = df.assign(failed=df["status"] == "failed", timeout=df["status"] == "timeout")
    runs = flags.groupby(keys)[["failed", "timeout"]].any()
    runs["failed"] &= ~runs["timeout"]
    return runs.groupby(level=[0, 1, 2]).sum().astype(int)


def summarize(df: pd.DataFrame, table_id: str, spec: dict[str, Any]) -> Summary:
    """Cell statistics of table ``table_id`` from a checked long metrics frame."""
    table = spec["tables"][table_id]
    metrics = list(table["metrics"])
    sub = df[df["setting"].isin(table["settings"])]
    if table["methods"] is not None:
        sub = sub[sub["method"].isin(table["methods"])]
    domains = (
        list(table["domains"]) if table["domains"] is not None else sorted(sub["domain"].unique())
    )
    sub = sub[sub["domain"].isin(domains)]
    if sub.empty:
        raise ValueError(
            f"table '{table_id}': no metric rows for domains {domains}, settings "
            f"{table['settings']}; check the table's selection against results/metrics/all.csv"
        )
    counts = run_status_counts(sub)
    rows = [
        (setting, method)
        for setting in table["settings"]
        for method in method_order(
            list(sub.loc[sub["setting"] == setting, "method"].unique()), spec
        )
    ]
    ok = sub[(sub["status"] == "ok") & np.isfinite(sub["value"])]
    undefined = sub[(sub["status"] == "ok") & ~np.isfinite(sub["value"])]
    n_undefined = undefined.groupby(["setting", "method", "domain", "metric"]).size().to_dict()
    not_applicable = sub[sub["status"] == NOT_APPLICABLE]
    n_not_applicable = (
        not_applicable.groupby(["setting", "method", "domain", "metric"]).size().to_dict()
    )
    values = {
        key: g["value"].to_numpy(float)
        for key, g in ok.groupby(["setting", "method", "domain", "metric"])
    }
    records = []
    for domain in domains:
        for metric in metrics:
            for setting in table["settings"]:
                group = [r for r in rows if r[0] == setting]
                vals = [values.get((s, m, domain, metric), np.empty(0)) for s, m in group]
                # a method without this metric (e.g. rowcol of a hard graph) is no competitor
                contenders = [
                    k
                    for k, (s, m) in enumerate(group)
                    if vals[k].size or not n_not_applicable.get((s, m, domain, metric), 0)
                ]
                flags = dict.fromkeys(range(len(group)), False)
                contested = bold_flags(
                    [vals[k] for k in contenders],
                    higher_is_better=spec["metrics"][metric]["higher_is_better"],
                    alpha=spec["alpha"],
                    log_scale=spec["metrics"][metric]["test_scale"] == "log",
                )
                flags.update(zip(contenders, contested))
                for (s, m), v, bold in zip(group, vals, flags.values()):
                    c = counts.loc[(s, m, domain)] if (s, m, domain) in counts.index else {}
                    records.append(
                        (
                            s,
                            m,
                            domain,
                            metric,
                            v.mean() if v.size else math.nan,
                            spread(v, spec["dispersion"]),
                            int(v.size),
                            int(c.get("failed", 0)),
                            int(c.get("timeout", 0)),
                            int(n_undefined.get((s, m, domain, metric), 0)),
                            int(n_not_applicable.get((s, m, domain, metric), 0)),
                            bold,
                        )
                    )
    cells = pd.DataFrame.from_records(records, columns=list(SUMMARY_COLUMNS))
    n_datasets = sorted(sub.groupby("domain")["seed"].nunique().unique().tolist())
    return Summary(table_id, cells, domains, metrics, rows, [int(n) for n in n_datasets])


def format_number(x: float, metric_spec: dict[str, Any]) -> str:
    """Fixed decimals, or significant digits (for seconds) without scientific notation."""
    if not np.isfinite(x):
        return "nan"
    if "significant" in metric_spec:
        digits = metric_spec["significant"]
        return f"{float(f'{x:.{digits}g}'):g}"
    return f"{x:.{metric_spec['decimals']}f}"


def cell_parts(cell: pd.Series, metric_spec: dict[str, Any]) -> tuple[str, str, str]:
    """(mean text, spread text or '', footnote marks) of one cell; placeholders when empty."""
    marks = (
        (FAILED_MARK if cell["n_failed"] else "")
        + (TIMEOUT_MARK if cell["n_timeout"] else "")
        + (UNDEFINED_MARK if cell["n_undefined"] else "")
    )
    if cell["n"] == 0:
        # a metric the method's finished runs do not have (e.g. a hard graph's calibration)
        if cell["n_not_applicable"] or cell["n_failed"] + cell["n_timeout"] == 0:
            return NOT_APPLICABLE, "", marks
        return (ALL_FAILED if cell["n_failed"] else ALL_TIMED_OUT), "", marks
    sd = format_number(cell["spread"], metric_spec) if np.isfinite(cell["spread"]) else ""
    return format_number(cell["mean"], metric_spec), sd, marks


def caption(summary: Summary, spec: dict[str, Any]) -> str:
    """Caption stating N, the dispersion and the bold rule."""
    table = spec["tables"][summary.table_id]
    lo, hi = summary.n_datasets[0], summary.n_datasets[-1]
    n = str(lo) if lo == hi else f"{lo}-{hi}"
    what = "standard error" if spec["dispersion"] == "sem" else "standard deviation"
    if lo >= MIN_TEST_N:
        logged = [
            spec["metrics"][m].get("label", m)
            for m in table["metrics"]
            if spec["metrics"][m]["test_scale"] == "log"
        ]
        on_logs = f"; on the logarithms for {', '.join(logged)}" if logged else ""
        rule = (
            "Bold: best mean per column within each setting group, and every method not "
            f"significantly different from it (Welch two-sided t-test, p \u2265 {spec['alpha']:g}"
            f"{on_logs})"
        )
    else:
        rule = (
            "Bold: best mean per column within each setting group; with fewer than "
            f"{MIN_TEST_N} datasets per cell no significance test is made"
        )
    text = (
        f"Mean \u00b1 {what} over N = {n} test datasets per domain. {rule}; a group of one "
        "method (or a metric only one method has) has no bold."
    )
    return f"{table['caption'].strip()} {text}".strip()


def footnote(summary: Summary, spec: dict[str, Any]) -> str:
    """Failure/timeout counts per method, domain and setting, and runs whose metric was
    undefined (NaN, e.g. SID of a cyclic graph); empty when there are none."""
    runs = summary.cells.drop_duplicates(["setting", "method", "domain"])
    notes = []
    for column, mark, what in (
        ("n_failed", FAILED_MARK, "failed"),
        ("n_timeout", TIMEOUT_MARK, "timed out"),
    ):
        bad = runs[runs[column] > 0]
        if not bad.empty:
            parts = [
                f"{method_label(r.method, spec)} on {r.domain} ({r.setting}): {getattr(r, column)}"
                for r in bad.itertuples()
            ]
            notes.append(
                f"{mark} Runs that {what}, excluded from the mean: " + "; ".join(parts) + "."
            )
    undefined = summary.cells[summary.cells["n_undefined"] > 0]
    if not undefined.empty:
        parts = [
            f"{method_label(r.method, spec)} {spec['metrics'][r.metric].get('label', r.metric)} "
            f"on {r.domain} ({r.setting}): {r.n_undefined}"
            for r in undefined.itertuples()
        ]
        notes.append(f"{UNDEFINED_MARK} Runs whose metric is undefined: " + "; ".join(parts) + ".")
    return " ".join(notes)


def _lookup(summary: Summary) -> dict[tuple[str, str, str, str], pd.Series]:
    return {
        (r["setting"], r["method"], r["domain"], r["metric"]): r
        for _, r in summary.cells.iterrows()
    }


def to_markdown(summary: Summary, spec: dict[str, Any]) -> str:
    """GitHub Markdown: caption, pipe table with **bold** cells, footnote."""
    cells = _lookup(summary)
    header = ["setting", "method"] + [
        f"{d} {spec['metrics'][m].get('label', m)}"
        for d in summary.domains
        for m in summary.metrics
    ]
    body = []
    for setting, method in summary.rows:
        row = [SETTING_NAMES[setting], method_label(method, spec)]
        for d in summary.domains:
            for m in summary.metrics:
                cell = cells[(setting, method, d, m)]
                mean, sd, marks = cell_parts(cell, spec["metrics"][m])
                text = f"{mean} \u00b1 {sd}" if sd else mean
                text = f"**{text}**" if cell["bold"] else text
                row.append(text + marks)
        body.append(row)
    table = pd.DataFrame(body, columns=header).to_markdown(index=False)
    note = footnote(summary, spec)
    return f"{caption(summary, spec)}\n\n{table}\n" + (f"\n{note}\n" if note else "")


HTML_STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 16px; color: #1a1a1a; }
table { border-collapse: collapse; }
p.caption { max-width: 60em; margin: 0 0 8px 0; }
th, td { padding: 3px 10px; text-align: right; white-space: nowrap; }
th { font-weight: 600; }
th.method, td.method { text-align: left; }
thead tr:first-child th[colspan] { text-align: center; }
thead tr:first-child th { border-top: 2px solid #333; }
thead tr:last-child th { border-bottom: 1px solid #333; }
tr.group th { text-align: left; font-style: italic; font-weight: normal; padding-top: 8px;
  border-bottom: 1px solid #bbb; }
tbody:last-of-type tr:last-child td { border-bottom: 2px solid #333; }
td.best { font-weight: 700; }
p.note { max-width: 60em; font-size: 12px; }
"""


def metric_heading(metric: str, spec: dict[str, Any]) -> str:
    """Display name with the direction that is better: ``AUROC ↑``, ``SHD ↓``."""
    m = spec["metrics"][metric]
    return f"{m.get('label', metric)} {'↑' if m['higher_is_better'] else '↓'}"


def to_html(summary: Summary, spec: dict[str, Any]) -> str:
    """A standalone HTML page: the table with its caption, one body per setting, footnotes."""
    cells = _lookup(summary)
    esc = html.escape
    k = len(summary.metrics)
    head = [
        "<tr><th class=method rowspan=2>method</th>"
        + "".join(f"<th colspan={k}>{esc(d)}</th>" for d in summary.domains)
        + "</tr>",
        "<tr>"
        + "".join(
            f"<th>{esc(metric_heading(m, spec))}</th>"
            for _ in summary.domains
            for m in summary.metrics
        )
        + "</tr>",
    ]
    bodies = []
    for setting in dict.fromkeys(s for s, _ in summary.rows):
        lines = [
            f"<tr class=group><th colspan={1 + k * len(summary.domains)}>"
            f"{SETTING_NAMES[setting]}</th></tr>"
        ]
        for _, method in (r for r in summary.rows if r[0] == setting):
            row = [f"<td class=method>{esc(method_label(method, spec))}</td>"]
            for d in summary.domains:
                for m in summary.metrics:
                    cell = cells[(setting, method, d, m)]
                    mean, sd, marks = cell_parts(cell, spec["metrics"][m])
                    text = esc(f"{mean} ± {sd}" if sd else mean)
                    sup = f"<sup>{esc(marks)}</sup>" if marks else ""
                    css = " class=best" if cell["bold"] else ""
                    row.append(f"<td{css}>{text}{sup}</td>")
            lines.append("<tr>" + "".join(row) + "</tr>")
        bodies.append("<tbody>\n" + "\n".join(lines) + "\n</tbody>")
    note = footnote(summary, spec)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{esc(summary.table_id)}</title>",
            f"<style>{HTML_STYLE}</style></head><body>",
            # a paragraph, not <caption>: a caption wraps at the table's width
            f"<p class=caption><b>{esc(summary.table_id)}.</b> {esc(caption(summary, spec))}</p>",
            "<table>",
            "<thead>\n" + "\n".join(head) + "\n</thead>",
            *bodies,
            "</table>",
            f"<p class=note>{esc(note)}</p>" if note else "",
            "</body></html>",
            "",
        ]
    )


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in ids and labels."""
    table = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\^{}",
    }
    return "".join(table.get(ch, ch) for ch in text)


def _latex_text(text: str) -> str:
    return latex_escape(text).replace("\u00b1", r"$\pm$").replace("\u2265", r"$\geq$")


def _latex_marks(text: str) -> str:
    return (
        text.replace(FAILED_MARK, r"$^\dagger$")
        .replace(TIMEOUT_MARK, r"$^\S$")
        .replace(UNDEFINED_MARK, r"$^\ddagger$")
    )


def to_latex(summary: Summary, spec: dict[str, Any]) -> str:
    """A booktabs ``table`` with a two-level header (domain over metric), groups split by rules."""
    cells = _lookup(summary)
    k = len(summary.metrics)
    n_cols = 1 + k * len(summary.domains)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{_latex_text(caption(summary, spec))}}}",
        rf"\label{{tab:{summary.table_id}}}",
        r"\begin{tabular}{l" + "c" * (n_cols - 1) + "}",
        r"\toprule",
        " & ".join(
            [""] + [rf"\multicolumn{{{k}}}{{c}}{{{latex_escape(d)}}}" for d in summary.domains]
        )
        + r" \\",
        "".join(
            rf"\cmidrule(lr){{{2 + i * k}-{1 + (i + 1) * k}}}" for i in range(len(summary.domains))
        ),
        " & ".join(
            ["method"]
            + [
                latex_escape(spec["metrics"][m].get("label", m))
                for _ in summary.domains
                for m in summary.metrics
            ]
        )
        + r" \\",
    ]
    for setting in dict.fromkeys(s for s, _ in summary.rows):
        lines += [
            r"\midrule",
            rf"\multicolumn{{{n_cols}}}{{l}}{{\emph{{{SETTING_NAMES[setting]}}}}} \\",
        ]
        for _, method in (r for r in summary.rows if r[0] == setting):
            row = [latex_escape(method_label(method, spec))]
            for d in summary.domains:
                for m in summary.metrics:
                    cell = cells[(setting, method, d, m)]
                    mean, sd, marks = cell_parts(cell, spec["metrics"][m])
                    text = f"{mean} $\\pm$ {sd}" if sd else mean
                    text = rf"\textbf{{{text}}}" if cell["bold"] else text
                    row.append(text + _latex_marks(marks))
            lines.append(" & ".join(row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    note = footnote(summary, spec)
    if note:
        note = _latex_marks(_latex_text(note))
        lines.append(rf"\par\smallskip{{\footnotesize {note}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_csv_frame(summary: Summary, spec: dict[str, Any]) -> pd.DataFrame:
    """Numbers for re-plotting: one row per cell with numeric mean and spread."""
    out = summary.cells.rename(columns={"spread": spec["dispersion"]})
    return out.assign(table=summary.table_id)[["table", *list(out.columns)]]
