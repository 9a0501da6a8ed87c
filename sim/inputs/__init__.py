"""Inputs: what people write (scenario YAML, ``--set`` overrides, account lists, grants), checked.

``values`` (numbers, percentages, amounts and names as people type them), ``schema``
(the scenario's sections as pydantic models), ``validation`` (pydantic's errors as one
plain message per field), ``overrides`` (dotted ``--set`` paths), ``loading`` (files,
bundled names, ``extends:``), ``accounts`` (CSV/XLSX account lists), ``grants``
(``--grant``), ``yamlio`` (the guarded YAML reader) and ``schema_doc`` (docs/scenarios.md).
It may import the engine (the strategy registry, capability names, schedules) and
``sim.errors``; nothing here runs a model or writes a file.
"""
