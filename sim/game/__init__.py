"""The room game (``procsim game``): tables of two teams, each on its own devices, and a facilitator.

Modules, from the rules up: :mod:`.codes` (session codes and secrets), :mod:`.table` (one
table's market and moves), :mod:`.bots` (styles and strategies for empty seats),
:mod:`.settings` (the facilitator's settings and input checks), :mod:`.seats` (seats,
devices, approvals), :mod:`.session` (rounds, timer, practice round, undo, what is saved),
:mod:`.store` (one SQLite file per game), :mod:`.registry` (the rooms, resumed from the data
folder), :mod:`.briefing` (briefings, move sentences, the round's story), :mod:`.views`
(what each role is sent), :mod:`.debrief` (the room's debrief and exports), :mod:`.web`
(headers, bounded bodies, errors, cookies), :mod:`.server` (the HTTP API and pages),
:mod:`.serve` (starting and stopping), :mod:`.qr` (QR codes). The design is in
docs/workshop.md.

An application: it may import the reports (its charts are :mod:`sim.reports.svg`, its CSV
text goes through :mod:`sim.reports.cells`), runs, inputs and engine layers, not another
application.
"""
