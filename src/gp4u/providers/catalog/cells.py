"""Reading CSV catalog cells: columns found by name, numbers and prices that are never NaN."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from operator import itemgetter

from gp4u.kit.money import usd_to_micros
from gp4u.providers.base import ParseReport


class Columns:
    """A CSV header: cells found by column name, whatever the column order."""

    def __init__(self, header: list[str], required: tuple[str, ...], kind: str) -> None:
        self.index = {name.strip(): i for i, name in enumerate(header)}
        self.width = len(header)
        missing = [c for c in required if c not in self.index]
        if missing:
            raise ValueError(f"not a {kind} catalog: missing column(s) {', '.join(missing)}")

    def __contains__(self, name: str) -> bool:
        return name in self.index

    def picker(self, *names: str) -> Callable[[list[str]], tuple[str, ...]]:
        """A function returning the named cells of a row, stripped; absent columns read as "".
        Rows must have the header's width (check `width` first)."""
        positions = [self.index.get(name, self.width) for name in names]  # width = the pad cell
        grab = itemgetter(*positions)

        def pick(fields: list[str]) -> tuple[str, ...]:
            fields.append("")
            cells = grab(fields)
            return tuple(map(str.strip, cells)) if len(positions) > 1 else (cells.strip(),)

        return pick


def rows(text: str) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    """The header and the non-empty data rows with their 1-based line numbers."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    return header, ((line, f) for line, f in enumerate(reader, start=2) if f)


def catalog_rows(
    text: str, required: tuple[str, ...], kind: str, names: tuple[str, ...], report: ParseReport
) -> tuple[Columns | None, Iterator[tuple[int, tuple[str, ...]]]]:
    """A catalog's header, and its rows as (line number, the named cells): each row counted in
    `report.rows_read`, a row with the wrong number of fields skipped as `malformed_row`."""
    header, data = rows(text)
    if header is None:
        return None, iter(())
    cols = Columns(header, required, kind)
    pick = cols.picker(*names)

    def well_formed() -> Iterator[tuple[int, tuple[str, ...]]]:
        for line, fields in data:
            report.rows_read += 1
            if len(fields) != cols.width:
                report.skip("malformed_row", line)
                continue
            yield line, pick(fields)

    return cols, well_formed()


def number(text: str) -> float | None:
    """A finite number, or None for an empty or unreadable cell."""
    try:
        value = float(text) if text.strip() else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def price(text: str) -> int | None:
    """Micro-USD, or None when empty; ValueError when present but not a usable price."""
    text = text.strip()
    if not text:
        return None
    micros = usd_to_micros(text)
    if micros < 0:
        raise ValueError("negative price")
    return micros
