"""``python -m avici_core discover``: a user's CSV in, edge probabilities, graph and figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from avici_core.__main__ import main
from avici_core.data import simulate_data
from avici_core.model.cli_discover import _node_style


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


def run_discover(tmp_path, model_dir, table, *extra):
    return main(
        [
            "discover",
            str(table),
            "--model",
            str(model_dir),
            "--out",
            str(tmp_path / "o"),
            *map(str, extra),
        ]
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda df: df.assign(gene_1=["a"] * len(df)),
            "row 1, column 'gene_1': 'a' is not a number",
        ),
        (
            lambda df: df.assign(gene_2=df.gene_2.where(df.index != 3)),
            "row 4, column 'gene_2': 1 NaN",
        ),
        (lambda df: df.head(5), "5 row(s); at least 10 samples are needed"),
        (lambda df: df[["gene_0"]], "1 variable(s); causal discovery needs at least 2"),
        (lambda df: df.assign(gene_3=7.0), "constant column(s) ['gene_3']"),
        (lambda df: df.head(0), "a header but no data rows"),
    ],
)
def test_discover_refuses_bad_tables_with_a_clear_message(
    tmp_path, tiny_model_dir, capsys, edit, message
):
    write_table(tmp_path)
    edit(pd.read_csv(tmp_path / "table.csv")).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        run_discover(tmp_path, tiny_model_dir, tmp_path / "bad.csv")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "bad.csv" in err


def test_discover_refuses_an_empty_file_and_a_mask_of_the_wrong_width(
    tmp_path, tiny_model_dir, capsys
):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SystemExit):
        run_discover(tmp_path, tiny_model_dir, tmp_path / "empty.csv")
    assert "empty.csv: the file is empty" in capsys.readouterr().err
    write_table(tmp_path)
    pd.read_csv(tmp_path / "mask.csv").iloc[:, :3].to_csv(tmp_path / "narrow.csv", index=False)
    with pytest.raises(SystemExit):
        run_discover(
            tmp_path,
            tiny_model_dir,
            tmp_path / "table.csv",
            "--interventions",
            tmp_path / "narrow.csv",
        )
    assert "narrow.csv: the mask must have the data's header" in capsys.readouterr().err


def test_discover_reads_headerless_and_semicolon_tables(tmp_path, tiny_model_dir, caplog):
    write_table(tmp_path)
    df = pd.read_csv(tmp_path / "table.csv")
    df.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    assert run_discover(tmp_path, tiny_model_dir, tmp_path / "semi.csv") == 0
    semi = pd.read_csv(tmp_path / "o" / "edge_probabilities.csv", index_col=0)
    assert list(semi.columns) == list(df.columns)
    df.to_csv(tmp_path / "bare.csv", index=False, header=False)
    assert run_discover(tmp_path, tiny_model_dir, tmp_path / "bare.csv") == 0
    bare = pd.read_csv(tmp_path / "o" / "edge_probabilities.csv", index_col=0)
    assert list(bare.columns) == ["X1", "X2", "X3", "X4"]
    assert "read as data" in caplog.text
    np.testing.assert_allclose(bare.to_numpy(), semi.to_numpy(), atol=1e-6)


def test_discover_top_k_and_max_rows(tmp_path, tiny_model_dir):
    write_table(tmp_path)
    assert run_discover(tmp_path, tiny_model_dir, tmp_path / "table.csv", "--top-k", "3") == 0
    probs = pd.read_csv(tmp_path / "o" / "edge_probabilities.csv", index_col=0).to_numpy()
    graph = pd.read_csv(tmp_path / "o" / "graph.csv", index_col=0).to_numpy()
    assert (
        graph.sum() == 3
        and probs[graph == 1].min() >= probs[(graph == 0) & ~np.eye(4, dtype=bool)].max()
    )
    assert run_discover(tmp_path, tiny_model_dir, tmp_path / "table.csv", "--max-rows", "50") == 0


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


@pytest.mark.parametrize("longest", [1, 4, 8, 12, 40])
def test_node_circles_hold_their_names(longest):
    """A name's width (about 0.6 em a character) fits its circle; the font never drops below 5 pt."""
    font_size, node_size = _node_style(longest)
    assert 5.0 <= font_size <= 8.0
    assert 0.6 * font_size * longest <= node_size**0.5
    assert node_size >= 900  # short names keep the usual circle
