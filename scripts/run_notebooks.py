"""Run every notebook top to bottom in its own folder and save it with its outputs (what is committed).

    python scripts/run_notebooks.py            # all of notebooks/*.ipynb
    python scripts/run_notebooks.py notebooks/03_sweep_analysis.ipynb

Files a notebook writes go to notebooks/output/ (not committed), where a reader who runs
it finds them too. Kernel metadata is kept as it is, so a re-run changes only outputs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbclient
import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    nbclient.NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    if errors:
        raise SystemExit(f"{path.name}: {errors[0].ename}: {errors[0].evalue}")
    nbformat.write(book, path)
    print(f"{path.name}: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(str(p) for p in NOTEBOOKS.glob("*.ipynb")):
        run(Path(name).resolve())
