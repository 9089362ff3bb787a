# One generic rule for every method (AVICI included): the registry says what runs, and a failure
# or timeout inside the method becomes a prediction file with that status, not a failed job.
rule run_method:
    input:
        unpack(method_inputs),
    output:
        PREDICTION,
    log:
        "logs/run_method/{domain}/{setting}/{method}/{seed}.log",
    params:
        registry=REGISTRIES["methods"],
        method=method_entry,
        seed=seed_index,
    threads: method_resource("threads")
    resources:
        mem_mb=method_resource("mem_mb"),
        runtime=method_resource("runtime"),
        gpu=method_resource("gpu"),
    conda:
        ENV
    benchmark:
        "results/benchmarks/run_method/{domain}/{setting}/{method}/{seed}.tsv"
    shell:
        "python -m avici_core run-method --method {wildcards.method} --registry {params.registry}"
        " --data {input.data} --setting {wildcards.setting} --seed {params.seed}"
        " --threads {threads} --out {output} > {log} 2>&1"
