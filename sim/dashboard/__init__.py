"""The live workshop dashboard (``procsim dashboard``); the room game is :mod:`sim.game`.

Built on solara (the stack under Mesa's SolaraViz) with one Mesa model per browser
session; see docs/workshop.md for why we do not use SolaraViz's own controller. Modules:
:mod:`.session` (a session's models and snapshots), :mod:`.phase` (the phase in plain
words), :mod:`.notice` (things to notice, from the series), :mod:`.figures` (the charts and
exports), :mod:`.labels` (plain names), :mod:`.checks` (every value the page sends, checked;
errors as messages), :mod:`.app` (the page).

An application: it may import the reports, runs, inputs and engine layers, not another
application.
"""
