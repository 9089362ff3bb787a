# One generic rule for every method run per dataset: the registry says what runs, and a failure or
# timeout inside the method becomes a prediction file with that status, not a failed job.
rule run_method:
    input:
        data=DATASET,
    output:
        PREDICTION,
    log:
        "logs/run_method/{domain}/{setting}/{method}/{seed}.log",
    benchmark:
        "results/benchmarks/run_method/{domain}/{setting}/{method}/{seed}.tsv"
    wildcard_constraints:
        method=one_of(PER_DATASET_METHODS),
    conda:
        ENV
    threads: method_resource("threads")
    resources:
        mem_mb=method_resource("mem_mb"),
        runtime=method_resource("runtime"),
        gpu=method_resource("gpu"),
    params:
        registry=registry_path("methods"),
        method=method_entry,
        seed=seed_index,
    shell:
        "python -m avici_core run-method --method {wildcards.method} --registry {params.registry}"
        " --data {input.data} --setting {wildcards.setting} --seed {params.seed}"
        " --threads {threads} --out {output} > {log} 2>&1"


# AVICI and the methods registered `jobs: per_group`: one job per (domain, setting, method) writes
# every seed's prediction into the group's folder; the process starts (and a model loads and
# compiles) once. Same files, same failure contract and per-dataset timeout as run_method;
# planning another seed reruns the group.
rule run_method_group:
    input:
        unpack(group_inputs),
    output:
        directory(PREDICTION_GROUP),
    log:
        "logs/run_method_group/{domain}/{setting}/{method}.log",
    benchmark:
        "results/benchmarks/run_method_group/{domain}/{setting}/{method}.tsv"
    wildcard_constraints:
        method=one_of(GROUPED_METHODS),
    conda:
        ENV
    threads: method_resource("threads")
    resources:
        mem_mb=method_resource("mem_mb"),
        runtime=group_runtime,
        gpu=method_resource("gpu"),
    params:
        registry=registry_path("methods"),
        method=method_entry,
        seeds=score_seeds,
        out=group_predictions,
        models_dir=Path(os.path.dirname(MODEL_DIR)),
    shell:
        "python -m avici_core run-method --method {wildcards.method} --registry {params.registry}"
        " --data {input.data} --setting {wildcards.setting} --seed {params.seeds}"
        " --threads {threads} --models-dir {params.models_dir} --out {params.out} > {log} 2>&1"
