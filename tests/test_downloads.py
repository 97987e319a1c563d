"""CSV downloads: formulas neutralised, numbers kept numeric and positional, safe file names."""

from __future__ import annotations

import csv
import io

from gp4u.web.downloads import csv_response, safe_filename


def rows_of(body: bytes | memoryview) -> list[list[str]]:
    return list(csv.reader(io.StringIO(bytes(body).decode())))


def test_text_that_a_spreadsheet_would_run_is_neutralised_and_numbers_are_not() -> None:
    response = csv_response(
        "x.csv",
        ("gpu", "amount"),
        [('=HYPERLINK("http://evil")', -4.0), ("@SUM(A1)", 1e-06), ("+1", None), ("H100", 2.5)],
    )
    assert rows_of(response.body) == [
        ["gpu", "amount"],
        ['\'=HYPERLINK("http://evil")', "-4.0"],
        ["'@SUM(A1)", "0.000001"],
        ["'+1", ""],
        ["H100", "2.5"],
    ]
    assert response.media_type == "text/csv; charset=utf-8"


def test_file_names_keep_only_safe_characters() -> None:
    assert safe_filename('gp4u-RTX 4090"; é-1h.csv') == "gp4u-RTX_4090____-1h.csv"
    response = csv_response('a "b".csv', ("h",), [])
    assert response.headers["content-disposition"] == 'attachment; filename="a__b_.csv"'
