rule score_prediction:
    input:
        prediction=PREDICTION,
        data=DATASET,
    output:
        SCORE,
    log:
        "logs/score_prediction/{domain}/{setting}/{method}/{seed}.log",
    params:
        seed=seed_index,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    benchmark:
        "results/benchmarks/score_prediction/{domain}/{setting}/{method}/{seed}.tsv"
    shell:
        "python -m avici_core score --prediction {input.prediction} --data {input.data}"
        " --domain {wildcards.domain} --setting {wildcards.setting} --method {wildcards.method}"
        " --seed {params.seed} --out {output} > {log} 2>&1"


rule aggregate_metrics:
    input:
        score_files(),
    output:
        ALL_METRICS,
    log:
        "logs/aggregate_metrics/all.log",
    conda:
        ENV
    benchmark:
        "results/benchmarks/aggregate_metrics/all.tsv"
    shell:
        "python -m avici_core aggregate --out {output} {input} > {log} 2>&1"
