"""``python -m sim`` is the same as the ``procsim`` command."""

from sim.cli import run

run()
