# Workflow-side Python: validate the config and every registry before any job starts, resolve the
# selection into ids, declare each path pattern once, and give rules their input functions,
# parameters and resources. Rules stay thin; the library does the work.

import hashlib
import json
import math
import os
import re
from pathlib import Path

import pandas as pd
from snakemake.utils import validate

from avici_core import plan
from avici_core.baselines.registry import load_methods
from avici_core.config import SHIPPED_MODELS, read_registry
from avici_core.data import load_registry
from avici_core.report.figures import figure_names
from avici_core.report.overview import selection_rst
from avici_core.report.tables import method_label
from avici_core.report.spec import load_tables_spec

validate(config, "../schemas/config.schema.yaml")

REGISTRIES = config["registries"]


DOMAIN_REGISTRY = load_registry(REGISTRIES["domains"])
# {vars, rows}: the small scale shrinks every domain
DOMAIN_SCALE = config["domain_scale"]
METHOD_REGISTRY = load_methods(REGISTRIES["methods"])
MODEL_REGISTRY = read_registry("models", REGISTRIES["models"])["models"]
TABLES_SPEC = load_tables_spec(REGISTRIES["tables"])


def registry_path(kind):
    """A registry's path for a rule's command, as a ``Path``: Snakemake records only plain values
    (str, numbers, containers) for its params trigger, so where a registry lives never reruns a
    job; what reruns is decided by the registry contents each rule gets as params (e.g. the
    domain's own entry), so an identical copy elsewhere reruns nothing."""
    return Path(REGISTRIES[kind])


TABLES_DIGEST = hashlib.sha256(
    json.dumps(TABLES_SPEC, sort_keys=True, default=str).encode()
).hexdigest()


def shipped_model(method):
    """The config file of the shipped model an AVICI method loads (package data: models/<name>/
    in a checkout, as avici_core.model.api finds it), or None."""
    spec = METHOD_REGISTRY[method]
    if spec.implementation != "avici" or not spec.hparams.get("shipped", False):
        return None
    return SHIPPED_MODELS / spec.hparams["model"] / "config.json"


def avici_model(method):
    """The model id a workflow-trained AVICI method evaluates, or None for every other method.

    A method with ``shipped: true`` loads a model committed under ``models/``: nothing to train.
    """
    spec = METHOD_REGISTRY[method]
    if spec.implementation != "avici" or spec.hparams.get("shipped", False):
        return None
    return spec.hparams.get("model")


# AVICI methods and those registered with `jobs: per_group` run per (domain, setting, method)
# group, one process start-up (and model load and compile) for every seed (run_method_group);
# every other method runs per dataset (run_method).
GROUPED_METHODS = {m for m, s in METHOD_REGISTRY.items() if s.grouped}
PER_DATASET_METHODS = set(METHOD_REGISTRY) - GROUPED_METHODS

TRAINING_DOMAINS = {d for m in MODEL_REGISTRY.values() for d in m["train_domains"]}
EVAL_DOMAINS = set(DOMAIN_REGISTRY) - TRAINING_DOMAINS
DEFAULT_METHODS = {m for m, s in METHOD_REGISTRY.items() if s.default}


# With `experiments`, the runs are their union (each with its own seeds, settings and stream);
# without, the flat keys are the one selection (avici_core.plan).
EXPERIMENTS = plan.experiments(config, DOMAIN_REGISTRY, METHOD_REGISTRY, EVAL_DOMAINS)
METHODS = sorted({m for e in EXPERIMENTS.values() for m in e["methods"]})

for _model, _spec in MODEL_REGISTRY.items():
    _unknown = sorted(set(_spec["train_domains"]) - set(DOMAIN_REGISTRY))
    if _unknown:
        raise ValueError(
            f"{REGISTRIES['models']}: model '{_model}' trains on unknown domain(s) {_unknown}"
        )
for _method in METHODS:
    if shipped_model(_method) is not None and not shipped_model(_method).exists():
        raise ValueError(
            f"{REGISTRIES['methods']}: method '{_method}' loads the shipped model "
            f"'{METHOD_REGISTRY[_method].hparams['model']}', but {shipped_model(_method)} does not "
            "exist (export one with `python -m avici_core export-model <id>`)"
        )
    if avici_model(_method) is not None and avici_model(_method) not in MODEL_REGISTRY:
        raise ValueError(
            f"{REGISTRIES['methods']}: method '{_method}' uses model '{avici_model(_method)}', which "
            f"is not in {REGISTRIES['models']} (known models: {', '.join(sorted(MODEL_REGISTRY))})"
        )
MODELS = sorted(
    set(plan.select("models", config["models"], MODEL_REGISTRY, MODEL_REGISTRY))
    | {avici_model(m) for m in METHODS if avici_model(m) is not None}
)


PLANNED_SIZES = {
    d: plan.rows_used(
        DOMAIN_REGISTRY[d].scaled(DOMAIN_SCALE["vars"], DOMAIN_SCALE["rows"])
    )
    for d in sorted({d for e in EXPERIMENTS.values() for d in e["domains"]})
}
# The report's home page (workflow/report/workflow.rst) states the plan in words; its template
# sees only the config, so the text travels there.
config["report_overview"] = selection_rst(
    EXPERIMENTS,
    PLANNED_SIZES,
    {m: method_label(m, TABLES_SPEC) for m in METHODS},
    list(TABLES_SPEC["tables"]),
)


def one_of(ids):
    """A wildcard regex that matches exactly one of ``ids``."""
    return "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))


# -- path patterns (ids only; hyper-parameters travel as params) --------------------------------
DATASET = "results/data/{domain}/{seed}.npz"  # seed: 7 (test stream) or tune-7
MODEL_DIR = "results/models/{model}"
MODEL_DONE = "results/models/{model}/final.json"
PREDICTION = "results/predictions/{domain}/{setting}/{method}/{seed}.npz"
PREDICTION_GROUP = (
    "results/predictions/{domain}/{setting}/{method}"  # run_method_group's folder
)
SCORES = "results/metrics/{domain}/{setting}/{method}.csv"  # every seed of one (domain, setting, method)
ALL_METRICS = "results/metrics/all.csv"
TABLE = "results/tables/{table}.{ext}"
FIGURE = "results/figures/{figure}.{ext}"
DOWNLOAD_EXTS = ("md", "tex", "csv")  # the report shows the .html; these are downloads
TABLE_EXTS = ("html", *DOWNLOAD_EXTS)
FIGURE_EXTS = ("pdf", "png")
ENV = "../../environment.yaml"


def seed_index(wildcards):
    """The integer seed behind a {seed} wildcard (what the CLIs take)."""
    return int(wildcards.seed.rsplit("-", 1)[-1])


def seed_stream(wildcards):
    """The seed stream behind a {seed} wildcard."""
    return wildcards.seed.rsplit("-", 1)[0] if "-" in wildcards.seed else "test"


RUNS = plan.plan_runs(EXPERIMENTS, DOMAIN_REGISTRY, METHOD_REGISTRY)


def runs():
    """Every (domain, setting, method, seed) the selection asks for, in a stable order."""
    return RUNS


# (domain, setting, method) -> every seed the selection plans for it (the union over experiments,
# which may plan different seed counts for one domain), in seed order: one scoring job each.
SCORE_GROUPS = plan.score_groups(RUNS)


def score_files():
    return [SCORES.format(domain=d, setting=s, method=m) for d, s, m in SCORE_GROUPS]


def prediction_inputs():
    """What holds every planned prediction: a folder per grouped method's (domain, setting), a
    file per other run."""
    folders = {
        PREDICTION_GROUP.format(domain=d, setting=s, method=m)
        for d, s, m in SCORE_GROUPS
        if m in GROUPED_METHODS
    }
    files = [
        PREDICTION.format(**r) for r in runs() if r["method"] not in GROUPED_METHODS
    ]
    return sorted(folders) + files


def dataset_files():
    return sorted({DATASET.format(domain=r["domain"], seed=r["seed"]) for r in runs()})


def planned_figures():
    """The figures the selection supports (a sweep figure only where a family of domains has two
    sizes), from the registry's sizes at the configured scale: outputs are known before data.
    """
    sizes = pd.DataFrame(
        [(d, n_vars, n_obs) for d, (n_vars, n_obs, _) in PLANNED_SIZES.items()],
        columns=["domain", "n_vars", "n_rows"],
    )
    return figure_names(TABLES_SPEC, sizes)


FIGURE_NAMES = planned_figures()


def figure_caption(name):
    """Caption file of a figure: one per kind (every box plot shares one)."""
    return "../report/{}.rst".format("box" if name.startswith("box_") else name)


def table_files():
    return [
        TABLE.format(table=t, ext=e) for t in TABLES_SPEC["tables"] for e in TABLE_EXTS
    ]


def figure_files():
    if not config["figures"]:
        return []
    return [FIGURE.format(figure=f, ext=e) for f in FIGURE_NAMES for e in FIGURE_EXTS]


def all_targets():
    """The default target's inputs: tables, figures and every selected model."""
    return table_files() + figure_files() + [MODEL_DONE.format(model=m) for m in MODELS]


# -- per-rule inputs, params and resources --------------------------------------------------------
def domain_entry(wildcards):
    """The domain's registry entry at the configured scale as JSON, so editing one domain (or the
    scale) reruns only its datasets."""
    spec = DOMAIN_REGISTRY[wildcards.domain].scaled(
        DOMAIN_SCALE["vars"], DOMAIN_SCALE["rows"]
    )
    entry = {
        "n_vars": spec.n_vars,
        "n_obs": spec.n_obs,
        "n_int": spec.n_int,
        "tree": spec.tree,
    }
    if spec.loader:
        entry |= {"loader": spec.loader, "loader_args": spec.loader_args}
    return json.dumps(entry, sort_keys=True, default=str)


def model_input(method):
    """What an AVICI method's predictions depend on: its trained model, or the shipped model's
    config (a re-export reruns its predictions)."""
    if shipped_model(method) is not None:
        return str(shipped_model(method))
    return MODEL_DONE.format(model=avici_model(method))


def method_entry(wildcards):
    """Implementation and hyper-parameters as JSON: a change reruns this method only."""
    spec = METHOD_REGISTRY[wildcards.method]
    return json.dumps(
        {"implementation": spec.implementation, "hparams": spec.hparams}, sort_keys=True
    )


def method_resource(name):
    """A resource of the method (threads, mem_mb, runtime, gpu) from the method registry."""

    def get(wildcards):
        return int(getattr(METHOD_REGISTRY[wildcards.method].resources, name))

    return get


def group_seeds(wildcards):
    return SCORE_GROUPS[(wildcards.domain, wildcards.setting, wildcards.method)]


def group_predictions(wildcards):
    """The prediction file of every seed of one (domain, setting, method), in seed order."""
    ids = dict(
        domain=wildcards.domain, setting=wildcards.setting, method=wildcards.method
    )
    return [PREDICTION.format(**ids, seed=s) for s in group_seeds(wildcards)]


def group_datasets(wildcards):
    return [
        DATASET.format(domain=wildcards.domain, seed=s) for s in group_seeds(wildcards)
    ]


def score_inputs(wildcards):
    """The predictions of every seed of one (domain, setting, method) (a grouped method's
    folder), and their datasets."""
    if wildcards.method in GROUPED_METHODS:
        predictions = [PREDICTION_GROUP.format(**wildcards)]
    else:
        predictions = group_predictions(wildcards)
    return {"predictions": predictions, "data": group_datasets(wildcards)}


def group_inputs(wildcards):
    """Every dataset of the group, plus, for AVICI, the trained (or shipped) model and only that
    model."""
    inputs = {"data": group_datasets(wildcards)}
    if METHOD_REGISTRY[wildcards.method].implementation == "avici":
        inputs["model"] = model_input(wildcards.method)
    return inputs


def group_runtime(wildcards):
    """Minutes for a group: the method's limit for start-up and the first dataset, plus for each
    further dataset one minute (AVICI: inference takes seconds) or its timeout (any other method:
    every dataset may use all of it)."""
    spec = METHOD_REGISTRY[wildcards.method]
    per_dataset = (
        1 if spec.implementation == "avici" else math.ceil(spec.timeout_s / 60)
    )
    further = len(group_seeds(wildcards)) - 1
    return method_resource("runtime")(wildcards) + per_dataset * further


def score_seeds(wildcards):
    """The integer seeds of the group, in the order of its inputs (what `score` takes)."""
    return " ".join(str(plan.seed_order(s)[1]) for s in group_seeds(wildcards))


def model_entry(wildcards):
    spec = MODEL_REGISTRY[wildcards.model]
    return json.dumps(
        {
            "train_domains": spec["train_domains"],
            "seed": spec["seed"],
            "hparams": spec["hparams"],
        },
        sort_keys=True,
    )


def model_resource(name):
    """A training resource from config/models.yaml; GPU-only keys are 0 on CPU models."""

    def get(wildcards):
        res = MODEL_REGISTRY[wildcards.model]["resources"]
        if name == "cpus_per_gpu" and res["gpu"] == 0:
            return 0
        return res[name]

    return get


def model_threads(wildcards):
    res = MODEL_REGISTRY[wildcards.model]["resources"]
    return res["threads"] if res["gpu"] == 0 else res["gpu"] * res["cpus_per_gpu"]


def input_root(key, depth):
    """Root folder of the files in input ``key``: the first file's ancestor ``depth`` levels up."""

    def get(wildcards, input):
        return str(Path(input[key][0]).parents[depth - 1])

    return get


def prediction_root(wildcards, input):
    """Root of the prediction layout, from the first prediction input (an AVICI group's folder is
    one level above its files)."""
    first = Path(input.predictions[0])
    return str(first.parents[3] if first.suffix == ".npz" else first.parents[2])


def output_dir(wildcards, output):
    """Folder of the rule's first output (tables and figures are written per folder)."""
    return os.path.dirname(output[0])
