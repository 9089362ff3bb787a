# Workflow-side Python of the image track (kept apart from the rules, as `snakemake --lint` asks).

import json
import shlex

from avici_core.config import read_registry

# Checked against avici_core/schemas/cgm.schema.yaml with its defaults filled (the only ones).
# The main config's schema fills cgm_config; without it (the track's own Snakefile in the
# tests) the track reads config/cgm.yaml.
CGM = read_registry("cgm", config.get("cgm_config", "config/cgm.yaml"))

CGM_DATA = "results/cgm/data/{cgm_dataset}/{seed}.npz"
CGM_ORACLE = "results/cgm/models/{cgm_dataset}/{seed}/oracle_{which}.npz"
CGM_MODEL = "results/cgm/models/{cgm_dataset}/{seed}/{cgm_model}.npz"
CGM_GRAPH = "results/cgm/graphs/{cgm_dataset}/{seed}/{cgm_graph}.npz"
CGM_METRICS = "results/cgm/metrics/{cgm_dataset}/{cgm_row}/{cgm_graph}/{seed}.json"
CGM_EXAMPLES = "results/cgm/examples/{cgm_dataset}/{cgm_row}/{cgm_graph}/{seed}.npz"


def cgm_check_ids():
    """Fail at parse time on rows, models or graphs that the registries do not define."""
    for part in ("main", "bridge"):
        for row in CGM[part]["rows"]:
            if row not in CGM["rows"]:
                raise ValueError(
                    f"cgm {part}.rows: unknown row {row!r}; known: {sorted(CGM['rows'])}"
                )
    for row, spec in CGM["rows"].items():
        if (
            spec["kind"] in ("model", "prior_z")
            and spec.get("model") not in CGM["models"]
        ):
            raise ValueError(
                f"cgm row {row!r} needs a known 'model'; known: {sorted(CGM['models'])}"
            )
    for g in CGM["bridge"]["graphs"]:
        if g not in CGM["graphs"]:
            raise ValueError(
                f"cgm bridge.graphs: unknown graph {g!r}; known: {sorted(CGM['graphs'])}"
            )


cgm_check_ids()


def cgm_metric_files(part):
    spec = CGM[part]
    graphs = spec["graphs"] if part == "bridge" else ["true"]
    return expand(
        CGM_METRICS,
        cgm_dataset=spec["datasets"],
        cgm_row=spec["rows"],
        cgm_graph=graphs,
        seed=spec["seeds"],
    )


def cgm_row_inputs(wildcards):
    """Checkpoint of the row's image model, if it has one."""
    spec = CGM["rows"][wildcards.cgm_row]
    if spec["kind"] in ("model", "prior_z"):
        return {"checkpoint": CGM_MODEL.format(cgm_model=spec["model"], **wildcards)}
    return {}


def cgm_row_args(wildcards):
    spec = CGM["rows"][wildcards.cgm_row]
    args = f"--kind {spec['kind']}"
    if spec["kind"] in ("model", "prior_z"):
        args = f"{args} --checkpoint {CGM_MODEL.format(cgm_model=spec['model'], **wildcards)}"
    return args + (" --true-parents" if spec["true_parents"] else "")


def cgm_oracle_a(wildcards):
    """Oracle A only for models with counterfactual training."""
    if CGM["models"][wildcards.cgm_model].get("cf_steps", 0) > 0:
        return CGM_ORACLE.format(which="A", **wildcards)
    return []
