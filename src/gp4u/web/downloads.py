"""CSV downloads: rows rendered with the csv module (quoting cells that hold commas), served as
an attachment with a safe file name. Text cells that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) get a leading apostrophe; numbers never do,
and floats are written positionally (0.000001, never 1e-06)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response

CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV with `format=csv`.",
    }
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)
        return f"{value:.6f}" if "e" in text else text
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_filename(name: str) -> str:
    """`name` with anything but letters, digits, dot, dash and underscore made an underscore."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """`rows` under `header` as a CSV attachment called `name` (None is an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(cell) for cell in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe_filename(name)}"'},
    )
