# AVICI benchmark: simulate -> train -> run methods -> score -> aggregate -> tables and figures.
# Entry point for `snakemake --profile local` and `snakemake --profile slurm`. `rule all` must live
# here: a default target defined in an included file is discarded by Snakemake.
from snakemake.utils import min_version

min_version("9.19")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/cgm.smk"  # image track: `snakemake cgm_all` (not part of `all`)


wildcard_constraints:
    domain=one_of(DOMAIN_REGISTRY),
    method=one_of(METHOD_REGISTRY),
    model=one_of(MODEL_REGISTRY),
    setting="obs|int",
    seed=r"(?:tune-)?\d+",  # test stream: 7; tuning stream: tune-7


localrules:
    all,
    aggregate_metrics,
    make_table,
    make_figures,


rule all:
    default_target: True
    input:
        all_targets(),
