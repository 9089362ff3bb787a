# One scoring job per (domain, setting, method): every planned seed in one process, one CSV.
# A failed or unreadable prediction becomes rows with a status, never a failed job.
rule score_predictions:
    input:
        unpack(score_inputs),
    output:
        SCORES,
    log:
        "logs/score_predictions/{domain}/{setting}/{method}.log",
    benchmark:
        "results/benchmarks/score_predictions/{domain}/{setting}/{method}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,  # ~0.1 s per prediction after ~10 s of start-up
    params:
        seeds=score_seeds,
        predictions=group_predictions,
    shell:
        "python -m avici_core score --domain {wildcards.domain} --setting {wildcards.setting}"
        " --method {wildcards.method} --prediction {params.predictions} --data {input.data}"
        " --seed {params.seeds} --out {output} > {log} 2>&1"


rule aggregate_metrics:
    input:
        score_files(),
    output:
        ALL_METRICS,
    log:
        "logs/aggregate_metrics/all.log",
    benchmark:
        "results/benchmarks/aggregate_metrics/all.tsv"
    conda:
        ENV
    shell:
        "python -m avici_core aggregate --out {output} {input} > {log} 2>&1"
