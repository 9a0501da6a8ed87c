"""``python -m sim`` is the same as the ``procsim`` command."""

from .cli import run

run()
