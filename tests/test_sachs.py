"""The Sachs et al. (2005) real dataset (avici_core.data.sachs)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from avici_core.data.sachs import is_acyclic, load_sachs, parse_edges
from avici_core.dataset import check_observations, load_dataset, save_dataset, select_setting

NAMES = ["praf", "pmek", "plcg", "PIP2", "PIP3", "p44/42", "pakts473", "PKA", "PKC", "P38", "pjnk"]


def test_sachs_has_11_variables_and_the_17_edge_consensus_dag():
    ds = load_sachs()
    assert ds.n_vars == 11 and ds.meta["var_names"] == NAMES
    assert ds.g.dtype == np.int8 and int(ds.g.sum()) == 17
    assert ds.meta["is_dag"] and nx.is_directed_acyclic_graph(
        nx.from_numpy_array(ds.g, create_using=nx.DiGraph)
    )
    idx = {n: i for i, n in enumerate(NAMES)}
    for cause, effect in [("praf", "pmek"), ("pmek", "p44/42"), ("PKA", "praf"), ("plcg", "PIP2")]:
        assert ds.g[idx[cause], idx[effect]] == 1


def test_sachs_rows_are_all_observational():
    ds = load_sachs()
    assert ds.x_obs.shape == (7466, 11) and ds.x_obs.dtype == np.float64
    assert ds.x_obs[0].tolist() == [
        26.4,
        13.2,
        8.82,
        18.3,
        58.8,
        6.61,
        17.0,
        414.0,
        17.0,
        44.9,
        40.0,
    ]
    assert np.all(ds.x_obs > 0) and not ds.is_count_data
    assert ds.x_int.shape == (0, 11) and ds.mask_int.shape == (0, 11)
    x, mask = select_setting(ds, "obs")
    check_observations(x, mask)
    with pytest.raises(ValueError, match="interventional rows"):
        select_setting(ds, "int")


def test_cdt_graph_is_18_edges_with_a_cycle():
    ds = load_sachs("cdt")
    assert int(ds.g.sum()) == 18 and not ds.meta["is_dag"]
    cycles = list(nx.simple_cycles(nx.from_numpy_array(ds.g, create_using=nx.DiGraph)))
    assert [sorted(NAMES[i] for i in c) for c in cycles] == [["PIP2", "PIP3", "plcg"]]


def test_round_trip_through_the_dataset_file(tmp_path):
    ds = load_sachs()
    save_dataset(tmp_path / "sachs.npz", ds)
    back = load_dataset(tmp_path / "sachs.npz")
    np.testing.assert_array_equal(back.g, ds.g)
    np.testing.assert_array_equal(back.x_obs, ds.x_obs)
    assert back.meta == ds.meta


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="unknown Sachs graph"):
        load_sachs("bnlearn")
    with pytest.raises(ValueError, match="not in"):
        parse_edges([["Cause", "Effect"], ["praf", "Erk"]], NAMES)


def test_is_acyclic():
    assert is_acyclic(np.array([[0, 1], [0, 0]]))
    assert not is_acyclic(np.array([[0, 1], [1, 0]]))
    assert not is_acyclic(np.array([[1, 0], [0, 0]]))
