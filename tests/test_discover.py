"""``python -m avici_core discover``: a user's CSV in, edge probabilities, graph and figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from avici_core.__main__ import main
from avici_core.data import simulate_data


def write_table(tmp_path, n=200, d=4, seed=0):
    _, x, interv = simulate_data(d, n, n_interv=40, domain="lin-gauss", seed=seed)
    names = [f"gene_{i}" for i in range(d)]
    pd.DataFrame(x, columns=names).to_csv(tmp_path / "table.csv", index=False)
    pd.DataFrame(interv, columns=names).to_csv(tmp_path / "mask.csv", index=False)
    return names


def test_discover_writes_probabilities_graph_and_figures(tmp_path, tiny_model_dir):
    names = write_table(tmp_path)
    out = tmp_path / "out"
    rc = main(
        [
            "discover",
            str(tmp_path / "table.csv"),
            "--interventions",
            str(tmp_path / "mask.csv"),
            "--model",
            str(tiny_model_dir),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    probs = pd.read_csv(out / "edge_probabilities.csv", index_col=0)
    graph = pd.read_csv(out / "graph.csv", index_col=0)
    assert list(probs.columns) == names and list(probs.index) == names
    p = probs.to_numpy()
    assert ((p >= 0) & (p <= 1)).all() and np.all(np.diag(p) == 0)
    np.testing.assert_array_equal(graph.to_numpy(), (p > 0.5).astype(int))
    assert (out / "graph.png").stat().st_size > 0 and (out / "heatmap.png").stat().st_size > 0


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda df: df.assign(gene_1=["a"] * len(df)), "not numeric"),
        (lambda df: df.assign(gene_2=df.gene_2.where(df.index != 3)), "missing value"),
        (lambda df: df.head(5), "need at least 10"),
        (lambda df: df[["gene_0"]], "at least 2 variables"),
    ],
)
def test_discover_refuses_bad_tables_with_a_clear_message(
    tmp_path, tiny_model_dir, capsys, edit, message
):
    write_table(tmp_path)
    edit(pd.read_csv(tmp_path / "table.csv")).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "discover",
                str(tmp_path / "bad.csv"),
                "--model",
                str(tiny_model_dir),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_discover_names_a_missing_model(tmp_path, capsys):
    write_table(tmp_path)
    with pytest.raises(SystemExit):
        main(
            [
                "discover",
                str(tmp_path / "table.csv"),
                "--model",
                str(tmp_path / "nope"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert "no model" in capsys.readouterr().err
