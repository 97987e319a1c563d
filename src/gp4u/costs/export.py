"""The costs report as CSV: one of its tables (sessions, days, months or API keys) per file."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Response

from gp4u.web.downloads import csv_response

CostTable = Literal["sessions", "daily", "monthly", "keys"]


SESSION_COLUMNS = (
    "id",
    "gpu",
    "gpu_count",
    "provider",
    "state",
    "key_id",
    "running_at",
    "billing_end",
    "price_per_hour",
    "minutes",
    "cost",
    "window_cost",
)


def _cell(value: Any) -> Any:
    """Times as ISO 8601; everything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


def costs_csv(report: dict[str, Any], table: CostTable) -> Response:
    """One table of a `service.report` as a file named after it and the report's span."""
    span = f"{report['days']}d" if table != "monthly" else f"to-{report['month']}"
    name = f"gp4u-costs-{table}-{span}.csv"
    if table == "sessions":
        header: tuple[str, ...] = SESSION_COLUMNS
        rows: list[tuple[Any, ...]] = [
            tuple(_cell(s[column]) for column in SESSION_COLUMNS) for s in report["sessions"]
        ]
    elif table == "daily":
        header = ("date", "cost")
        rows = [(d["date"].isoformat(), d["cost"]) for d in report["daily"]]
    elif table == "monthly":
        header = ("month", "cost")
        rows = [(m["month"], m["cost"]) for m in report["monthly"]]
    else:
        header = ("key_id", "sessions", "cost")
        rows = [(k["key_id"], k["sessions"], k["cost"]) for k in report["by_key"]]
    return csv_response(name, header, rows)
