"""The live workshop dashboard (``procsim dashboard``); the room game is :mod:`sim.game`.

Built on solara (the stack under Mesa's SolaraViz) with one Mesa model per browser
session; see docs/workshop.md for why we do not use SolaraViz's own controller.

An application: it may import the reports, runs, inputs and engine layers, not another
application.
"""
