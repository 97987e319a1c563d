"""CSV downloads of the wallet and costs reports: rows rendered with the csv module (quoting
memos and names that hold commas), served as an attachment with a descriptive file name."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from fastapi import Response

CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV with `format=csv`.",
    }
}


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """`rows` under `header` as a CSV attachment called `name` (None is an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def transactions_csv(items: Iterable[dict[str, Any]], name: str) -> Response:
    header = (
        "id",
        "created_at",
        "kind",
        "available_change",
        "held_change",
        "earnings_change",
        "hold_id",
        "memo",
    )
    return csv_response(
        name,
        header,
        (
            (
                t["id"],
                t["created_at"].isoformat(),
                t["kind"],
                t["available_change"],
                t["held_change"],
                t["earnings_change"],
                t["hold_id"],
                orjson.dumps(t["memo"]).decode() if t["memo"] else None,
            )
            for t in items
        ),
    )
