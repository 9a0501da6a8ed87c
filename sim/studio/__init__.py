"""The what-if studio: strategy teams ask what a concession costs them in a browser, without the command line.

``server`` is the page's HTTP server (starlette on uvicorn, as the game's) and its JSON
API; ``forms`` turns the page's fields into the overrides and ``--grant`` text the command
line reads; ``workspace`` keeps uploads and recent answers; ``static/`` holds the page, its
script and styles. It sits above the applications (layer 6 beside ``sim.api``) because it
serves what-ifs: it may import ``sim.whatif`` and every layer below (``sim.game`` for the
security headers its pages share), never ``sim.api`` or ``sim.cli``.
"""
