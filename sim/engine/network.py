"""The customers' peer network and the price parity it spreads.

Customers who are connected learn each other's net prices; a discount one of them gets
from a supplier becomes a parity demand for the others buying from that supplier (source
S2 in docs/sources.md: customers compare notes and want rough parity).
The graph is a Watts-Strogatz small world generated with numpy from the model's RNG,
because networkx's generator dominated construction time at 20,000 customers; the
``networkx`` view is built on demand for inspection and plotting.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.engine.kernels import best_peer_discount_pass, peer_table_pass


def small_world_edges(n: int, degree: int, rewire: float, rng: np.random.Generator) -> np.ndarray:
    """Undirected edges (E, 2) of a ring lattice with ``degree`` neighbours, rewired with probability ``rewire``.

    Follows Watts & Strogatz (1998): each lattice edge (i, i+j) keeps i and, with
    probability ``rewire``, moves its other end to a node drawn uniformly; self-loops and
    duplicate edges created by rewiring are dropped, as networkx does by redrawing.
    """
    half = max(1, min(degree // 2, (n - 1) // 2))
    if n < 3:
        return np.array([[0, 1]], dtype=np.int64) if n == 2 else np.empty((0, 2), dtype=np.int64)
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    moved = rng.random(src.size) < rewire
    dst = dst.copy()
    dst[moved] = rng.integers(0, n, moved.sum())
    keep = src != dst
    low, high = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    codes = sorted_unique(low * n + high)  # one integer per undirected edge: dedupe and sort in one pass
    return np.stack([codes // n, codes % n], axis=1)


def sorted_unique(codes: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting (numpy 2's hash-based ``unique`` costs ten times as much here)."""
    codes = np.sort(codes)
    keep = np.empty(codes.size, dtype=bool)
    keep[:1] = True
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


def union_edges(n: int, edges: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Undirected edges of both lists, each once, sorted as ``small_world_edges`` returns them."""
    both = np.concatenate([edges, np.asarray(extra, dtype=np.int64).reshape(-1, 2)])
    low, high = both.min(axis=1), both.max(axis=1)
    keep = low != high
    codes = sorted_unique(low[keep] * n + high[keep])
    return np.stack([codes // n, codes % n], axis=1)


class PeerNetwork:
    """Each customer's peers as a padded (N, max degree) table, for compiled neighbour maxima."""

    def __init__(self, n: int, edges: np.ndarray, table: bool = True):
        self.n = n
        self.edges = edges
        # by_customer[i, j] is customer i's j-th peer (in edge order), or n (a sentinel with no
        # supplier) past its degree.
        self.by_customer = np.empty((n, 0), dtype=np.int32)
        if table and edges.size:
            src = np.concatenate([edges[:, 0], edges[:, 1]])
            dst = np.concatenate([edges[:, 1], edges[:, 0]])
            self.by_customer = np.full((n, int(np.bincount(dst, minlength=n).max())), n, dtype=np.int32)
            peer_table_pass(src, dst, self.by_customer)

    @property
    def peers(self) -> np.ndarray:
        """The table as (max degree, N): ``peers[j, i]`` is customer i's j-th peer, or N past its degree."""
        return self.by_customer.T

    @classmethod
    def build(
        cls,
        n: int,
        kind: str,
        degree: int,
        rewire: float,
        rng: np.random.Generator,
        extra: np.ndarray | None = None,
        table: bool = True,
    ) -> PeerNetwork:
        """The drawn network of ``kind``, plus ``extra`` undirected edges (named accounts' peers).

        ``table=False`` keeps the edges only (a market of an ensemble, whose table is the ensemble's).
        """
        if kind == "none" or n < 2:
            edges = np.empty((0, 2), dtype=np.int64)
        else:
            edges = small_world_edges(n, degree, rewire, rng)
        if extra is not None and len(extra):
            edges = union_edges(n, edges, extra)
        return cls(n, edges, table)

    @classmethod
    def merge(cls, networks: list[PeerNetwork]) -> PeerNetwork:
        """Several markets' networks as one (an ensemble): customers numbered market after market, no links between markets."""
        if len(networks) == 1 and (networks[0].peers.size or not networks[0].edges.size):
            return networks[0]
        offsets = np.cumsum([0] + [net.n for net in networks[:-1]])
        edges = np.concatenate([net.edges + offset for net, offset in zip(networks, offsets, strict=True)])
        return cls(sum(net.n for net in networks), edges.reshape(-1, 2))

    def best_peer_discount(self, discount: np.ndarray, supplier: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """For customers ``idx``, the largest discount a peer gets from the same supplier (0 if none)."""
        best = np.zeros(len(idx))
        if self.peers.size and idx.size:
            best_peer_discount_pass(self.by_customer, discount, supplier, idx, best)
        return best

    def to_networkx(self) -> nx.Graph:
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n))
        graph.add_edges_from(map(tuple, self.edges.tolist()))
        return graph
