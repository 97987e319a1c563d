"""Rendering CLI results as a readable table, JSON or CSV. Rich is imported only for tables."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from gp4u.offers.fields import OUTPUT_COLUMNS


def print_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])


def print_table(
    title: str | None,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    caption: str | None = None,
) -> None:
    """`columns` are (header, justify) pairs; cells are rendered with str()."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption, box=None, header_style="bold", pad_edge=False)
    for header, justify in columns:
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    # A pipe or file gets full rows rather than rows squeezed to 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=240)
    console.print(table)


def print_page(
    page: dict[str, Any],
    as_json: bool,
    what: str,
    columns: Sequence[tuple[str, str]],
    row: Callable[[dict[str, Any]], Sequence[Any]],
) -> None:
    """A page of a list (`items`, `next_before`): as JSON, or a table whose caption says how
    to go on."""
    if as_json:
        print_json(page)
        return
    items = page["items"]
    more = f" · more: --before {page['next_before']}" if page["next_before"] else ""
    print_table(
        None,
        columns,
        [row(item) for item in items],
        caption=f"{len(items)} {what} (times UTC){more}",
    )


def money(value: float | None) -> str:
    if value is None:
        return "-"
    text = f"{value:,.4f}".rstrip("0")
    return "$" + (text + "0" if text.endswith(".") else text)


def gpu_label(item: dict[str, Any]) -> str:
    parts = [item["gpu"], item.get("gpu_variant") or "", f"{item['gpu_memory_gb']}GB"]
    return " ".join(p for p in parts if p)


def _num(value: Any) -> str | None:
    if value is None:
        return None
    return f"{value:g}" if isinstance(value, float) else str(value)


def print_offers(page: dict[str, Any], fmt: str) -> None:
    items = page["items"]
    if fmt == "json":
        print_json(page)
        return
    if fmt == "csv":
        print_csv(items, OUTPUT_COLUMNS)
        return
    simulated = any(i["source"] == "simulated" for i in items)
    caption_parts = [f"{len(items)} offers"]
    if page.get("next_cursor"):
        caption_parts.append(f"more: --cursor {page['next_cursor']}")
    if simulated:
        caption_parts.append("* simulated market (offline demo data, not live prices)")
    print_table(
        None,
        [
            ("ID", "right"),
            ("PROVIDER", "left"),
            ("GPU", "left"),
            ("N", "right"),
            ("$/GPU-H", "right"),
            ("$/H", "right"),
            ("SPOT", "left"),
            ("REGION", "left"),
            ("CC", "left"),
            ("VCPU", "right"),
            ("RAM GB", "right"),
            ("RELIAB", "right"),
        ],
        [
            (
                i["id"],
                i["provider"] + ("*" if i["source"] == "simulated" else ""),
                gpu_label(i) + ("" if i["gpu_known"] else " (?)"),
                i["gpu_count"],
                money(i["price_per_gpu_hour"]),
                money(i["price_per_hour"]),
                "spot" if i["spot"] else "",
                i["region"],
                i["country"],
                _num(i["vcpus"]),
                _num(i["memory_gb"]),
                _num(i["reliability"]),
            )
            for i in items
        ],
        caption=" · ".join(caption_parts),
    )


def print_summary(summary: dict[str, Any], fmt: str) -> None:
    items = summary["items"]
    if fmt == "json":
        print_json(summary)
        return
    columns = [
        "gpu",
        "gpu_memory_gb",
        "gpu_variant",
        "offers",
        "providers",
        "min_price_per_gpu_hour",
        "median_price_per_gpu_hour",
        "max_price_per_gpu_hour",
        "cheapest_offer_id",
        "cheapest_provider",
    ]
    if summary["by"] != "variant":
        columns.remove("gpu_variant")
    if fmt == "csv":
        print_csv(items, columns)
        return
    print_table(
        None,
        [
            ("GPU", "left"),
            ("OFFERS", "right"),
            ("PROVIDERS", "right"),
            ("MIN $/GPU-H", "right"),
            ("MEDIAN", "right"),
            ("MAX", "right"),
            ("CHEAPEST", "left"),
        ],
        [
            (
                gpu_label(i),
                i["offers"],
                i["providers"],
                money(i["min_price_per_gpu_hour"]),
                money(i["median_price_per_gpu_hour"]),
                money(i["max_price_per_gpu_hour"]),
                f"#{i['cheapest_offer_id']} {i['cheapest_provider']}",
            )
            for i in items
        ],
        caption=f"{len(items)} groups",
    )
