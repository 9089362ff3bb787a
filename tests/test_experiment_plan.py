"""avici_core.plan: a selection resolved against the registries into runs (no Snakemake)."""

from __future__ import annotations

import pytest

from avici_core import plan
from avici_core.baselines.registry import load_methods
from avici_core.data import load_registry

DOMAINS = load_registry()
METHODS = load_methods()
FLAT = {"settings": ["obs", "int"], "stream": "test", "n_seeds": 2}


def test_flat_selection_is_one_experiment_and_runs_respect_settings():
    config = {**FLAT, "domains": ["lin-gauss", "sachs"], "methods": ["pc", "gies"]}
    exps = plan.experiments(config, DOMAINS, METHODS, eval_domains=DOMAINS)
    assert list(exps) == ["default"] and exps["default"]["seeds"] == [0, 1]
    runs = plan.plan_runs(exps, DOMAINS, METHODS)
    have = {(r["domain"], r["setting"], r["method"]) for r in runs}
    assert ("lin-gauss", "obs", "pc") in have and ("lin-gauss", "int", "gies") in have
    assert ("lin-gauss", "int", "pc") not in have  # PC is observational only
    assert DOMAINS["sachs"].n_int == 0 and ("sachs", "int", "gies") not in have
    assert len(runs) == len({tuple(r.values()) for r in runs}) == 2 * len(have)


def test_unknown_ids_name_the_key_and_max_seeds_caps():
    config = {**FLAT, "domains": ["lin-gaus"], "methods": ["pc"]}
    with pytest.raises(ValueError, match="'domains': unknown id.*lin-gaus"):
        plan.experiments(config, DOMAINS, METHODS, eval_domains=DOMAINS)
    capped = {**FLAT, "domains": ["lin-gauss"], "methods": ["pc"], "max_seeds": 1}
    assert plan.experiments(capped, DOMAINS, METHODS, DOMAINS)["default"]["seeds"] == [0]


def test_one_run_on_two_streams_is_refused_and_groups_sort_seeds():
    exps = {
        "test": {
            "domains": ["lin-gauss"],
            "methods": ["pc"],
            "settings": ["obs"],
            "seeds": [0, 10, 2],
            "stream": "test",
        },
        "tune": {
            "domains": ["lin-gauss"],
            "methods": ["pc"],
            "settings": ["obs"],
            "seeds": [2],
            "stream": "tune",
        },
    }
    with pytest.raises(ValueError, match="two seed streams"):
        plan.plan_runs(exps, DOMAINS, METHODS)
    runs = plan.plan_runs({"test": exps["test"]}, DOMAINS, METHODS)
    assert plan.score_groups(runs) == {("lin-gauss", "obs", "pc"): ["0", "2", "10"]}
    assert plan.seed_id("tune", 3) == "tune-3" and plan.seed_order("tune-3") == ("tune", 3)
