"""Runs: a scenario simulated for one seed, for replicates, or as one ensemble of many markets.

``runner`` builds the model, steps it, summarises and classifies it, projects its outlook
and runs the no-discount counterfactual; it returns results and writes nothing.
``resources`` estimates memory, disk and time before work starts; ``signals`` turns
SIGTERM into a clean stop; ``inline`` is the sequential executor (one worker) that sweeps
and calibrations share. It may import the engine, the inputs and ``sim.errors``;
writing a result is the caller's choice (``sim.reports.run_folder``, ``sim.api``).
"""
