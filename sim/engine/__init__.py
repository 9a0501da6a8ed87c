"""The engine: the value-exchange market as a Mesa model, and nothing else.

The model and its stages (``model``, ``market``, ``stages``, ``renewals``), the compiled
per-customer passes (``kernels``, ``compiled``), the rules they call (``capabilities``,
``customers``, ``negotiation``, ``switching``, ``network``, ``delays``), the state arrays
and parameters (``state``, ``population``, ``schedule``), named accounts and grants placed
in a market (``accounts``), the Mesa agents, the recorder (and ``series``, the names it
records), the outcome classification, the outlook and the negotiation strategies
(``strategies/``). It may import only numpy, Mesa, numba and ``sim.errors``: it knows
nothing of files, YAML, pages or the command line, and reads a scenario only through its
attributes (the type is imported for hints).
"""
