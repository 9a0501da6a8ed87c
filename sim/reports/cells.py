"""Text bound for a spreadsheet cell: neutralised where Excel or LibreOffice would run it as a formula.

A team name, an account name or a scenario's group name typed as ``=HYPERLINK(...)`` must
reach a CSV or a workbook as the text people typed, never as a live formula (CSV
injection, OWASP). Every CSV and XLSX writer passes people's text through
:func:`spreadsheet_text` (or a whole table through :func:`spreadsheet_frame`); numbers are
left alone, so a negative figure stays a number.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# What makes a spreadsheet read a cell as a formula (or, for tab and carriage return, hide its start).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are safe for a spreadsheet."""
    out = frame.rename(columns=spreadsheet_text)
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(spreadsheet_text)
    return out
