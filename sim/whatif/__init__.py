"""What-ifs for strategy teams: the base and a changed market on the same seeds, in money and years.

``answer`` asks (both sides batched into ensembles by ``running``) and assembles the answer;
``reconcile`` splits what it costs you into its four parts, per year and now, and finds who
follows; ``questions`` and ``curve`` make steps, ranges and ``--find`` concrete; ``you``
gives the first supplier a group of its own; ``words`` writes the sentence and the lines
every output prints; ``table`` is the per-account comparison; ``charts``, ``page``, ``book``
and ``output`` write report.html, report.xlsx and the rest. An application: it may import
the reports, runs, inputs and engine layers, not another application.
"""
