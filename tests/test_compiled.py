"""The compiled passes' decorators: cached where numba can write, and still compiled where it cannot."""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import compiled_loop, compiled_ufunc


def _without_source(code: str, name: str):
    """A function numba cannot cache (it has no source file, so no cache folder is found for it)."""
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - a fixed snippet: a function without a file
    return namespace[name]


def test_a_loop_that_cannot_be_cached_is_still_compiled():
    total = compiled_loop(
        _without_source("def total(a):\n    s = 0.0\n    for x in a:\n        s += x\n    return s\n", "total")
    )
    assert total(np.arange(5.0)) == 10.0
    assert total.signatures  # compiled, not left as Python


def test_a_ufunc_that_cannot_be_cached_is_still_a_ufunc():
    add = compiled_ufunc("float64(float64, float64)")(_without_source("def add(a, b):\n    return a + b\n", "add"))
    np.testing.assert_array_equal(add(np.ones(3), 2.0), [3.0, 3.0, 3.0])


def test_the_model_formulas_are_cached_ufuncs_that_work_on_arrays_and_numbers():
    from sim.engine.customers import balance_index, trust_sustained

    np.testing.assert_allclose(balance_index(np.array([3.0, -1.0, 0.0]), np.array([1.0, 2.0, 0.0])), [0.75, 0.0, 0.5])
    assert trust_sustained(0.5, 0.6, 0.2) == 1.0


def test_the_passes_of_the_source_tree_are_cached():
    """Beside the source, numba can write: a new process loads the passes instead of compiling them (4 s)."""
    from sim.engine.kernels import customer_pass

    assert type(customer_pass._cache).__name__ != "NullCache"
