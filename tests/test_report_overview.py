"""The report's home page text: what ran, in words."""

from __future__ import annotations

from avici_core.report.overview import rows_text, selection_rst


def test_rows_text_mentions_interventional_rows_only_where_a_setting_uses_them():
    assert rows_text(20, 1000, 500) == (
        "d = 20, n = 1000 rows (500 of them interventional in the interventional setting)"
    )
    assert rows_text(20, 1000, 500, interventional=False) == "d = 20, n = 1000 rows"
    assert rows_text(0, 0, 0) == "real data, size as loaded"


def test_selection_names_each_experiment_with_its_seeds_domains_and_methods():
    experiments = {
        "d20-obs": {
            "domains": ["lin-gauss"],
            "methods": ["pc", "avici-small-v2"],
            "settings": ["obs"],
            "seeds": [0, 1, 2],
            "stream": "test",
        },
        "sachs": {
            "domains": ["sachs"],
            "methods": ["pc"],
            "settings": ["obs"],
            "seeds": [0],
            "stream": "test",
        },
    }
    sizes = {"lin-gauss": (20, 1000, 500), "sachs": (0, 0, 0)}
    text = selection_rst(experiments, sizes, {"avici-small-v2": "AVICI (small-v2)"}, ["t1", "t2"])
    assert (
        "**Experiment d20-obs.** 3 datasets per domain and setting (seeds 0–2 of the test" in text
    )
    assert "- ``lin-gauss`` (d = 20, n = 1000 rows)\n" in text  # observational only
    assert "Methods: pc and AVICI (small-v2)." in text
    assert "**Experiment sachs.** 1 dataset per domain and setting (seed 0 of the test" in text
    assert "- ``sachs`` (real data, size as loaded)" in text
    assert "Tables: `t1.html`_, `t2.html`_." in text
