"""The wallet's transactions as a CSV download (memos as JSON)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import Response

from gp4u.web.downloads import csv_response


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
