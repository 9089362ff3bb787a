"""The report's home page in words: what was run (domains with d and n, methods, settings, seeds)
and links to the tables, as reStructuredText for the Snakemake report's global description."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from avici_core.report.tables import SETTING_NAMES


def rows_text(n_vars: int, n_obs: int, n_int: int, *, interventional: bool = True) -> str:
    """``d = 20, n = 1000 rows (500 of them interventional in the interventional setting)``.

    ``n_obs``/``n_int`` are the rows a method sees (the first half of the generated ones); the
    interventional setting keeps the budget: ``n_obs - n_int`` observational rows + ``n_int``.
    Without that setting (``interventional=False``) the interventional rows are not mentioned.
    """
    if n_vars <= 0:
        return "real data, size as loaded"
    text = f"d = {n_vars}, n = {n_obs} rows"
    if n_int and interventional:
        text += f" ({min(n_int, n_obs)} of them interventional in the interventional setting)"
    return text


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def selection_rst(
    experiments: Mapping[str, Mapping[str, Any]],
    sizes: Mapping[str, tuple[int, int, int]],
    method_labels: Mapping[str, str],
    tables: Sequence[str],
) -> str:
    """One paragraph per experiment and a line of table links.

    Args:
      experiments: name -> {domains, methods, settings, seeds, stream} (the workflow's plan).
      sizes: domain -> (d, observational rows used, interventional rows used); d = 0 for real data.
      method_labels: method id -> display name.
      tables: table ids; each links to ``<id>.html`` in the report.
    """
    parts = []
    for name, exp in experiments.items():
        seeds = list(exp["seeds"])
        interventional = "int" in exp["settings"]
        domains = [
            f"``{d}`` ({rows_text(*sizes[d], interventional=interventional)})"
            for d in exp["domains"]
        ]
        methods = [method_labels.get(m, m) for m in exp["methods"]]
        settings = [SETTING_NAMES[s] for s in exp["settings"]]
        head = "" if name == "default" else f"**Experiment {name}.** "
        count = "1 dataset" if len(seeds) == 1 else f"{len(seeds)} datasets"
        span = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}–{seeds[-1]}"
        parts.append(
            f"{head}{count} per domain and setting ({span} of the {exp['stream']} stream), "
            f"{_join(settings)}.\n\n"
            + "\n".join(f"- {d}" for d in domains)
            + f"\n\nMethods: {_join(methods)}."
        )
    links = ", ".join(f"`{t}.html`_" for t in tables)
    parts.append(f"Tables: {links}. Figures are under *Figures* in the menu.")
    return "\n\n".join(parts) + "\n"
