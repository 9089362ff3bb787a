"""Module extraction from the shipped E. coli / yeast networks (avici_core.data.networks)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from avici_core.data.networks import (
    ECOLI_FILE,
    YEAST_FILE,
    Ecoli,
    Yeast,
    break_cycles,
    extract_module,
    load_network,
    modularity_gain,
    network_from_edges,
)


def _digraph(g: np.ndarray) -> nx.DiGraph:
    return nx.from_numpy_array(g, create_using=nx.DiGraph)


@pytest.mark.parametrize(
    ("filename", "n_genes", "n_edges"), [(ECOLI_FILE, 1565, 3758), (YEAST_FILE, 4441, 12873)]
)
def test_shipped_networks_have_published_sizes(filename, n_genes, n_edges):
    net = load_network(filename)
    assert len(net.genes) == n_genes
    assert net.adj.nnz == n_edges
    assert (net.und != net.und.T).nnz == 0 and net.und.diagonal().sum() == 0


@pytest.mark.parametrize("model", [Ecoli(), Yeast(), Ecoli(topk=1.0), Yeast(topk=0.05)])
@pytest.mark.parametrize("n_vars", [2, 7, 30])
def test_module_is_connected_acyclic_and_of_requested_size(model, n_vars):
    g = model(np.random.default_rng(n_vars), n_vars)
    assert g.shape == (n_vars, n_vars) and g.dtype == np.int8
    assert set(np.unique(g)) <= {0, 1} and not np.diag(g).any()
    dg = _digraph(g)
    assert nx.is_directed_acyclic_graph(dg)
    assert nx.is_weakly_connected(dg)
    assert (g.sum(axis=1) > 0).sum() >= model.at_least_n_regulators


def test_module_edges_are_network_edges():
    net = load_network(ECOLI_FILE)
    nodes = extract_module(np.random.default_rng(3), net, 25, topk=0.2)
    sub = net.adj[nodes][:, nodes].toarray()
    g = break_cycles(np.random.default_rng(4), sub)
    assert np.all(g <= sub) and nx.is_weakly_connected(_digraph(g))


def test_same_seed_same_graph_and_seeds_differ():
    a = Yeast()(np.random.default_rng(11), 20)
    b = Yeast()(np.random.default_rng(11), 20)
    c = Yeast()(np.random.default_rng(12), 20)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_modularity_gain_matches_dense_formula():
    rng = np.random.default_rng(0)
    n = 12
    a = np.triu(rng.random((n, n)) < 0.3, 1)
    a[0, 1:] = True  # connected
    rows, cols = np.nonzero(a)
    net = network_from_edges(tuple(map(str, range(n))), rows, cols)
    und = net.und.toarray()
    k = und.sum(axis=1)
    m = k.sum() / 2
    b_mat = und - np.outer(k, k) / (2 * m)

    def q(in_mod):
        s = np.where(in_mod, 1.0, -1.0)
        return s @ b_mat @ s / (4 * m)

    in_module = np.zeros(n, bool)
    in_module[[0, 3, 5]] = True
    gain = modularity_gain(net, in_module)
    for v in np.flatnonzero(~in_module):
        grown = in_module.copy()
        grown[v] = True
        assert gain[v] == pytest.approx(q(grown) - q(in_module), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_extraction_recovers_a_clique(seed):
    """Two 5-cliques joined by one edge: the top-1 module of size 5 is exactly one clique."""
    a = np.triu(np.ones((10, 10), bool), 1)
    a[:5, 5:] = False
    a[4, 5] = True  # the bridge
    rows, cols = np.nonzero(a)
    net = network_from_edges(tuple(map(str, range(10))), rows, cols)
    nodes = extract_module(np.random.default_rng(seed), net, 5, topk=1e-9)
    assert nodes.tolist() in ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])


def test_break_cycles_keeps_a_weakly_connected_dag():
    rng = np.random.default_rng(1)
    for _ in range(20):
        g = (rng.random((9, 9)) < 0.35).astype(np.int8)
        g[np.arange(8), np.arange(1, 9)] = 1  # a path keeps it weakly connected
        out = break_cycles(rng, g)
        dg = _digraph(out)
        assert nx.is_directed_acyclic_graph(dg) and nx.is_weakly_connected(dg)
        assert np.all(out <= g) and not np.diag(out).any()


def test_impossible_sizes_and_bad_arguments_raise():
    with pytest.raises(ValueError, match="connected component"):
        Ecoli()(np.random.default_rng(0), 1478)  # the largest E. coli component has 1477 genes
    with pytest.raises(ValueError, match="connected component"):
        Yeast().check(4442)
    with pytest.raises(ValueError, match="n_vars"):
        Ecoli().check(0)
    with pytest.raises(ValueError, match="topk"):
        Ecoli(topk=0.0)
    with pytest.raises(ValueError, match="regulators"):
        Ecoli(at_least_n_regulators=50)(np.random.default_rng(0), 5, max_tries=3)
