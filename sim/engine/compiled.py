"""numba's two decorators as procsim uses them: compiled once, cached on disk where numba can write.

numba keeps compiled code beside the source (``__pycache__``) or in the user's cache folder.
Where neither can be written (a read-only install with no writable home), caching is
skipped rather than failing the import: the passes then compile in every new process
(a few seconds) and run as fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit, vectorize


def _cached(
    decorate: Callable[..., Callable[[Callable], Any]], *args: Any, **options: Any
) -> Callable[[Callable], Any]:
    def apply(function: Callable) -> Any:
        try:
            return decorate(*args, cache=True, **options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return decorate(*args, cache=False, **options)(function)

    return apply


def compiled_loop(function: Callable) -> Any:
    """A pass over arrays compiled to machine code (``numba.njit``), without bounds checks, releasing the GIL."""
    return _cached(njit, nogil=True, boundscheck=False)(function)


def compiled_ufunc(signature: str) -> Callable[[Callable], Any]:
    """A scalar formula as a numpy ufunc (``numba.vectorize``): arrays broadcast, compiled loops call it on numbers."""
    return _cached(vectorize, [signature])
