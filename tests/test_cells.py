"""Text people typed never reaches a spreadsheet as a live formula."""

import pandas as pd
import pytest

from sim.reports.cells import spreadsheet_frame, spreadsheet_text


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"])
def test_formula_like_text_is_neutralised(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("value", ["ACME Industries", "Table 1", "", -5, 3.2, None, "a=b"])
def test_other_values_are_left_as_they_are(value):
    assert spreadsheet_text(value) == value


def test_a_frame_keeps_its_numbers_and_neutralises_its_text():
    frame = pd.DataFrame({"team": ["=cmd|' /C calc'!A0", "Blue"], "profit": [-1.5, 2.0], "=name": [1, 2]})
    safe = spreadsheet_frame(frame)
    assert safe["team"].tolist() == ["'=cmd|' /C calc'!A0", "Blue"]
    assert safe["profit"].tolist() == [-1.5, 2.0]
    assert list(safe.columns) == ["team", "profit", "'=name"]
    assert frame["team"][0].startswith("=")  # the original is untouched
