# Causal generative models of images (issue #8): data -> oracles -> image models -> graphs ->
# evaluation -> tables and figures. Self-contained: loads and validates config/cgm.yaml (or
# `--config cgm_config=FILE`) and defines the target rule `cgm_all`. Every rule runs one
# `python -m avici_core cgm <step>` command, so each step also runs by hand.


include: "cgm_common.smk"


wildcard_constraints:
    cgm_dataset="|".join(CGM["main"]["datasets"] + CGM["bridge"]["datasets"]),
    cgm_model="|".join(CGM["models"]),
    cgm_row="|".join(CGM["rows"]),
    cgm_graph="|".join(CGM["graphs"]),
    which="A|B",


rule cgm_all:
    input:
        expand("results/tables/cgm_main.{ext}", ext=["md", "tex", "csv"]),
        expand(
            "results/figures/cgm_grid_{cgm_dataset}.png",
            cgm_dataset=CGM["main"]["datasets"],
        ),
        expand("results/tables/cgm_bridge.{ext}", ext=["md", "tex", "csv"])
        if CGM["bridge"]["datasets"]
        else [],
        "results/figures/cgm_bridge.png" if CGM["bridge"]["datasets"] else [],


rule cgm_data:
    output:
        CGM_DATA,
    log:
        "logs/cgm_data/{cgm_dataset}/{seed}.log",
    benchmark:
        "results/benchmarks/cgm_data/{cgm_dataset}/{seed}.tsv"
    conda:
        "../../environment.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        d={"size": 32, **CGM["data"]},
    shell:
        "python -m avici_core cgm data --dataset {wildcards.cgm_dataset} --seed {wildcards.seed}"
        " --size {params.d[size]} --n-train {params.d[n_train]} --n-test {params.d[n_test]}"
        " --n-simint {params.d[n_simint]} --out {output} > {log} 2>&1"


rule cgm_oracle:
    input:
        CGM_DATA,
    output:
        CGM_ORACLE,
    log:
        "logs/cgm_oracle/{cgm_dataset}/{seed}/{which}.log",
    benchmark:
        "results/benchmarks/cgm_oracle/{cgm_dataset}/{seed}/{which}.tsv"
    conda:
        "../../environment.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        o=lambda wc: CGM["oracles"][wc.which],
    shell:
        "python -m avici_core cgm oracle --data {input} --which {wildcards.which}"
        " --seed {wildcards.seed} --width {params.o[width]} --steps {params.o[steps]}"
        " --out {output} > {log} 2>&1"


rule cgm_image_model:
    input:
        data=CGM_DATA,
        oracle_a=cgm_oracle_a,
    output:
        protected(CGM_MODEL),
    log:
        "logs/cgm_image_model/{cgm_dataset}/{seed}/{cgm_model}.log",
    benchmark:
        "results/benchmarks/cgm_image_model/{cgm_dataset}/{seed}/{cgm_model}.tsv"
    conda:
        "../../environment.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        config=lambda wc: json.dumps(CGM["models"][wc.cgm_model]),
        oracle=lambda wc, input: (
            f"--oracle-a {input.oracle_a}" if input.oracle_a else ""
        ),
        mech_steps=CGM["eval"]["mech_steps"],
    shell:
        "python -m avici_core cgm train --data {input.data} --config '{params.config}'"
        " --seed {wildcards.seed} {params.oracle} --mech-steps {params.mech_steps}"
        " --out {output} > {log} 2>&1"


rule cgm_graph:
    input:
        CGM_DATA,
    output:
        CGM_GRAPH,
    log:
        "logs/cgm_graph/{cgm_dataset}/{seed}/{cgm_graph}.log",
    benchmark:
        "results/benchmarks/cgm_graph/{cgm_dataset}/{seed}/{cgm_graph}.tsv"
    conda:
        "../../environment.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        g=lambda wc: CGM["graphs"][wc.cgm_graph],
        hparams=lambda wc: json.dumps(CGM["graphs"][wc.cgm_graph]["hparams"]),
        n_rows=CGM["bridge"]["n_rows"],
    shell:
        "python -m avici_core cgm graph --data {input} --source {params.g[impl]}"
        " --label {wildcards.cgm_graph} --seed {wildcards.seed} --n-rows {params.n_rows}"
        " --hparams '{params.hparams}' --timeout {params.g[timeout_s]} --out {output} > {log} 2>&1"


rule cgm_eval:
    input:
        unpack(cgm_row_inputs),
        data=CGM_DATA,
        graph=CGM_GRAPH,
        oracle_b=CGM_ORACLE.replace("{which}", "B"),
    output:
        metrics=CGM_METRICS,
        examples=CGM_EXAMPLES,
    log:
        "logs/cgm_eval/{cgm_dataset}/{cgm_row}/{cgm_graph}/{seed}.log",
    benchmark:
        "results/benchmarks/cgm_eval/{cgm_dataset}/{cgm_row}/{cgm_graph}/{seed}.tsv"
    conda:
        "../../environment.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        row=cgm_row_args,
        e={"n_eval": 2000, "mech_steps": 600, **CGM["eval"]},
    shell:
        "python -m avici_core cgm eval --data {input.data} --graph {input.graph}"
        " --oracle-b {input.oracle_b} {params.row} --name {wildcards.cgm_row}"
        " --seed {wildcards.seed} --n-eval {params.e[n_eval]} --mech-steps {params.e[mech_steps]}"
        " --out {output.metrics} --examples {output.examples} > {log} 2>&1"


rule cgm_table:
    input:
        lambda wc: cgm_metric_files(wc.part),
    output:
        md=report(
            "results/tables/cgm_{part}.md",
            caption="../report/cgm_table.rst",
            category="CGM",
        ),
        tex="results/tables/cgm_{part}.tex",
        csv="results/tables/cgm_{part}.csv",
    log:
        "logs/cgm_table/{part}.log",
    wildcard_constraints:
        part="main|bridge",
    conda:
        "../../environment.yaml"
    params:
        # quoted: columns may be patterns (random/acc_*) that the shell must not expand
        columns=lambda wc: " ".join(shlex.quote(c) for c in CGM[wc.part]["columns"]),
    shell:
        "python -m avici_core cgm table --inputs {input} --columns {params.columns}"
        " --out-prefix results/tables/cgm_{wildcards.part} > {log} 2>&1"


rule cgm_figure:
    input:
        lambda wc: expand(
            CGM_EXAMPLES,
            cgm_dataset=wc.cgm_dataset,
            cgm_row=CGM["main"]["rows"],
            cgm_graph="true",
            seed=CGM["main"]["seeds"][0],
        ),
    output:
        report(
            "results/figures/cgm_grid_{cgm_dataset}.png",
            caption="../report/cgm_grid.rst",
            category="CGM",
        ),
    log:
        "logs/cgm_figure/{cgm_dataset}.log",
    conda:
        "../../environment.yaml"
    shell:
        "python -m avici_core cgm figure --examples {input} --out {output} > {log} 2>&1"


rule cgm_bridge_figure:
    input:
        cgm_metric_files("bridge"),
    output:
        report(
            "results/figures/cgm_bridge.png",
            caption="../report/cgm_bridge.rst",
            category="CGM",
        ),
    log:
        "logs/cgm_bridge_figure/all.log",
    conda:
        "../../environment.yaml"
    shell:
        "python -m avici_core cgm bridge-figure --inputs {input} --out {output} > {log} 2>&1"


localrules:
    cgm_all,
    cgm_table,
    cgm_figure,
    cgm_bridge_figure,
