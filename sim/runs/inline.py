"""The sequential executor: each task runs in this process when it is submitted (``--workers 1``).

Sweeps, tipping searches and calibrations hand their work to an ``Executor``; with one worker
they get this one, so the same code runs in a pool, on Dask or here, with the same results.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future


class InlineExecutor(Executor):
    """Runs each task in this process when submitted: the sequential executor (``--workers 1``)."""

    _max_workers = 1  # as ProcessPoolExecutor says it: how many tasks run at once (sizes the batches)

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future
