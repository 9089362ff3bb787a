# Training writes checkpoints into the model folder as it goes and final.json last; a resubmitted
# job (after a kill or a SLURM time limit) resumes from its newest checkpoint, because only the
# final marker is a declared (and thus deleted-when-incomplete) output.
rule train_model:
    output:
        protected(MODEL_DONE),
    log:
        "logs/train_model/{model}.log",
    benchmark:
        "results/benchmarks/train_model/{model}.tsv"
    priority: 10  # start early: every AVICI prediction waits for it
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_resource("gpu"),
        cpus_per_gpu=model_resource("cpus_per_gpu"),
        mem_mb=model_resource("mem_mb"),
        runtime=model_resource("runtime"),
    params:
        registry=registry_path("models"),
        out=MODEL_DIR,
        model=model_entry,
    shell:
        "python -m avici_core train --config {params.registry} --model {wildcards.model}"
        " --out {params.out} > {log} 2>&1"
