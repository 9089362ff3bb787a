rule simulate_dataset:
    output:
        DATASET,
    log:
        "logs/simulate_dataset/{domain}/{seed}.log",
    benchmark:
        "results/benchmarks/simulate_dataset/{domain}/{seed}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        registry=registry_path("domains"),
        stream=seed_stream,
        seed=seed_index,
        domain=domain_entry,
        vars_factor=DOMAIN_SCALE["vars"],
        rows_factor=DOMAIN_SCALE["rows"],
    shell:
        "python -m avici_core generate --domain {wildcards.domain} --seed {params.seed}"
        " --stream {params.stream} --registry {params.registry} --vars-factor {params.vars_factor}"
        " --rows-factor {params.rows_factor} --out {output} > {log} 2>&1"
