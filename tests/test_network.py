import numpy as np

from sim.engine.network import PeerNetwork, small_world_edges


def test_small_world_graph_shape():
    rng = np.random.default_rng(1)
    edges = small_world_edges(500, 6, 0.1, rng)
    assert (edges[:, 0] < edges[:, 1]).all()  # no self loops, one orientation
    assert len(np.unique(edges, axis=0)) == len(edges)  # no duplicates
    assert 0.97 * 1500 <= len(edges) <= 1500  # n * k / 2 minus the few rewiring collisions
    lattice = small_world_edges(20, 4, 0.0, rng)
    assert len(lattice) == 40 and {tuple(e) for e in lattice[:2]} <= {(0, 1), (0, 2)}


def test_best_peer_discount_matches_a_brute_force_search():
    rng = np.random.default_rng(7)
    n = 200
    net = PeerNetwork.build(n, "small_world", 6, 0.3, rng)
    graph = net.to_networkx()
    discount = rng.uniform(0, 0.3, n)
    supplier = rng.integers(-1, 3, n)
    idx = np.sort(rng.choice(n, 80, replace=False))
    expected = [
        max([discount[j] for j in graph[i] if supplier[j] == supplier[i] and supplier[i] >= 0], default=0.0)
        for i in idx
    ]
    np.testing.assert_allclose(net.best_peer_discount(discount, supplier, idx), expected)


def test_no_network_means_no_peers():
    net = PeerNetwork.build(10, "none", 6, 0.1, np.random.default_rng(0))
    assert (net.best_peer_discount(np.ones(10), np.zeros(10, dtype=int), np.arange(10)) == 0).all()
