"""The room game (``procsim game``): tables of two teams, each on its own devices, and a facilitator.

Modules: :mod:`.codes` (session codes and secrets), :mod:`.table` (one table's market and
moves), :mod:`.session` (a session's tables, rounds and timer; the registry),
:mod:`.views` (what each role is sent), :mod:`.debrief` (the room's debrief and exports),
:mod:`.server` (the HTTP API and pages), :mod:`.qr` (QR codes). The design is in
docs/workshop.md.

An application: it may import the reports (its charts are :mod:`sim.reports.svg`), runs,
inputs and engine layers, not another application.
"""
