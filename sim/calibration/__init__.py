"""Calibration: fit a scenario's parameters to what was observed, and answer over the posterior.

``observed`` reads the observed series people have (CSV or XLSX, a time column and any
of the model's per-period series); ``spec`` checks what to fit (``--fit PATH=LOW..HIGH``)
against the scenario; ``summaries`` turns runs into the statistics and distance that ABC
compares; ``sampler`` batches pyabc's proposals into ensembles on any executor and keeps
each batch for ``--resume``; ``inference`` runs pyabc's ABC-SMC; ``results`` summarises
the posterior and its fit; ``page`` and ``output`` write the folder; ``posterior`` draws
per-replicate scenarios from a finished calibration for ``run``, ``compare`` and ``whatif``.

An application: it may import the reports, runs, inputs and engine layers, not another
application. pyabc (the ``calibration`` extra) is imported only where inference runs.
"""
