rule make_table:
    input:
        metrics=ALL_METRICS,
    output:
        **{
            ext: report(
                TABLE.replace("{ext}", ext),
                caption="../report/table_download.rst",
                category="Tables",
                subcategory="{table}",
                labels={"table": "{table}", "file": f"{ext} (download)"},
            )
            for ext in DOWNLOAD_EXTS
        },
        html=report(
            TABLE.replace("{ext}", "html"),
            caption="../report/table.rst",
            category="Tables",
            subcategory="{table}",
            labels={"table": "{table}", "file": "table"},
        ),
    log:
        "logs/make_table/{table}.log",
    benchmark:
        "results/benchmarks/make_table/{table}.tsv"
    wildcard_constraints:
        table=one_of(TABLES_SPEC["tables"]),
    conda:
        ENV
    params:
        registry=registry_path("tables"),
        out_dir=output_dir,
        caption=lambda wildcards: TABLES_SPEC["tables"][wildcards.table]["caption"],
        spec_digest=TABLES_DIGEST,
    shell:
        "python -m avici_core tables --metrics {input.metrics} --spec {params.registry}"
        " --table {wildcards.table} --out-dir {params.out_dir} > {log} 2>&1"


rule make_figures:
    input:
        metrics=ALL_METRICS,
        predictions=prediction_inputs(),
        data=dataset_files(),
    output:
        [
            report(
                FIGURE.format(figure=name, ext="png"),
                caption=figure_caption(name),
                category="Figures",
                labels={"figure": name},
            )
            for name in FIGURE_NAMES
        ],
        [FIGURE.format(figure=name, ext="pdf") for name in FIGURE_NAMES],
    log:
        "logs/make_figures/all.log",
    benchmark:
        "results/benchmarks/make_figures/all.tsv"
    conda:
        ENV
    params:
        registry=registry_path("tables"),
        out_dir=output_dir,
        predictions=prediction_root,
        data=input_root("data", 2),
        figures=" ".join(f"--figure {name}" for name in FIGURE_NAMES),
        spec_digest=TABLES_DIGEST,
    shell:
        "python -m avici_core figures --metrics {input.metrics} --spec {params.registry}"
        " --predictions {params.predictions} --data {params.data}"
        " --out-dir {params.out_dir} {params.figures} > {log} 2>&1"
