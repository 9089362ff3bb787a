rule make_tables:
    input:
        metrics=ALL_METRICS,
    output:
        [
            report(
                path,
                caption="../report/table.rst",
                category="Tables",
                labels={"table": path.split("/")[-1]},
            )
            for path in table_files()
        ],
    log:
        "logs/make_tables/all.log",
    params:
        registry=registry_path("tables"),
        out_dir=output_dir,
        spec_digest=TABLES_DIGEST,
    conda:
        ENV
    benchmark:
        "results/benchmarks/make_tables/all.tsv"
    shell:
        "python -m avici_core tables --metrics {input.metrics} --spec {params.registry}"
        " --out-dir {params.out_dir} > {log} 2>&1"


rule make_figures:
    input:
        metrics=ALL_METRICS,
        predictions=prediction_inputs(),
        data=dataset_files(),
    output:
        [
            report(
                FIGURE.format(figure=name, ext="png"),
                caption=f"../report/{name}.rst",
                category="Figures",
                labels={"figure": name},
            )
            for name in FIGURE_NAMES
        ],
        [FIGURE.format(figure=name, ext="pdf") for name in FIGURE_NAMES],
    log:
        "logs/make_figures/all.log",
    params:
        registry=registry_path("tables"),
        out_dir=output_dir,
        predictions=prediction_root,
        data=input_root("data", 2),
        spec_digest=TABLES_DIGEST,
    conda:
        ENV
    benchmark:
        "results/benchmarks/make_figures/all.tsv"
    shell:
        "python -m avici_core figures --metrics {input.metrics} --spec {params.registry}"
        " --predictions {params.predictions} --data {params.data}"
        " --out-dir {params.out_dir} > {log} 2>&1"
